// The parsed form of a CloudWatch Logs filter pattern. Positions point into the pattern text so that
// later stages can still report where a problem is.

export type Step = { kind: "key"; key: string } | { kind: "index"; index: number } | { kind: "any" };

export interface Selector {
  text: string;
  steps: Step[];
  /** `[*]` or `.*` somewhere: the selector yields every matching node, and one match is enough. */
  wildcard: boolean;
  position: number;
}

export type Value =
  | { kind: "string"; text: string; quoted: boolean }
  | { kind: "number"; value: number; text: string }
  | { kind: "regex"; source: string };

export type Op = "=" | "!=" | "<" | "<=" | ">" | ">=";

export type JsonExpr =
  | { kind: "and" | "or"; left: JsonExpr; right: JsonExpr }
  | { kind: "compare"; selector: Selector; op: Op; value: Value }
  | { kind: "is"; selector: Selector; what: "TRUE" | "FALSE" | "NULL" }
  | { kind: "notExists"; selector: Selector };

export interface Term {
  /** require: must appear; exclude (`-term`): must not appear; any (`?term`): at least one must appear. */
  mode: "require" | "exclude" | "any";
  text?: string;
  regex?: string;
}

export type DelimitedCondition =
  | { kind: "and" | "or"; left: DelimitedCondition; right: DelimitedCondition }
  | { kind: "compare"; name: string; op: Op; value: Value; position: number };

export type DelimitedField = { kind: "ellipsis" } | { kind: "field"; name: string };

export type Pattern =
  | { kind: "everything" }
  | { kind: "json"; expr: JsonExpr }
  | { kind: "terms"; terms: Term[] }
  | { kind: "delimited"; fields: DelimitedField[]; conditions: DelimitedCondition[] };
