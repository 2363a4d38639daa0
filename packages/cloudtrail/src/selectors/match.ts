// Event selectors compiled into one test per record. A record is kept when any selector matches;
// a selector matches when all its conditions do. Within an operator's list any value matches for
// Equals/StartsWith/EndsWith and none may match for the Not- operators; several operators in one
// field selector must all hold. A field the record lacks fails the positive operators and passes
// the Not- ones. resources.ARN is read on the resources of the selector's resources.type (an S3
// object event also names its bucket), and one resource must satisfy the whole field selector.
import type { CloudTrailRecord } from "../record.ts";
import { resourcesOf, type SelectorResource, scalarField } from "./fields.ts";
import {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  type BasicEventSelector,
  type DataResource,
  type EventSelectorsDocument,
  OPERATORS,
} from "./shapes.ts";
import { parseEventSelectors } from "./validate.ts";

export interface EventSelectors {
  kind: "basic" | "advanced";
  /** One label per selector: its Name, else `#1`, `#2`… (unique, for a metric label). */
  readonly names: readonly string[];
  /** Per selector, a label for each of its conditions (the field, or the basic selector's part). */
  readonly conditions: readonly (readonly string[])[];
  /** The validated document they were compiled from: plain data, so a worker thread can compile them too. */
  readonly document: EventSelectorsDocument;
  /**
   * The index of the first selector that keeps the record, or -1 when none does; then, when given,
   * `rejected(selector, condition)` is called once per selector with the condition that failed.
   */
  match(record: CloudTrailRecord, rejected?: (selector: number, condition: number) => void): number;
}

