// The JSON of `aws cloudtrail put-event-selectors` (and what get-event-selectors prints), after
// validation. Field and type names are CloudTrail's, so a pasted document reads the same here.

export const OPERATORS = ["Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"] as const;
export type Operator = (typeof OPERATORS)[number];

export interface AdvancedFieldSelector {
  Field: string;
  Equals?: string[];
  StartsWith?: string[];
  EndsWith?: string[];
  NotEquals?: string[];
  NotStartsWith?: string[];
  NotEndsWith?: string[];
}

export interface AdvancedEventSelector {
  Name?: string;
  FieldSelectors: AdvancedFieldSelector[];
}

export const READ_WRITE_TYPES = ["ReadOnly", "WriteOnly", "All"] as const;
export type ReadWriteType = (typeof READ_WRITE_TYPES)[number];

export const DATA_RESOURCE_TYPES = ["AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"] as const;
export type DataResourceType = (typeof DATA_RESOURCE_TYPES)[number];

export interface DataResource {
  Type: DataResourceType;
  Values: string[];
}

export interface BasicEventSelector {
  ReadWriteType: ReadWriteType;
  IncludeManagementEvents: boolean;
  DataResources: DataResource[];
  ExcludeManagementEventSources: string[];
}

export type EventSelectorsDocument =
  | { kind: "basic"; selectors: BasicEventSelector[] }
  | { kind: "advanced"; selectors: AdvancedEventSelector[] };

/** The names CloudTrail gives these errors, so a message reads like the API's. */
export type SelectorsErrorName = "InvalidEventSelectorsException" | "InvalidParameterCombinationException";

export class EventSelectorsError extends Error {
  override readonly name: SelectorsErrorName;
  readonly problems: readonly string[];
  constructor(name: SelectorsErrorName, problems: readonly string[]) {
    super(`${name}: ${problems.length === 1 ? problems[0] : `\n${problems.map((p) => `  - ${p}`).join("\n")}`}`);
    this.name = name;
    this.problems = problems;
  }
}
