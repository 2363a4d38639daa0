// Checks event selectors as PutEventSelectors does for a trail, collecting every problem so one
// error names them all. Limits and per-category field rules: CLOUDTRAIL-DIGESTS-SELECTORS-LOOKUP.md C.
import { isPlainObject } from "../record.ts";
import {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  type BasicEventSelector,
  DATA_RESOURCE_TYPES,
  type DataResource,
  type DataResourceType,
  type EventSelectorsDocument,
  EventSelectorsError,
  OPERATORS,
  type Operator,
  READ_WRITE_TYPES,
  type ReadWriteType,
} from "./shapes.ts";

const MAX_BASIC_SELECTORS = 5;
const MAX_DATA_RESOURCE_VALUES = 250;
const MAX_ADVANCED_VALUES = 500;
const EXCLUDABLE_SOURCES = ["kms.amazonaws.com", "rdsdata.amazonaws.com"];

/** Which fields a trail's advanced selector may use, by the event category it selects. */
const FIELDS_BY_CATEGORY: Record<string, readonly string[]> = {
  Management: ["eventCategory", "eventSource", "readOnly"],
  Data: [
    "eventCategory",
    "resources.type",
    "eventName",
    "eventSource",
    "eventType",
    "readOnly",
    "resources.ARN",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
  ],
  NetworkActivity: ["eventCategory", "eventSource", "eventName", "errorCode", "vpcEndpointId", "userIdentity.arn"],
};
const STORE_ONLY_CATEGORIES = ["Insight", "ConfigurationItem", "Evidence", "ActivityAuditLog"];
const KNOWN_FIELDS = new Set(Object.values(FIELDS_BY_CATEGORY).flat());

/** Operators a field takes, when not all of them. */
const FIELD_OPERATORS: Record<string, readonly Operator[]> = {
  eventCategory: ["Equals"],
  readOnly: ["Equals"],
  "resources.type": ["Equals"],
  errorCode: ["Equals"],
  sessionCredentialFromConsole: ["Equals", "NotEquals"],
};

/**
 * Reads the JSON users give `put-event-selectors`: the request document (`{EventSelectors: […]}` or
 * `{AdvancedEventSelectors: […]}`, a TrailName or TrailARN beside it is ignored), or the bare list
 * passed to `--event-selectors` / `--advanced-event-selectors`.
 */
export function parseEventSelectors(value: unknown): EventSelectorsDocument {
  const problems: string[] = [];
  let basic: unknown;
  let advanced: unknown;
  if (Array.isArray(value)) {
    const looksAdvanced = value.length > 0 && value.every((s) => isPlainObject(s) && "FieldSelectors" in s);
    if (looksAdvanced) advanced = value;
    else basic = value;
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (!["TrailName", "TrailARN", "EventSelectors", "AdvancedEventSelectors"].includes(key)) {
        problems.push(`unknown parameter ${key}`);
      }
    }
    basic = value.EventSelectors;
    advanced = value.AdvancedEventSelectors;
    if (basic !== undefined && advanced !== undefined) {
      throw new EventSelectorsError("InvalidParameterCombinationException", [
        "give either EventSelectors or AdvancedEventSelectors, not both",
      ]);
    }
    if (basic === undefined && advanced === undefined)
      problems.push("EventSelectors or AdvancedEventSelectors is required");
  } else {
    problems.push("event selectors must be a JSON object or a JSON array");
  }
  let document: EventSelectorsDocument | undefined;
  if (advanced !== undefined) document = { kind: "advanced", selectors: advancedSelectors(advanced, problems) };
  else if (basic !== undefined) document = { kind: "basic", selectors: basicSelectors(basic, problems) };
  if (problems.length > 0 || !document) throw new EventSelectorsError("InvalidEventSelectorsException", problems);
  return document;
}

