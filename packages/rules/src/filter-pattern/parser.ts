// Recursive-descent parser for the three filter-pattern forms of CloudWatch Logs:
//   { JSON expression }        selectors, comparisons, IS TRUE/FALSE/NULL, NOT EXISTS, && || ( )
//   [space-delimited fields]   names, `...`, and conditions on the named fields
//   terms                      words, "quoted phrases", -excluded, ?alternatives, %regex%
// `&&` binds tighter than `||`, as AWS documents: `a || b && c` is `a || (b && c)`.
import type { DelimitedCondition, DelimitedField, JsonExpr, Pattern, Term, Value } from "./ast.ts";
import { isNumberText, Scanner } from "./lexer.ts";

/** CloudWatch Logs' own limit on a filter pattern; it also bounds how deep parentheses can nest. */
export const MAX_PATTERN_LENGTH = 1024;

export function parseFilterPattern(pattern: string): Pattern {
  const s = new Scanner(pattern);
  if (pattern.length > MAX_PATTERN_LENGTH) {
    s.pos = MAX_PATTERN_LENGTH;
    s.fail(`a pattern of at most ${MAX_PATTERN_LENGTH} characters (the CloudWatch Logs limit)`);
  }
  s.ws();
  if (s.eof()) return { kind: "everything" };
  if (s.peek() === "{") return parseJson(s);
  if (s.peek() === "[") return parseDelimited(s);
  return parseTerms(s);
}

function parseJson(s: Scanner): Pattern {
  s.pos++;
  const expr = parseOr(s);
  s.ws();
  if (s.peek() !== "}") s.fail(s.eof() ? '"}" to close the JSON pattern' : '"&&", "||" or "}"');
  s.pos++;
  s.ws();
  if (!s.eof()) s.fail("the end of the pattern after }");
  return { kind: "json", expr };
}

function parseOr(s: Scanner): JsonExpr {
  let left = parseAnd(s);
  for (;;) {
    s.ws();
    if (!s.startsWith("||")) return left;
    s.pos += 2;
    left = { kind: "or", left, right: parseAnd(s) };
  }
}

function parseAnd(s: Scanner): JsonExpr {
  let left = parseUnary(s);
  for (;;) {
    s.ws();
    if (!s.startsWith("&&")) return left;
    s.pos += 2;
    left = { kind: "and", left, right: parseUnary(s) };
  }
}

function parseUnary(s: Scanner): JsonExpr {
  s.ws();
  if (s.peek() === "(") {
    s.pos++;
    const inner = parseOr(s);
    s.ws();
    if (s.peek() !== ")") s.fail('"&&", "||" or ")"');
    s.pos++;
    return inner;
  }
  if (s.peek() !== "$") s.fail('a property selector starting with $, or "("');
  const selector = s.selector();
  s.ws();
  const opAt = s.pos;
  const op = s.op();
  if (op) return { kind: "compare", selector, op, value: parseValue(s, op, "}", opAt) };
  const word = s.bare("(){}");
  const upper = word.toUpperCase();
  if (upper === "IS") {
    s.ws();
    const whatAt = s.pos;
    const what = s.bare("(){}").toUpperCase();
    if (what !== "TRUE" && what !== "FALSE" && what !== "NULL") s.fail("TRUE, FALSE or NULL after IS", whatAt);
    return { kind: "is", selector, what };
  }
  if (upper === "NOT") {
    s.ws();
    const existsAt = s.pos;
    if (s.bare("(){}").toUpperCase() !== "EXISTS") s.fail("EXISTS after NOT", existsAt);
    return { kind: "notExists", selector };
  }
  return s.fail("an operator (= != < <= > >=), IS or NOT EXISTS after the selector", opAt);
}

