// A Sigma `detection` block compiled to one closure: each search identifier becomes a test, and the
// condition tree combines them. Index keys flow through the same tree (see ../index-keys.ts).
import { and as andKeys, none, or as orKeys } from "../index-keys.ts";
import { recordText } from "../record-text.ts";
import { type Condition, expandOf, parseCondition } from "./condition.ts";
import { SigmaRuleError } from "./errors.ts";
import { isObject } from "./fields.ts";
import { type Compiled, compileFieldEntry, type RecordTest } from "./modifiers.ts";
import { globTest } from "./values.ts";

const RESERVED = new Set(["condition", "timeframe"]);

/**
 * A detection compiled to a test, with its index constraints and `definition`: the detection as JSON
 * text (Rule.definition), undefined for data JSON cannot write (a cycle).
 */
export function compileDetection(detection: unknown, file?: string): Compiled & { definition: string | undefined } {
  if (!isObject(detection)) throw new SigmaRuleError("detection must be a map", file);
  const searches = new Map<string, Compiled>();
  for (const [name, def] of Object.entries(detection)) {
    if (RESERVED.has(name)) continue;
    searches.set(name, compileSearch(name, def, file));
  }
  const rawCondition = detection.condition;
  let conditionTexts: string[];
  if (typeof rawCondition === "string") conditionTexts = [rawCondition];
  else if (Array.isArray(rawCondition) && rawCondition.every((c) => typeof c === "string"))
    conditionTexts = rawCondition;
  else throw new SigmaRuleError("detection.condition must be a string or a list of strings", file);
  if (conditionTexts.length === 0) throw new SigmaRuleError("detection.condition is empty", file);

  const identifiers = [...searches.keys()];
  const compiled = conditionTexts.map((text) =>
    compileCondition(parseCondition(text, file), searches, identifiers, text, file),
  );
  // Several conditions in a list are alternatives.
  const joined = compiled.reduce((a, b) => ({
    test: (r: unknown) => a.test(r) || b.test(r),
    constraints: orKeys(a.constraints, b.constraints),
  }));
  return { ...joined, definition: definitionText(detection) };
}

function compileSearch(name: string, def: unknown, file?: string): Compiled {
  if (isObject(def)) return compileMap(def, file);
  if (Array.isArray(def) && def.length > 0 && def.every(isObject)) {
    // A list of maps: any one of them.
    return def.map((m) => compileMap(m, file)).reduce(orCompiled);
  }
  if (Array.isArray(def) && def.length > 0 && def.every((v) => typeof v === "string" || typeof v === "number")) {
    return compileKeywords(def.map(String));
  }
  if (typeof def === "string" || typeof def === "number") return compileKeywords([String(def)]);
  throw new SigmaRuleError(`search identifier "${name}" must be a map, a list of maps or a list of keywords`, file);
}

function compileMap(map: Record<string, unknown>, file?: string): Compiled {
  const entries = Object.entries(map).map(([key, value]) => compileFieldEntry(key, value, file));
  if (entries.length === 0) throw new SigmaRuleError("a selection map is empty", file);
  return entries.reduce(andCompiled);
}

/** Keywords search the whole record, case-insensitively, anywhere in its JSON text. */
function compileKeywords(words: string[]): Compiled {
  const tests = words.map((w) => globTest(`*${w}*`, false));
  return { test: (r) => tests.some((t) => t(recordText(r))), constraints: none() };
}

function andCompiled(a: Compiled, b: Compiled): Compiled {
  const at = a.test;
  const bt = b.test;
  return { test: (r) => at(r) && bt(r), constraints: andKeys(a.constraints, b.constraints) };
}

function orCompiled(a: Compiled, b: Compiled): Compiled {
  const at = a.test;
  const bt = b.test;
  return { test: (r) => at(r) || bt(r), constraints: orKeys(a.constraints, b.constraints) };
}

function compileCondition(
  c: Condition,
  searches: Map<string, Compiled>,
  identifiers: string[],
  text: string,
  file?: string,
): Compiled {
  switch (c.kind) {
    case "and":
      return andCompiled(
        compileCondition(c.left, searches, identifiers, text, file),
        compileCondition(c.right, searches, identifiers, text, file),
      );
    case "or":
      return orCompiled(
        compileCondition(c.left, searches, identifiers, text, file),
        compileCondition(c.right, searches, identifiers, text, file),
      );
    case "not": {
      const inner: RecordTest = compileCondition(c.inner, searches, identifiers, text, file).test;
      return { test: (r) => !inner(r), constraints: none() };
    }
    case "id": {
      const s = searches.get(c.name);
      if (!s) throw new SigmaRuleError(`condition "${text}": no search identifier "${c.name}"`, file);
      return s;
    }
    case "of": {
      const names = expandOf(c.pattern, identifiers);
      if (names.length === 0)
        throw new SigmaRuleError(`condition "${text}": "${c.pattern}" matches no search identifier`, file);
      const parts = names.map((n) => searches.get(n)).filter((s): s is Compiled => s !== undefined);
      if (c.count === "all") return parts.reduce(andCompiled);
      if (c.count === 1) return parts.reduce(orCompiled);
      const n = c.count;
      const tests = parts.map((p) => p.test);
      return {
        test: (r) => {
          let hits = 0;
          for (const t of tests) if (t(r) && ++hits >= n) return true;
          return false;
        },
        constraints: none(),
      };
    }
  }
}

function definitionText(detection: unknown): string | undefined {
  try {
    return JSON.stringify(detection);
  } catch {
    return undefined;
  }
}
