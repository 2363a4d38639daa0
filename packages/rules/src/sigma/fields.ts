// Field access for Sigma: a field name is a dotted path into the record. Arrays are crossed
// transparently (every element is a candidate), because CloudTrail nests lists of objects
// (requestParameters.containerDefinitions[].command[]) and Sigma rules name them by path.

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every value at the path; empty when the path does not exist. */
export function fieldValues(root: unknown, path: readonly string[]): unknown[] {
  let level: unknown[] = [root];
  for (const key of path) {
    const next: unknown[] = [];
    for (const cur of level) {
      if (Array.isArray(cur)) {
        for (const item of cur) if (isObject(item) && Object.hasOwn(item, key)) next.push(item[key]);
      } else if (isObject(cur) && Object.hasOwn(cur, key)) next.push(cur[key]);
    }
    if (next.length === 0) return next;
    level = next;
  }
  // A list at the end of the path is a multi-valued field: its elements are the values.
  return level.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

const NONE: unknown[] = [];

/** fieldValues with a fast path for the usual case: objects all the way down, one value at the end. */
export function valuesAt(root: unknown, path: readonly string[]): unknown[] {
  let cur = root;
  for (const key of path) {
    if (Array.isArray(cur)) return fieldValues(root, path);
    if (!isObject(cur) || !Object.hasOwn(cur, key)) return NONE;
    cur = cur[key];
  }
  return Array.isArray(cur) ? cur : [cur];
}

/**
 * The strings a value offers to string matching. Numbers and booleans by their JSON spelling (so
 * 'true' matches a JSON true); an object or list by its JSON text and each string inside it, so
 * `requestParameters|contains: 'Suspended'` sees nested values, as a SIEM's flattened field would.
 */
export function stringForms(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  if (v === null || v === undefined) return [];
  const out: string[] = [];
  // JSON.stringify overflows the stack on values nested some thousands deep; the strings inside
  // (walked without recursion, to a bound) still match.
  try {
    out.push(JSON.stringify(v));
  } catch {}
  const stack: Array<[unknown, number]> = [[v, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [x, depth] = top;
    if (typeof x === "string") out.push(x);
    else if (depth >= MAX_WALK_DEPTH) continue;
    else if (Array.isArray(x)) for (let i = x.length - 1; i >= 0; i--) stack.push([x[i], depth + 1]);
    else if (isObject(x)) {
      const values = Object.values(x);
      for (let i = values.length - 1; i >= 0; i--) stack.push([values[i], depth + 1]);
    }
  }
  return out;
}

const MAX_WALK_DEPTH = 1_000;
