// Turns a parsed filter pattern into one closure. Everything that can be decided from the pattern
// alone (selector steps, wildcard shape, numeric literals) is decided here, once, so evaluating a
// record is a handful of property reads and string comparisons.

import { and as andKeys, type Constraints, none, or as orKeys, single } from "../index-keys.ts";
import { recordObject, recordText } from "../record-text.ts";
import type { DelimitedCondition, JsonExpr, Op, Pattern, Selector, Term, Value } from "./ast.ts";
import { isNumberText } from "./lexer.ts";
import { parseFilterPattern } from "./parser.ts";

export type Matcher = (record: unknown) => boolean;

/** Compiles a CloudWatch Logs filter pattern; throws FilterPatternSyntaxError for a malformed one. */
export function compileFilterPattern(pattern: string): Matcher {
  return compilePattern(parseFilterPattern(pattern));
}

export function compilePattern(p: Pattern): Matcher {
  switch (p.kind) {
    case "everything":
      return () => true;
    case "json": {
      const test = compileJson(p.expr);
      return (record) => test(recordObject(record));
    }
    case "terms":
      return compileTerms(p.terms);
    case "delimited":
      return compileDelimited(p);
  }
}

// ---- JSON patterns ----------------------------------------------------------------------------

const MISSING = Symbol("missing");
type Node = unknown;

function compileJson(e: JsonExpr): (root: Node) => boolean {
  switch (e.kind) {
    case "and": {
      const l = compileJson(e.left);
      const r = compileJson(e.right);
      return (root) => l(root) && r(root);
    }
    case "or": {
      const l = compileJson(e.left);
      const r = compileJson(e.right);
      return (root) => l(root) || r(root);
    }
    case "compare":
      return onSelector(e.selector, compareValue(e.op, e.value));
    case "is": {
      const want = e.what === "TRUE" ? true : e.what === "FALSE" ? false : null;
      return onSelector(e.selector, (v) => v === want);
    }
    case "notExists": {
      if (e.selector.wildcard) {
        const all = selectAll(e.selector);
        return (root) => all(root).length === 0;
      }
      const one = selectOne(e.selector);
      return (root) => one(root) === MISSING;
    }
  }
}

/** A test on the node a selector points at; with a wildcard selector, one matching node is enough. */
function onSelector(sel: Selector, test: (v: Node) => boolean): (root: Node) => boolean {
  if (sel.wildcard) {
    const all = selectAll(sel);
    return (root) => all(root).some(test);
  }
  const one = selectOne(sel);
  return (root) => {
    const v = one(root);
    return v !== MISSING && test(v);
  };
}

function isObject(v: Node): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function selectOne(sel: Selector): (root: Node) => Node | typeof MISSING {
  const steps = sel.steps;
  return (root) => {
    let cur: Node = root;
    for (const step of steps) {
      if (step.kind === "key") {
        if (!isObject(cur) || !Object.hasOwn(cur, step.key)) return MISSING;
        cur = cur[step.key];
      } else if (step.kind === "index") {
        if (!Array.isArray(cur) || step.index >= cur.length) return MISSING;
        cur = cur[step.index];
      }
    }
    return cur;
  };
}

function selectAll(sel: Selector): (root: Node) => Node[] {
  const steps = sel.steps;
  return (root) => {
    let level: Node[] = [root];
    for (const step of steps) {
      const next: Node[] = [];
      for (const cur of level) {
        if (step.kind === "key") {
          if (isObject(cur) && Object.hasOwn(cur, step.key)) next.push(cur[step.key]);
        } else if (step.kind === "index") {
          if (Array.isArray(cur) && step.index < cur.length) next.push(cur[step.index]);
        } else if (Array.isArray(cur)) next.push(...cur);
        else if (isObject(cur)) next.push(...Object.values(cur));
      }
      level = next;
      if (level.length === 0) break;
    }
    return level;
  };
}

/** The text of a value node. Objects, arrays and null are not value nodes: every comparison is false. */
function scalarText(v: Node): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function compareValue(op: Op, value: Value): (v: Node) => boolean {
  const eq = equality(value);
  if (op === "=") return eq;
  if (op === "!=") return (v) => scalarText(v) !== undefined && !eq(v);
  if (value.kind !== "number") return () => false;
  const n = value.value;
  const cmp: (x: number) => boolean =
    op === "<" ? (x) => x < n : op === "<=" ? (x) => x <= n : op === ">" ? (x) => x > n : (x) => x >= n;
  return (v) => {
    const x = numeric(v);
    return x !== undefined && cmp(x);
  };
}

function numeric(v: Node): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && isNumberText(v.trim())) return Number(v);
  return undefined;
}

/** Equality of a value node with a literal: exact and case-sensitive, `*` matching any text. */
function equality(value: Value): (v: Node) => boolean {
  if (value.kind === "regex") {
    const re = new RegExp(value.source);
    return (v) => {
      const t = scalarText(v);
      return t !== undefined && re.test(t);
    };
  }
  if (value.kind === "number") {
    const { value: n, text } = value;
    return (v) => {
      if (typeof v === "number") return v === n;
      if (typeof v !== "string") return false;
      // CloudTrail writes account ids and the like as strings; a bare number still matches them.
      return v === text || (isNumberText(v.trim()) && Number(v) === n);
    };
  }
  const glob = globMatcher(value.text);
  return (v) => {
    const t = scalarText(v);
    return t !== undefined && glob(t);
  };
}

