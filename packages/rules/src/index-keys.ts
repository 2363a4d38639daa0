// Combining static index keys through a boolean expression. Each key maps a field to the only values
// it can hold in a matching record. AND keeps every constraint (intersecting when both sides constrain
// the same field); OR keeps a field only when both sides constrain it. Anything else (NOT, wildcards,
// modifiers) is unconstrained, which is always safe: it only costs an evaluation.

export type Constraints = Map<string, Set<string>>;

export function none(): Constraints {
  return new Map();
}

export function single(field: string, values: Iterable<string>): Constraints {
  return new Map([[field, new Set([...values].map((v) => v.toLowerCase()))]]);
}

export function and(a: Constraints, b: Constraints): Constraints {
  const out: Constraints = new Map(a);
  for (const [field, values] of b) {
    const mine = out.get(field);
    out.set(field, mine ? new Set([...mine].filter((v) => values.has(v))) : values);
  }
  return out;
}

export function or(a: Constraints, b: Constraints): Constraints {
  const out: Constraints = new Map();
  for (const [field, values] of a) {
    const theirs = b.get(field);
    if (theirs) out.set(field, new Set([...values, ...theirs]));
  }
  return out;
}

export function toIndexKeys(c: Constraints): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [field, values] of c) out[field] = [...values].sort();
  return out;
}
