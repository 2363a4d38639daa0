#!/usr/bin/env bash
# The pipeline-latency bench in alternating pairs: this checkout and another (for example main before
# a change, in a worktree with its dependencies installed), PAIRS times each, the order swapped every
# pair. The latency tail moves with whatever else the cores run, so a change is judged on pairs run
# side by side, not on single runs. Prints each run's steady-state lines; the full outputs stay in
# $TMPDIR/pipeline-latency-pairs.*.
#   eval "$(deploy/local/stack env)"; bench/pipeline-latency-pairs.sh OTHER_CHECKOUT [PAIRS=3] [SECONDS=60] [RATE=5000]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
other="$(cd "${1:?usage: bench/pipeline-latency-pairs.sh OTHER_CHECKOUT [PAIRS] [SECONDS] [RATE]}" && pwd)"
pairs="${2:-3}" seconds="${3:-60}" rate="${4:-5000}"
out="$(mktemp -d "${TMPDIR:-/tmp}/pipeline-latency-pairs.XXXXXX")"
echo "this: $here ($(git -C "$here" rev-parse --short HEAD)); other: $other ($(git -C "$other" rev-parse --short HEAD)); outputs in $out"
for pair in $(seq 1 "$pairs"); do
  order=("$here" "$other")
  if ((pair % 2 == 0)); then order=("$other" "$here"); fi
  for dir in "${order[@]}"; do
    name=this
    [[ "$dir" == "$here" ]] || name=other
    log="$out/$pair-$name.log"
    (cd "$dir" && node bench/pipeline-latency.ts --rate "$rate" --seconds "$seconds" >"$log" 2>&1)
    echo "pair $pair, $name:"
    grep -E '^steady state|^  (put|ingester receipt)|^    |^cores used|^  enricher' "$log" | sed 's/^/  /'
  done
done
