// One `field|modifier|...: value(s)` entry of a Sigma selection, compiled to a test on a record.
// The modifiers are those SigmaHQ's CloudTrail rules use (contains, startswith, endswith, all, re,
// fieldref) plus the small, unambiguous ones around them (cased, exists, re's i/m/s, lt/lte/gt/gte).
import { type Constraints, none, single } from "../index-keys.ts";
import { backtrackingRisk } from "../regex-safety.ts";
import { SigmaRuleError } from "./errors.ts";
import { isObject, stringForms, valuesAt } from "./fields.ts";
import { escapeGlob, globTest, hasWildcard, unescapeGlob } from "./values.ts";

export type RecordTest = (record: unknown) => boolean;

export interface Compiled {
  test: RecordTest;
  constraints: Constraints;
}

const INDEXED = new Set(["eventName", "eventSource", "userIdentity.type"]);
const TRANSFORMS = new Set(["contains", "startswith", "endswith"]);
const KNOWN = new Set([
  ...TRANSFORMS,
  "all",
  "re",
  "i",
  "m",
  "s",
  "cased",
  "exists",
  "fieldref",
  "lt",
  "lte",
  "gt",
  "gte",
]);

export function compileFieldEntry(key: string, raw: unknown, file?: string): Compiled {
  const [field = "", ...mods] = key.split("|");
  if (field === "") throw new SigmaRuleError(`selection key "${key}" has no field name`, file);
  for (const m of mods) {
    if (!KNOWN.has(m)) throw new SigmaRuleError(`field "${field}": modifier "${m}" is not supported`, file);
  }
  const path = field.split(".");
  const has = (m: string) => mods.includes(m);
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new SigmaRuleError(`field "${field}": empty value list`, file);

  const transform = mods.find((m) => TRANSFORMS.has(m));
  const tests = values.map((v) => compileValue(field, path, v, mods, transform, file));
  const test: RecordTest = has("all")
    ? (r) => tests.every((t) => t(r))
    : tests.length === 1 && tests[0]
      ? tests[0]
      : (r) => tests.some((t) => t(r));

  // Only plain, wildcard-free string values pin a field to known values.
  let constraints = none();
  if (mods.length === 0 && INDEXED.has(field) && values.every((v) => typeof v === "string" && !hasWildcard(v))) {
    constraints = single(
      field,
      values.map((v) => unescapeGlob(String(v))),
    );
  }
  return { test, constraints };
}

function compileValue(
  field: string,
  path: string[],
  value: unknown,
  mods: string[],
  transform: string | undefined,
  file: string | undefined,
): RecordTest {
  const has = (m: string) => mods.includes(m);
  if (has("exists")) {
    if (typeof value !== "boolean") throw new SigmaRuleError(`field "${field}|exists" needs true or false`, file);
    return (r) => valuesAt(r, path).length > 0 === value;
  }
  if (value === null) {
    if (mods.length > 0) throw new SigmaRuleError(`field "${field}": null cannot take modifiers`, file);
    // The specification: null matches a field that is absent or null.
    return (r) => valuesAt(r, path).every((v) => v === null);
  }
  if (isObject(value) || Array.isArray(value)) {
    throw new SigmaRuleError(`field "${field}": a value must be a string, number, boolean or null`, file);
  }
  const any = (test: (v: unknown) => boolean): RecordTest => {
    return (r) => {
      for (const v of valuesAt(r, path)) if (test(v)) return true;
      return false;
    };
  };

  for (const op of ["lt", "lte", "gt", "gte"] as const) {
    if (!has(op)) continue;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new SigmaRuleError(`field "${field}|${op}" needs a number`, file);
    const cmp =
      op === "lt"
        ? (x: number) => x < n
        : op === "lte"
          ? (x: number) => x <= n
          : op === "gt"
            ? (x: number) => x > n
            : (x: number) => x >= n;
    return any((v) => {
      const x = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
      return Number.isFinite(x) && cmp(x);
    });
  }

  if (has("re")) {
    const flags = ["i", "m", "s"].filter((f) => has(f)).join("");
    let re: RegExp;
    try {
      re = new RegExp(String(value), flags);
    } catch (error) {
      throw new SigmaRuleError(`field "${field}|re": ${(error as Error).message}`, file);
    }
    const risk = backtrackingRisk(re.source, flags);
    if (risk) throw new SigmaRuleError(`field "${field}|re": refused, it could backtrack for seconds: ${risk}`, file);
    const search = leadingWildcardSearch(re);
    return any((v) => stringForms(v).some(search));
  }

  const cased = has("cased");
  if (has("fieldref")) {
    const refPath = String(value).split(".");
    return (r) => {
      const refs = valuesAt(r, refPath).flatMap(stringForms);
      if (refs.length === 0) return false;
      const tests = refs.map((ref) => globTest(wrap(escapeGlob(ref), transform), cased));
      return valuesAt(r, path).some((v) => stringForms(v).some((s) => tests.some((t) => t(s))));
    };
  }

  if (typeof value === "number" && transform === undefined) {
    const text = String(value);
    return any((v) => v === value || (typeof v === "string" && v === text));
  }
  if (typeof value === "boolean" && transform === undefined) {
    const text = String(value);
    return any((v) => v === value || (typeof v === "string" && v.toLowerCase() === text));
  }

  const glob = globTest(wrap(String(value), transform), cased);
  // contains also looks inside nested values: see stringForms.
  const forms = transform === "contains" ? stringForms : scalarForms;
  return any((v) => forms(v).some(glob));
}

/**
 * An unanchored search for a pattern that starts with `.*` or `.+` (SigmaHQ writes
 * `'.+:assumed-role/aws:.+'`) retries the leading wildcard from every position: quadratic in the
 * length of the value, and the largest cost of the whole catalog. On a line without line breaks and
 * with no top-level alternative, a match anywhere implies one from position 0, so anchoring there
 * gives the same answer in linear time.
 */
const LINE_BREAK = /[\n\r\u2028\u2029]/;

function leadingWildcardSearch(re: RegExp): (s: string) => boolean {
  const src = re.source;
  if (!/^\.[*+]/.test(src) || src.includes("|") || src.includes("(?<")) return (s) => re.test(s);
  const anchored = new RegExp(`^(?:${src})`, re.flags.replace("m", ""));
  if (re.dotAll) return (s) => anchored.test(s);
  return (s) => (LINE_BREAK.test(s) ? re.test(s) : anchored.test(s));
}

function scalarForms(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  if (v === null || v === undefined) return [];
  return [JSON.stringify(v)];
}

function wrap(pattern: string, transform: string | undefined): string {
  if (transform === "contains") return `*${pattern}*`;
  if (transform === "startswith") return `${pattern}*`;
  if (transform === "endswith") return `*${pattern}`;
  return pattern;
}
