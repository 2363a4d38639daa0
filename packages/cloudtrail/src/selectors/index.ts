export { resourcesOf, scalarField, selectorCategory } from "./fields.ts";
export { compileEventSelectors, type EventSelectors, eventSelectors } from "./match.ts";
export { eventSelectorsFromSetting } from "./setting.ts";
export {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  type BasicEventSelector,
  type DataResource,
  type EventSelectorsDocument,
  EventSelectorsError,
  OPERATORS,
  type Operator,
} from "./shapes.ts";
export { parseEventSelectors } from "./validate.ts";
