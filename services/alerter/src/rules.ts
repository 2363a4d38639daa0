// The rules an alerter runs: the catalog of @trailstream/rules (the one `scan` and `rules` load too)
// from the alerter's settings. A rule file that does not load stops the start (an operator wrote it
// and should know); a shipped Sigma rule that does not compile is reported and skipped.
import { loadRuleCatalog, type Rule, type RuleCatalog, type RuleCatalogInputs, RuleSet } from "@trailstream/rules";
import type { AlerterConfig } from "./settings.ts";

export interface LoadedRules extends RuleCatalog {
  ruleSet: RuleSet;
}

type RuleSettings = Pick<
  AlerterConfig,
  "rulesBuiltin" | "ruleFiles" | "sigmaDir" | "rulesDisabled" | "ruleOverrides" | "alertSuppressDefaultMs"
>;

/** RULES_BUILTIN, SIGMA_DIR, RULE_FILES, RULES_DISABLED, RULE_OVERRIDES and ALERT_SUPPRESS_DEFAULT as the catalog's inputs. */
export function ruleInputs(config: RuleSettings): RuleCatalogInputs {
  return {
    builtin: config.rulesBuiltin,
    sigmaDir: config.sigmaDir,
    customFiles: config.ruleFiles,
    policy: {
      disabled: config.rulesDisabled,
      overrides: config.ruleOverrides,
      defaultSuppressMs: config.alertSuppressDefaultMs,
    },
  };
}

export async function loadRules(
  inputs: RuleCatalogInputs,
  onRuleError?: (rule: Rule, error: unknown) => void,
): Promise<LoadedRules> {
  const catalog = await loadRuleCatalog(inputs);
  return { ...catalog, ruleSet: new RuleSet(catalog.rules, onRuleError ? { onError: onRuleError } : {}) };
}