function parseValue(s: Scanner, op: string, stops: string, opAt: number): Value {
  s.ws();
  const at = s.pos;
  let value: Value;
  if (s.peek() === '"') value = { kind: "string", text: s.quoted(), quoted: true };
  else if (s.peek() === "%") value = { kind: "regex", source: s.regex() };
  else {
    const text = s.bare(`()${stops}`);
    if (text === "") s.fail(`a value after "${op}"`);
    value = isNumberText(text)
      ? { kind: "number", value: Number(text), text }
      : { kind: "string", text, quoted: false };
  }
  if (op !== "=" && op !== "!=" && value.kind !== "number") {
    s.fail(`a number after "${op}" (only = and != compare strings)`, at);
  }
  if (value.kind === "regex" && op !== "=" && op !== "!=") s.fail('"=" or "!=" before a regular expression', opAt);
  return value;
}

function parseDelimited(s: Scanner): Pattern {
  s.pos++;
  const fields: DelimitedField[] = [];
  const conditions: DelimitedCondition[] = [];
  for (;;) {
    s.ws();
    if (s.peek() === "]") {
      s.pos++;
      break;
    }
    if (s.eof()) s.fail('"]" to close the space-delimited pattern');
    if (s.startsWith("...")) {
      s.pos += 3;
      fields.push({ kind: "ellipsis" });
    } else if (s.peek() === ",") {
      // An empty entry is an unnamed field: AWS's `[..., request=*.html*, status_code=4*,]` extracts
      // the byte count after the trailing comma as $7.
      fields.push({ kind: "field", name: `$${fields.length + 1}` });
    } else {
      const nameAt = s.pos;
      const name = s.bare(",]=!<>");
      if (name === "") s.fail("a field name or ...", nameAt);
      fields.push({ kind: "field", name });
      s.ws();
      if (s.eof()) s.fail('"," or "]"');
      if (s.peek() !== "," && s.peek() !== "]") conditions.push(parseDelimitedCondition(s, name, nameAt));
    }
    s.ws();
    if (s.peek() === ",") {
      s.pos++;
      s.ws();
      if (s.peek() === "]") fields.push({ kind: "field", name: `$${fields.length + 1}` });
    } else if (s.peek() !== "]") s.fail('"," or "]"');
  }
  s.ws();
  if (!s.eof()) s.fail("the end of the pattern after ]");
  return { kind: "delimited", fields, conditions };
}

/** `status_code = 4* && bytes > 1000`: conditions may name other fields of the same pattern. */
function parseDelimitedCondition(s: Scanner, firstName: string, firstAt: number): DelimitedCondition {
  const parseCompare = (name: string, at: number): DelimitedCondition => {
    s.ws();
    const opAt = s.pos;
    const op = s.op();
    if (!op) return s.fail("an operator (= != < <= > >=) after the field name");
    return { kind: "compare", name, op, value: parseValue(s, op, ",]", opAt), position: at };
  };
  const parseName = (): DelimitedCondition => {
    s.ws();
    const at = s.pos;
    const name = s.bare(",]=!<>");
    if (name === "") s.fail("a field name", at);
    return parseCompare(name, at);
  };
  const parseAndChain = (first: DelimitedCondition): DelimitedCondition => {
    let left = first;
    for (;;) {
      s.ws();
      if (!s.startsWith("&&")) return left;
      s.pos += 2;
      left = { kind: "and", left, right: parseName() };
    }
  };
  let expr = parseAndChain(parseCompare(firstName, firstAt));
  for (;;) {
    s.ws();
    if (!s.startsWith("||")) return expr;
    s.pos += 2;
    expr = { kind: "or", left: expr, right: parseAndChain(parseName()) };
  }
}

function parseTerms(s: Scanner): Pattern {
  const terms: Term[] = [];
  for (;;) {
    s.ws();
    if (s.eof()) break;
    let mode: Term["mode"] = "require";
    if (s.peek() === "-") {
      // AWS's own example writes `"ERROR" - "Exiting"`, with a space after the minus.
      mode = "exclude";
      s.pos++;
      s.ws();
      if (s.eof()) s.fail("a term after -");
    } else if (s.peek() === "?") {
      mode = "any";
      s.pos++;
    }
    if (s.peek() === '"') terms.push({ mode, text: s.quoted() });
    else if (s.peek() === "%") terms.push({ mode, regex: s.regex() });
    else {
      const at = s.pos;
      const text = s.bare("");
      if (text === "") s.fail("a term", at);
      terms.push({ mode, text });
    }
  }
  return { kind: "terms", terms };
}
