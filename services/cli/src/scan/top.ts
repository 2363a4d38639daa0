// The most frequent names in a stream in bounded memory. Up to twice `capacity` names are counted;
// when the table fills, only the `capacity` most counted stay. A name that is frequent overall is
// counted from early on and stays; a rare name can only lose the few counts it had. So the top ten
// of a report are exact unless more than `capacity` names compete closely, and memory is bounded
// whatever the input holds (300,000 distinct 600-byte eventNames once held 230 MB here).

/** Names longer than this are cut: a report line, not a copy of the input. */
const MAX_NAME = 256;

export class TopCounter {
  readonly #capacity: number;
  #counts = new Map<string, number>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(raw: string): void {
    const name = raw.length > MAX_NAME ? `${raw.slice(0, MAX_NAME)}…` : raw;
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
    if (this.#counts.size >= 2 * this.#capacity) this.#prune();
  }

  #prune(): void {
    this.#counts = new Map([...this.#counts].sort((a, b) => b[1] - a[1]).slice(0, this.#capacity));
  }

  top(n: number): Array<{ name: string; count: number }> {
    return [...this.#counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([name, count]) => ({ name, count }));
  }
}
