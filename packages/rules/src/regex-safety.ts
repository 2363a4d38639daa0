// JavaScript's regular expressions backtrack: `^(a+)+$` or `a*a*a*b` takes seconds or years on a
// string an attacker controls (a userAgent), and a match cannot be interrupted. So a rule's regular
// expression is checked when the rule loads, and refused when its shape can backtrack without
// bound: a repeated group that itself repeats or alternates (`(a+)+`, `(a|ab)*`), or two unbounded
// repeats in a row that can match the same character (`a*a*`, `.*\d+`). Linear-time shapes
// (`.*foo.*`, `\d+\.\d+`, `[a-z]+[0-9]+`) pass. The check is conservative: it may refuse a safe
// expression, never the other way round for these shapes; the RuleSet's time budget backs it up.

interface Atom {
  /** The atom's source, for the overlap test. */
  source: string;
  group: boolean;
  /** For a group: whether it contains an unbounded repeat or an alternation. */
  risky: boolean;
  unbounded: boolean;
}

/** Why the expression can backtrack without bound, or null when it cannot in the shapes above. */
export function backtrackingRisk(source: string, flags = ""): string | null {
  try {
    const { risk } = scan(source, 0, flags);
    return risk;
  } catch {
    return null; // not ours to judge: the RegExp constructor reports syntax errors
  }
}

function scan(src: string, start: number, flags: string): { end: number; risk: string | null; inner: boolean } {
  let i = start;
  let previous: Atom | null = null;
  let inner = false;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ")") return { end: i, risk: null, inner };
    if (c === "|") {
      inner = true;
      previous = null;
      i++;
      continue;
    }
    if (c === "^" || c === "$") {
      previous = null;
      i++;
      continue;
    }
    let atom: Atom;
    if (c === "(") {
      let bodyStart = i + 1;
      if (src[bodyStart] === "?") {
        // (?:  (?=  (?!  (?<=  (?<!  (?<name>
        const m = /^\?(?::|=|!|<=|<!|<[^>]*>)/.exec(src.slice(bodyStart));
        bodyStart += m ? m[0].length : 1;
      }
      const body = scan(src, bodyStart, flags);
      if (body.risk) return body;
      atom = { source: src.slice(i, body.end + 1), group: true, risky: body.inner, unbounded: false };
      i = body.end + 1;
    } else if (c === "[") {
      let j = i + 1;
      if (src[j] === "^") j++;
      if (src[j] === "]") j++;
      while (j < src.length && src[j] !== "]") j += src[j] === "\\" ? 2 : 1;
      atom = { source: src.slice(i, j + 1), group: false, risky: false, unbounded: false };
      i = j + 1;
    } else if (c === "\\") {
      atom = { source: src.slice(i, i + 2), group: false, risky: false, unbounded: false };
      i += 2;
    } else {
      atom = { source: c, group: false, risky: false, unbounded: false };
      i++;
    }
    const q = /^(?:[*+]|\{\d+,(\d*)\})\??/.exec(src.slice(i)) ?? /^(?:\?|\{\d+\})\??/.exec(src.slice(i));
    if (q) {
      i += q[0].length;
      const open =
        q[0][0] === "*" ||
        q[0][0] === "+" ||
        (q[0].startsWith("{") && q[0].includes(",") && (q[1] === "" || Number(q[1]) > 16));
      atom.unbounded = open;
      if (open) {
        inner = true;
        if (atom.group && atom.risky)
          return {
            end: i,
            risk: `the repeated group ${atom.source} repeats or alternates inside (nested repetition)`,
            inner,
          };
        if (previous?.unbounded && overlaps(previous, atom, flags))
          return {
            end: i,
            risk: `${previous.source} and ${atom.source} repeat one after the other and can match the same characters`,
            inner,
          };
      }
    }
    previous = atom;
  }
  return { end: i, risk: null, inner };
}

const SAMPLES = [...Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)), "é", "\u2028", "😀"];

function overlaps(a: Atom, b: Atom, flags: string): boolean {
  if (a.group || b.group) return true;
  const f = flags.replace(/[gy]/g, "");
  try {
    const ra = new RegExp(`^(?:${a.source})$`, `${f}u`.replace(/u(?=.*u)/, ""));
    const rb = new RegExp(`^(?:${b.source})$`, `${f}u`.replace(/u(?=.*u)/, ""));
    return SAMPLES.some((s) => ra.test(s) && rb.test(s));
  } catch {
    return true;
  }
}
