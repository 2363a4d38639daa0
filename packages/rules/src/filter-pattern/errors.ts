/** A filter pattern that CloudWatch Logs would reject; `position` is a 0-based offset into the pattern. */
export class FilterPatternSyntaxError extends Error {
  override readonly name = "FilterPatternSyntaxError";
  readonly position: number;
  readonly expected: string;
  readonly found: string;

  constructor(position: number, expected: string, found: string) {
    super(`filter pattern: at position ${position}: expected ${expected}, found ${found}`);
    this.position = position;
    this.expected = expected;
    this.found = found;
  }
}
