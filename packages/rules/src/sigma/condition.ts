// The Sigma condition language: identifiers, and / or / not, parentheses, and the quantifiers
// `1 of pattern*`, `all of pattern*`, `N of ...`, `... of them`. Precedence: not > and > or.
import { SigmaRuleError } from "./errors.ts";

export type Condition =
  | { kind: "and" | "or"; left: Condition; right: Condition }
  | { kind: "not"; inner: Condition }
  | { kind: "id"; name: string }
  | { kind: "of"; count: number | "all"; pattern: string };

export function parseCondition(text: string, file?: string): Condition {
  if (text.includes("|")) {
    throw new SigmaRuleError(`condition "${text}": aggregation expressions (| count() ...) are not supported`, file);
  }
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const fail = (expected: string): never => {
    const found = tokens[i] === undefined ? "the end" : `"${tokens[i]}"`;
    throw new SigmaRuleError(`condition "${text}": expected ${expected}, found ${found}`, file);
  };
  const peek = () => tokens[i]?.toLowerCase();

  const parseOr = (): Condition => {
    let left = parseAnd();
    while (peek() === "or") {
      i++;
      left = { kind: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Condition => {
    let left = parseNot();
    while (peek() === "and") {
      i++;
      left = { kind: "and", left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): Condition => {
    if (peek() === "not") {
      i++;
      return { kind: "not", inner: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Condition => {
    const t = tokens[i];
    if (t === undefined) return fail("a search identifier");
    if (t === "(") {
      i++;
      const inner = parseOr();
      if (tokens[i] !== ")") fail('")"');
      i++;
      return inner;
    }
    const lower = t.toLowerCase();
    if (tokens[i + 1]?.toLowerCase() === "of" && (lower === "all" || /^\d+$/.test(lower))) {
      const target = tokens[i + 2];
      if (target === undefined || target === "(" || target === ")") {
        i += 2;
        return fail('a search identifier pattern or "them" after "of"');
      }
      i += 3;
      return { kind: "of", count: lower === "all" ? "all" : Number(lower), pattern: target };
    }
    if (["and", "or", "not", "of", ")"].includes(lower)) return fail("a search identifier");
    i++;
    return { kind: "id", name: t };
  };

  const cond = parseOr();
  if (i < tokens.length) fail('"and", "or" or the end of the condition');
  return cond;
}

/** The identifiers an `of` pattern covers: `them` is every identifier not starting with `_`. */
export function expandOf(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern.toLowerCase() === "them") return identifiers.filter((n) => !n.startsWith("_"));
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return identifiers.filter((n) => re.test(n));
}
