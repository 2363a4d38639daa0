// @trailstream/rules: CloudWatch Logs filter patterns, Sigma rules and the CIS catalog compiled to
// plain functions, an index that keeps per-event cost flat, and threshold/suppression decisions.
export { BUILTIN_SIGMA_DIR, builtinRules } from "./builtin.ts";
export { CIS_CONTROLS, cisCatalog } from "./catalog/cis.ts";
export * from "./correlation/index.ts";
export { compileCustomRules, loadCustomRules, RuleValidationError } from "./custom/load.ts";
export { parseDuration } from "./duration.ts";
export {
  compileFilterPattern,
  FilterPatternSyntaxError,
  parseFilterPattern,
  patternIndexKeys,
} from "./filter-pattern/index.ts";
export {
  loadRuleCatalog,
  type RuleCatalog,
  type RuleCatalogInputs,
  RuleFileError,
} from "./load-rules.ts";
export {
  ACCOUNT_FIELD,
  applyPolicy,
  DEFAULT_POLICY,
  OFF_BY_DEFAULT,
  PRINCIPAL_FIELD,
  parseOverrides,
  type RuleOverride,
  type RulePolicy,
  RulePolicyError,
  type RuleStatus,
} from "./policy.ts";
export { backtrackingRisk } from "./regex-safety.ts";
export { compileRuleFile, isSigmaText, loadRuleFile } from "./rule-file.ts";
export { INDEX_FIELDS, RuleSet, RuleTooSlowError } from "./ruleset.ts";
export { compileDetection } from "./sigma/detection.ts";
export { SigmaRuleError } from "./sigma/errors.ts";
export {
  compileSigmaDocument,
  compileSigmaFile,
  compileSigmaRule,
  type LoadFailure,
  loadSigmaRules,
  type SigmaFile,
} from "./sigma/load.ts";
export { type AlertDecision, decideAlert, groupKey, MemoryWindowStore, type WindowStore } from "./threshold.ts";
export type { IndexKeys, Rule, RuleSource, Severity, Suppression, Threshold } from "./types.ts";
export { SEVERITIES } from "./types.ts";