function basicSelectors(value: unknown, problems: string[]): BasicEventSelector[] {
  const at = "EventSelectors";
  if (!Array.isArray(value)) {
    problems.push(`${at} must be a list`);
    return [];
  }
  if (value.length === 0) problems.push(`${at} must hold at least one selector`);
  if (value.length > MAX_BASIC_SELECTORS) {
    problems.push(`${at} holds ${value.length} selectors; a trail takes at most ${MAX_BASIC_SELECTORS}`);
  }
  let dataValues = 0;
  const out = value.map((raw, i): BasicEventSelector => {
    const where = `${at}[${i}]`;
    const selector: BasicEventSelector = {
      ReadWriteType: "All",
      IncludeManagementEvents: true,
      DataResources: [],
      ExcludeManagementEventSources: [],
    };
    if (!isPlainObject(raw)) {
      problems.push(`${where} must be an object`);
      return selector;
    }
    for (const key of Object.keys(raw)) {
      if (!["ReadWriteType", "IncludeManagementEvents", "DataResources", "ExcludeManagementEventSources"].includes(key))
        problems.push(`${where}: unknown field ${key}`);
    }
    if (raw.ReadWriteType !== undefined) {
      if ((READ_WRITE_TYPES as readonly unknown[]).includes(raw.ReadWriteType))
        selector.ReadWriteType = raw.ReadWriteType as ReadWriteType;
      else problems.push(`${where}.ReadWriteType must be one of ${READ_WRITE_TYPES.join(", ")}`);
    }
    if (raw.IncludeManagementEvents !== undefined) {
      if (typeof raw.IncludeManagementEvents === "boolean")
        selector.IncludeManagementEvents = raw.IncludeManagementEvents;
      else problems.push(`${where}.IncludeManagementEvents must be true or false`);
    }
    if (raw.ExcludeManagementEventSources !== undefined) {
      const sources = stringList(
        raw.ExcludeManagementEventSources,
        `${where}.ExcludeManagementEventSources`,
        problems,
        0,
      );
      for (const s of sources) {
        if (!EXCLUDABLE_SOURCES.includes(s))
          problems.push(
            `${where}.ExcludeManagementEventSources: "${s}" cannot be excluded (only ${EXCLUDABLE_SOURCES.join(" and ")})`,
          );
      }
      selector.ExcludeManagementEventSources = sources;
    }
    if (raw.DataResources !== undefined) {
      if (!Array.isArray(raw.DataResources)) problems.push(`${where}.DataResources must be a list`);
      else
        selector.DataResources = raw.DataResources.flatMap((r, j): DataResource[] => {
          const resource = dataResource(r, `${where}.DataResources[${j}]`, problems);
          if (resource) dataValues += resource.Values.length;
          return resource ? [resource] : [];
        });
    }
    return selector;
  });
  if (dataValues > MAX_DATA_RESOURCE_VALUES) {
    problems.push(`the selectors name ${dataValues} data resources; a trail takes at most ${MAX_DATA_RESOURCE_VALUES}`);
  }
  return out;
}

const SERVICE_OF: Record<DataResourceType, string> = {
  "AWS::S3::Object": "s3",
  "AWS::Lambda::Function": "lambda",
  "AWS::DynamoDB::Table": "dynamodb",
};

function dataResource(raw: unknown, where: string, problems: string[]): DataResource | undefined {
  if (!isPlainObject(raw)) {
    problems.push(`${where} must be an object with Type and Values`);
    return undefined;
  }
  for (const key of Object.keys(raw))
    if (key !== "Type" && key !== "Values") problems.push(`${where}: unknown field ${key}`);
  if (!(DATA_RESOURCE_TYPES as readonly unknown[]).includes(raw.Type)) {
    problems.push(
      `${where}.Type must be one of ${DATA_RESOURCE_TYPES.join(", ")} (other types need advanced event selectors)`,
    );
    return undefined;
  }
  const type = raw.Type as DataResourceType;
  const values = stringList(raw.Values ?? [], `${where}.Values`, problems, 0);
  const service = SERVICE_OF[type];
  for (const v of values) {
    if (!new RegExp(`^arn:[a-z-]+:${service}(:|$)`).test(v)) {
      problems.push(`${where}.Values: "${v}" is not an ARN or ARN prefix of ${type} (arn:aws:${service}…)`);
    }
  }
  return { Type: type, Values: values };
}

function advancedSelectors(value: unknown, problems: string[]): AdvancedEventSelector[] {
  const at = "AdvancedEventSelectors";
  if (!Array.isArray(value)) {
    problems.push(`${at} must be a list`);
    return [];
  }
  if (value.length === 0) problems.push(`${at} must hold at least one selector`);
  let values = 0;
  const out = value.map((raw, i): AdvancedEventSelector => {
    const where = `${at}[${i}]`;
    if (!isPlainObject(raw)) {
      problems.push(`${where} must be an object with FieldSelectors`);
      return { FieldSelectors: [] };
    }
    for (const key of Object.keys(raw))
      if (key !== "Name" && key !== "FieldSelectors") problems.push(`${where}: unknown field ${key}`);
    const selector: AdvancedEventSelector = { FieldSelectors: [] };
    if (raw.Name !== undefined) {
      if (typeof raw.Name !== "string" || raw.Name.length > 1000)
        problems.push(`${where}.Name must be a string of at most 1000 characters`);
      else selector.Name = raw.Name;
    }
    if (!Array.isArray(raw.FieldSelectors) || raw.FieldSelectors.length === 0) {
      problems.push(`${where}.FieldSelectors must be a list of at least one field selector`);
      return selector;
    }
    const seen = new Set<string>();
    selector.FieldSelectors = raw.FieldSelectors.flatMap((f, j): AdvancedFieldSelector[] => {
      const field = fieldSelector(f, `${where}.FieldSelectors[${j}]`, problems);
      if (!field) return [];
      if (seen.has(field.Field)) problems.push(`${where}: the field ${field.Field} appears twice`);
      seen.add(field.Field);
      for (const op of OPERATORS) values += field[op]?.length ?? 0;
      return [field];
    });
    checkCategory(selector, where, problems);
    return selector;
  });
  if (values > MAX_ADVANCED_VALUES) {
    problems.push(`the advanced selectors hold ${values} values in all; a trail takes at most ${MAX_ADVANCED_VALUES}`);
  }
  return out;
}

