// Character-level scanning shared by the three pattern forms. The parser drives it because what a
// run of characters means depends on where it appears: `a.b` is a selector step after `$` and a bare
// value (bare values may contain dots) after an operator.
import type { Op, Selector, Step } from "./ast.ts";
import { FilterPatternSyntaxError } from "./errors.ts";
import { checkRegex } from "./regex.ts";

const NAME_CHAR = /[A-Za-z0-9_\-@:]/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isNumberText(text: string): boolean {
  return NUMBER.test(text);
}

export class Scanner {
  readonly src: string;
  pos = 0;
  regexCount = 0;

  constructor(src: string) {
    this.src = src;
  }

  eof(): boolean {
    return this.pos >= this.src.length;
  }

  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? "";
  }

  startsWith(text: string): boolean {
    return this.src.startsWith(text, this.pos);
  }

  ws(): void {
    while (!this.eof() && /\s/.test(this.peek())) this.pos++;
  }

  /** What is at the cursor, for error messages. */
  found(): string {
    const rest = this.src.slice(this.pos).trimStart().split(/\s/)[0] ?? "";
    if (rest === "") return "the end of the pattern";
    return `"${rest.length > 20 ? `${rest.slice(0, 20)}...` : rest}"`;
  }

  fail(expected: string, at = this.pos): never {
    const saved = this.pos;
    this.pos = at;
    const found = this.found();
    this.pos = saved;
    throw new FilterPatternSyntaxError(at, expected, found);
  }

  expect(text: string, expected = `"${text}"`): void {
    this.ws();
    if (!this.startsWith(text)) this.fail(expected);
    this.pos += text.length;
  }

  /** A double-quoted string; `\"` and `\\` are the only escapes, as in CloudWatch Logs. */
  quoted(): string {
    const start = this.pos;
    this.pos++;
    let out = "";
    while (!this.eof()) {
      const c = this.peek();
      if (c === "\\" && (this.peek(1) === '"' || this.peek(1) === "\\")) {
        out += this.peek(1);
        this.pos += 2;
        continue;
      }
      if (c === '"') {
        this.pos++;
        return out;
      }
      out += c;
      this.pos++;
    }
    return this.fail('a closing " for the string that starts here', start);
  }

  /** `%regex%`: the body, checked against the subset CloudWatch Logs accepts. */
  regex(): string {
    const start = this.pos;
    const end = this.src.indexOf("%", this.pos + 1);
    if (end < 0) this.fail("a closing % for the regular expression that starts here", start);
    const body = this.src.slice(this.pos + 1, end);
    checkRegex(body, start + 1);
    this.regexCount++;
    if (this.regexCount > 2) this.fail("at most 2 regular expressions in one pattern", start);
    this.pos = end + 1;
    return body;
  }

  /** A bare value: runs to whitespace, one of `stops`, `&&` or `||`. */
  bare(stops: string): string {
    const start = this.pos;
    while (!this.eof()) {
      const c = this.peek();
      if (/\s/.test(c) || stops.includes(c) || this.startsWith("&&") || this.startsWith("||")) break;
      this.pos++;
    }
    return this.src.slice(start, this.pos);
  }

  /** A comparison operator, or undefined when there is none at the cursor. */
  op(): Op | undefined {
    for (const op of ["!=", "<=", ">=", "=", "<", ">"] as const) {
      if (this.startsWith(op)) {
        this.pos += op.length;
        return op;
      }
    }
    return undefined;
  }

  /** `$.a.b[0][*].*.['key.with.dots']`: CloudWatch Logs' property selector. */
  selector(): Selector {
    const start = this.pos;
    if (this.peek() !== "$") this.fail("a property selector starting with $");
    this.pos++;
    const steps: Step[] = [];
    let wildcard = false;
    for (;;) {
      const c = this.peek();
      if (c === "." && this.peek(1) === "[") {
        this.pos++;
        continue;
      }
      if (c === ".") {
        this.pos++;
        if (this.peek() === "*") {
          this.pos++;
          steps.push({ kind: "any" });
          wildcard = true;
          continue;
        }
        const nameStart = this.pos;
        while (!this.eof() && NAME_CHAR.test(this.peek())) this.pos++;
        if (this.pos === nameStart) this.fail("a property name after .");
        steps.push({ kind: "key", key: this.src.slice(nameStart, this.pos) });
        continue;
      }
      if (c === "[") {
        this.pos++;
        const q = this.peek();
        if (q === "'" || q === '"') {
          const end = this.src.indexOf(q, this.pos + 1);
          if (end < 0) this.fail(`a closing ${q} for the quoted property name`);
          steps.push({ kind: "key", key: this.src.slice(this.pos + 1, end) });
          this.pos = end + 1;
        } else if (q === "*") {
          this.pos++;
          steps.push({ kind: "any" });
          wildcard = true;
        } else {
          const numStart = this.pos;
          while (/[0-9]/.test(this.peek())) this.pos++;
          if (this.pos === numStart) this.fail("an array index, * or a quoted property name after [");
          steps.push({ kind: "index", index: Number(this.src.slice(numStart, this.pos)) });
        }
        if (this.peek() !== "]") this.fail('"]"');
        this.pos++;
        continue;
      }
      break;
    }
    if (steps.length === 0) this.fail("a property after $ (for example $.eventName)", this.pos);
    return { text: this.src.slice(start, this.pos), steps, wildcard, position: start };
  }
}
