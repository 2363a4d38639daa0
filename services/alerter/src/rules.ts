// The rules an alerter runs: the built-in catalog (CIS and the shipped Sigma rules) and custom YAML
// files. A custom file that does not load stops the start (an operator wrote it and should know);
// a shipped Sigma rule that does not compile is reported and skipped. RULE_FILES may hold Sigma
// files too, correlation rules included.
import {
  applyPolicy,
  builtinRules,
  type CorrelationRule,
  DEFAULT_POLICY,
  loadRuleFile,
  type Rule,
  type RulePolicy,
  RuleSet,
  type RuleStatus,
} from "@trailstream/rules";

export interface LoadedRules {
  ruleSet: RuleSet;
  /** Sigma correlation rules from the built-in set and the rule files (resolved when the engine is built). */
  correlations: CorrelationRule[];
  bySource: Record<string, number>;
  failures: { file: string; reason: string }[];
  duplicateIds: string[];
  /** Every rule loaded, on or off, and why. */
  status: RuleStatus[];
}

export async function loadRules(options: {
  builtin: boolean;
  files: readonly string[];
  sigmaDir?: string;
  /** RULES_DISABLED, RULE_OVERRIDES and the default suppression; the shipped defaults when absent. */
  policy?: RulePolicy;
  onRuleError?: (rule: Rule, error: unknown) => void;
}): Promise<LoadedRules> {
  const rules: Rule[] = [];
  const correlations: CorrelationRule[] = [];
  const failures: { file: string; reason: string }[] = [];
  if (options.builtin) {
    const builtin = await builtinRules(options.sigmaDir ? { sigmaDir: options.sigmaDir } : {});
    rules.push(...builtin.rules);
    correlations.push(...builtin.correlations);
    failures.push(...builtin.failures);
  }
  for (const file of options.files) {
    const loaded = await loadRuleFile(file);
    rules.push(...loaded.rules);
    correlations.push(...loaded.correlations);
  }
  // A later rule with an id already taken is dropped: ids name alerts and Redis keys.
  const seen = new Set<string>();
  const duplicateIds: string[] = [];
  const unique = rules.filter((r) => {
    if (seen.has(r.id)) {
      duplicateIds.push(r.id);
      return false;
    }
    seen.add(r.id);
    return true;
  });
  const { rules: enabled, status } = applyPolicy(unique, options.policy ?? DEFAULT_POLICY);
  const bySource: Record<string, number> = { cis: 0, sigma: 0, custom: 0 };
  for (const r of enabled) bySource[r.source] = (bySource[r.source] ?? 0) + 1;
  const ruleSet = new RuleSet(enabled, options.onRuleError ? { onError: options.onRuleError } : {});
  return { ruleSet, correlations, bySource, failures, duplicateIds, status };
}