/** `*` matches any run of characters (including none); everything else is literal and case-sensitive. */
export function globMatcher(pattern: string): (text: string) => boolean {
  if (!pattern.includes("*")) return (t) => t === pattern;
  if (pattern === "*") return () => true;
  const parts = pattern.split("*");
  const inner = parts.slice(1, -1);
  if (inner.every((p) => p === "")) {
    const head = parts[0] ?? "";
    const tail = parts[parts.length - 1] ?? "";
    if (head === "") return (t) => t.endsWith(tail);
    if (tail === "") return (t) => t.startsWith(head);
  }
  if (parts.length === 3 && parts[0] === "" && parts[2] === "") {
    const mid = parts[1] ?? "";
    return (t) => t.includes(mid);
  }
  const re = new RegExp(`^${parts.map(escapeRegex).join("[\\s\\S]*")}$`);
  return (t) => re.test(t);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

// ---- term patterns ----------------------------------------------------------------------------

function compileTerms(terms: Term[]): Matcher {
  const one = (t: Term): ((text: string) => boolean) => {
    if (t.regex !== undefined) {
      const re = new RegExp(t.regex);
      return (text) => re.test(text);
    }
    const lit = t.text ?? "";
    return (text) => text.includes(lit);
  };
  const required = terms.filter((t) => t.mode === "require").map(one);
  const excluded = terms.filter((t) => t.mode === "exclude").map(one);
  const anyOf = terms.filter((t) => t.mode === "any").map(one);
  return (record) => {
    const text = recordText(record);
    for (const t of required) if (!t(text)) return false;
    for (const t of excluded) if (t(text)) return false;
    return anyOf.length === 0 || anyOf.some((t) => t(text));
  };
}

// ---- space-delimited patterns -----------------------------------------------------------------

/** Splits a message into fields: spaces separate, "double quotes" and [brackets] group. */
export function splitDelimited(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && text[i] === " ") i++;
    if (i >= text.length) break;
    const c = text[i];
    const close = c === '"' ? '"' : c === "[" ? "]" : undefined;
    if (close) {
      const end = text.indexOf(close, i + 1);
      if (end >= 0) {
        out.push(text.slice(i + 1, end));
        i = end + 1;
        continue;
      }
    }
    let j = i;
    while (j < text.length && text[j] !== " ") j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function compileDelimited(p: Extract<Pattern, { kind: "delimited" }>): Matcher {
  const fields = p.fields;
  const conditions = p.conditions.map(compileDelimitedCondition);
  const satisfied = (bound: Map<string, string>) => conditions.every((c) => c(bound));
  return (record) => {
    const tokens = splitDelimited(recordText(record));
    // Several `...` can align in several ways; any alignment that satisfies the conditions matches.
    const bound = new Map<string, string>();
    const align = (fi: number, ti: number): boolean => {
      if (fi === fields.length) return ti === tokens.length && satisfied(bound);
      const f = fields[fi];
      if (f === undefined) return false;
      if (f.kind === "ellipsis") {
        for (let k = ti; k <= tokens.length; k++) if (align(fi + 1, k)) return true;
        return false;
      }
      const token = tokens[ti];
      if (token === undefined) return false;
      bound.set(f.name, token);
      return align(fi + 1, ti + 1);
    };
    return align(0, 0);
  };
}

function compileDelimitedCondition(c: DelimitedCondition): (bound: Map<string, string>) => boolean {
  if (c.kind !== "compare") {
    const l = compileDelimitedCondition(c.left);
    const r = compileDelimitedCondition(c.right);
    return c.kind === "and" ? (b) => l(b) && r(b) : (b) => l(b) || r(b);
  }
  const test = compareValue(c.op, c.value);
  const name = c.name;
  return (b) => {
    const v = b.get(name);
    return v !== undefined && test(v);
  };
}

// ---- static index keys ------------------------------------------------------------------------

const INDEXED = new Set(["eventName", "eventSource", "userIdentity.type"]);

/**
 * The values of eventName / eventSource / userIdentity.type that every matching record must carry,
 * as far as the pattern says so conjunctively and without wildcards.
 */
export function patternConstraints(p: Pattern): Constraints {
  return p.kind === "json" ? jsonConstraints(p.expr) : none();
}

function jsonConstraints(e: JsonExpr): Constraints {
  switch (e.kind) {
    case "and":
      return andKeys(jsonConstraints(e.left), jsonConstraints(e.right));
    case "or":
      return orKeys(jsonConstraints(e.left), jsonConstraints(e.right));
    case "compare": {
      if (e.op !== "=" || e.selector.wildcard || !e.selector.steps.every((s) => s.kind === "key")) return none();
      const field = e.selector.steps.map((s) => (s.kind === "key" ? s.key : "")).join(".");
      if (!INDEXED.has(field)) return none();
      // Numbers match numeric strings in several spellings ("1" and "1.0"): not indexable.
      if (e.value.kind !== "string" || e.value.text.includes("*")) return none();
      return single(field, [e.value.text]);
    }
    default:
      return none();
  }
}