function fieldSelector(raw: unknown, where: string, problems: string[]): AdvancedFieldSelector | undefined {
  if (!isPlainObject(raw)) {
    problems.push(`${where} must be an object with Field and an operator`);
    return undefined;
  }
  const name = raw.Field;
  if (typeof name !== "string" || !/^[\w|.]{1,1000}$/.test(name)) {
    problems.push(`${where}.Field must be a field name such as eventName or resources.ARN`);
    return undefined;
  }
  if (!KNOWN_FIELDS.has(name)) {
    problems.push(`${where}: ${name} is not a field advanced event selectors of a trail can use`);
    return undefined;
  }
  const field: AdvancedFieldSelector = { Field: name };
  for (const key of Object.keys(raw)) {
    if (key !== "Field" && !(OPERATORS as readonly string[]).includes(key))
      problems.push(`${where}: unknown operator ${key}`);
  }
  const allowed = FIELD_OPERATORS[name] ?? OPERATORS;
  let any = false;
  for (const op of OPERATORS) {
    if (raw[op] === undefined) continue;
    any = true;
    if (!allowed.includes(op)) {
      problems.push(`${where}: ${name} takes only ${allowed.join(" or ")}, not ${op}`);
      continue;
    }
    const list = stringList(raw[op], `${where}.${op}`, problems, 1);
    for (const v of list) checkValue(name, op, v, `${where}.${op}`, problems);
    field[op] = list;
  }
  if (!any) problems.push(`${where}: ${name} needs an operator (${allowed.join(", ")})`);
  return field;
}

function checkValue(field: string, op: Operator, v: string, where: string, problems: string[]): void {
  if ((field === "readOnly" || field === "sessionCredentialFromConsole") && v !== "true" && v !== "false")
    problems.push(`${where}: ${field} takes "true" or "false", not "${v}"`);
  if (field === "errorCode" && v !== "VpceAccessDenied")
    problems.push(`${where}: errorCode takes only "VpceAccessDenied", not "${v}"`);
  if (field === "resources.ARN" && (op === "Equals" || op === "NotEquals") && !/^arn:[a-z-]+:[a-z0-9-]+:/.test(v))
    problems.push(`${where}: with ${op}, resources.ARN takes a whole ARN, not "${v}" (use StartsWith for a prefix)`);
}

/** The category decides which other fields a selector may use and how. */
function checkCategory(selector: AdvancedEventSelector, where: string, problems: string[]): void {
  const byName = new Map(selector.FieldSelectors.map((f) => [f.Field, f]));
  const category = byName.get("eventCategory");
  const value = category?.Equals;
  if (!value) {
    problems.push(`${where}: eventCategory Equals is required (Management, Data or NetworkActivity)`);
    return;
  }
  if (value.length !== 1 || !value[0]) {
    problems.push(`${where}: eventCategory Equals takes one category`);
    return;
  }
  const name = value[0];
  const fields = FIELDS_BY_CATEGORY[name];
  if (!fields) {
    problems.push(
      STORE_ONLY_CATEGORIES.includes(name)
        ? `${where}: eventCategory ${name} is for event data stores, not trails`
        : `${where}: eventCategory must be Management, Data or NetworkActivity, not "${name}"`,
    );
    return;
  }
  for (const f of selector.FieldSelectors) {
    if (!fields.includes(f.Field)) problems.push(`${where}: ${name} events cannot be selected by ${f.Field}`);
  }
  const source = byName.get("eventSource");
  if (name === "Management" && source) {
    const ok =
      !source.Equals &&
      !source.StartsWith &&
      !source.EndsWith &&
      !source.NotStartsWith &&
      !source.NotEndsWith &&
      (source.NotEquals ?? []).every((s) => EXCLUDABLE_SOURCES.includes(s));
    if (!ok)
      problems.push(
        `${where}: on management events eventSource takes only NotEquals ${EXCLUDABLE_SOURCES.join(" or ")}`,
      );
  }
  if (name === "Data") {
    const type = byName.get("resources.type");
    if (!type?.Equals) problems.push(`${where}: Data events need resources.type Equals`);
    else if (type.Equals.length !== 1) problems.push(`${where}: resources.type Equals takes one resource type`);
  }
  if (name === "NetworkActivity") {
    const only = source?.Equals?.length === 1 && Object.keys(source).length === 2;
    if (!only) problems.push(`${where}: NetworkActivity events need eventSource Equals with one event source`);
  }
}

function stringList(value: unknown, where: string, problems: string[], min: number): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${where} must be a list of strings`);
    return [];
  }
  if (value.length < min) problems.push(`${where} must hold at least ${min} value`);
  const out: string[] = [];
  for (const v of value) {
    if (typeof v !== "string" || v.length < 1 || v.length > 2048)
      problems.push(`${where}: values are strings of 1 to 2048 characters`);
    else out.push(v);
  }
  return out;
}
