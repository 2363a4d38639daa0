// Term patterns, space-delimited patterns and Sigma keywords read the record as JSON text. A record is
// matched against many rules, so its text is computed once and remembered for as long as the record
// object lives.
const texts = new WeakMap<object, string>();

export function recordText(record: unknown): string {
  if (typeof record === "string") return record;
  if (typeof record !== "object" || record === null) return String(record);
  let text = texts.get(record);
  if (text === undefined) {
    text = JSON.stringify(record);
    texts.set(record, text);
  }
  return text;
}

/** A JSON pattern needs an object; a record given as JSON text is parsed (once per string value). */
export function recordObject(record: unknown): unknown {
  if (typeof record !== "string") return record;
  try {
    return JSON.parse(record);
  } catch {
    return undefined;
  }
}