/** A record read once for all selectors: fields are looked up the first time one is asked for. */
class View {
  readonly record: CloudTrailRecord;
  #scalars = new Map<string, string | undefined>();
  #resources: SelectorResource[] | undefined;
  constructor(record: CloudTrailRecord) {
    this.record = record;
  }
  scalar(field: string): string | undefined {
    if (this.#scalars.has(field)) return this.#scalars.get(field);
    const v = scalarField(this.record, field);
    this.#scalars.set(field, v);
    return v;
  }
  resources(): SelectorResource[] {
    this.#resources ??= resourcesOf(this.record);
    return this.#resources;
  }
}

type Condition = (view: View) => boolean;
type Test = (value: string | undefined) => boolean;

export function compileEventSelectors(document: EventSelectorsDocument): EventSelectors {
  const compiled =
    document.kind === "advanced" ? document.selectors.map(compileAdvanced) : document.selectors.map(compileBasic);
  const seen = new Map<string, number>();
  const names = compiled.map((c, i) => {
    const base = c.name ?? `#${i + 1}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${i + 1}`;
  });
  const conditions = compiled.map((c) => c.conditions.map((x) => x.label));
  return {
    kind: document.kind,
    names,
    conditions,
    document,
    match(record, rejected) {
      const view = new View(record);
      const failed: number[] = [];
      for (let s = 0; s < compiled.length; s++) {
        const list = compiled[s]?.conditions ?? [];
        let at = -1;
        for (let c = 0; c < list.length; c++) {
          if (!list[c]?.test(view)) {
            at = c;
            break;
          }
        }
        if (at === -1) return s;
        failed.push(at);
      }
      if (rejected) for (let s = 0; s < failed.length; s++) rejected(s, failed[s] ?? 0);
      return -1;
    },
  };
}

/** Parses, validates and compiles JSON text or an already parsed value (throws EventSelectorsError). */
export function eventSelectors(json: unknown): EventSelectors {
  return compileEventSelectors(parseEventSelectors(json));
}

interface Compiled {
  name: string | undefined;
  conditions: { label: string; test: Condition }[];
}

// eventCategory first: it is the cheapest test and turns most records away.
const ORDER = ["eventCategory", "resources.type", "eventSource", "eventName", "readOnly"];
const rank = (field: string) => (ORDER.includes(field) ? ORDER.indexOf(field) : ORDER.length);

function compileAdvanced(selector: AdvancedEventSelector): Compiled {
  const fields = [...selector.FieldSelectors].sort((a, b) => rank(a.Field) - rank(b.Field));
  const type = selector.FieldSelectors.find((f) => f.Field === "resources.type")?.Equals?.[0];
  return {
    name: selector.Name,
    conditions: fields.map((f) => ({ label: f.Field, test: compileField(f, type) })),
  };
}

function compileField(field: AdvancedFieldSelector, resourceType: string | undefined): Condition {
  const test = compileOperators(field);
  if (field.Field === "resources.type") return (view) => view.resources().some((r) => test(r.type));
  if (field.Field === "resources.ARN") {
    return (view) => {
      const candidates = view.resources().filter((r) => resourceType === undefined || r.type === resourceType);
      return candidates.some((r) => test(r.arn));
    };
  }
  const name = field.Field;
  return (view) => test(view.scalar(name));
}

function compileOperators(field: AdvancedFieldSelector): Test {
  const tests: Test[] = [];
  for (const op of OPERATORS) {
    const values = field[op];
    if (!values) continue;
    switch (op) {
      case "Equals": {
        const set = new Set(values);
        tests.push((v) => v !== undefined && set.has(v));
        break;
      }
      case "NotEquals": {
        const set = new Set(values);
        tests.push((v) => v === undefined || !set.has(v));
        break;
      }
      case "StartsWith":
        tests.push((v) => v !== undefined && values.some((x) => v.startsWith(x)));
        break;
      case "NotStartsWith":
        tests.push((v) => v === undefined || !values.some((x) => v.startsWith(x)));
        break;
      case "EndsWith":
        tests.push((v) => v !== undefined && values.some((x) => v.endsWith(x)));
        break;
      case "NotEndsWith":
        tests.push((v) => v === undefined || !values.some((x) => v.endsWith(x)));
        break;
    }
  }
  if (tests.length === 1 && tests[0]) return tests[0];
  return (v) => tests.every((t) => t(v));
}

function compileBasic(selector: BasicEventSelector): Compiled {
  const conditions: Compiled["conditions"] = [];
  const management = selector.IncludeManagementEvents;
  const data = selector.DataResources;
  conditions.push({
    label: "eventCategory",
    test: (view) => {
      const category = view.scalar("eventCategory");
      return (category === "Management" && management) || (category === "Data" && data.length > 0);
    },
  });
  if (selector.ReadWriteType !== "All") {
    const want = selector.ReadWriteType === "ReadOnly" ? "true" : "false";
    conditions.push({ label: "ReadWriteType", test: (view) => view.scalar("readOnly") === want });
  }
  if (selector.ExcludeManagementEventSources.length > 0) {
    const excluded = new Set(selector.ExcludeManagementEventSources);
    conditions.push({
      label: "ExcludeManagementEventSources",
      test: (view) => view.scalar("eventCategory") !== "Management" || !excluded.has(view.scalar("eventSource") ?? ""),
    });
  }
  if (data.length > 0) {
    const matchers = data.map(compileDataResource);
    conditions.push({
      label: "DataResources",
      test: (view) =>
        view.scalar("eventCategory") !== "Data" || view.resources().some((r) => matchers.some((m) => m(r))),
    });
  }
  return { name: undefined, conditions };
}

/**
 * A DataResources entry: `arn:aws:s3` (or `arn:aws:lambda`, `arn:aws:dynamodb`) names every
 * resource of the type; S3 values are prefixes (`arn:aws:s3:::bucket/` is the whole bucket),
 * Lambda functions and DynamoDB tables match whole ARNs only.
 */
function compileDataResource(resource: DataResource): (r: SelectorResource) => boolean {
  const all = resource.Values.some((v) => /^arn:[a-z-]+:[a-z0-9]+:*$/.test(v));
  const prefix = resource.Type === "AWS::S3::Object";
  const exact = new Set(resource.Values);
  return (r) => {
    if (r.type !== resource.Type || r.arn === undefined) return false;
    if (all) return true;
    const arn = r.arn;
    return prefix ? resource.Values.some((v) => arn.startsWith(v)) : exact.has(arn);
  };
}
