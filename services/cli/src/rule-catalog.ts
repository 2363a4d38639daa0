// The rule catalog as the CLI loads it, for `scan` and `rules list|test` alike: @trailstream/rules'
// one loader (loadRuleCatalog, as the alerter uses it), the same RULES_DISABLED and RULE_OVERRIDES the
// alerter reads, so both commands say what the alerter would do with the same settings; a rule file,
// Sigma folder or policy that cannot be used is a usage error naming the flag or variable (exit 2).
import {
  DEFAULT_POLICY,
  loadRuleCatalog,
  parseOverrides,
  type RuleCatalog,
  type RuleCatalogInputs,
  RuleFileError,
  type RulePolicy,
  RulePolicyError,
} from "@trailstream/rules";
import { UsageError } from "./exit.ts";
import { safe } from "./text.ts";

export function policyFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaultSuppressMs = DEFAULT_POLICY.defaultSuppressMs,
): RulePolicy {
  try {
    return {
      disabled: (env.RULES_DISABLED ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      overrides: parseOverrides(env.RULE_OVERRIDES ?? ""),
      defaultSuppressMs,
    };
  } catch (error) {
    if (error instanceof RulePolicyError) throw new UsageError(`RULE_OVERRIDES: ${error.message}`);
    throw error;
  }
}

/**
 * loadRuleCatalog for a command: a rule file or the Sigma folder that cannot be read is a UsageError
 * naming its flag (`customFlag` for the rule files: --rules for scan, --custom for rules), and so is
 * a policy naming no loaded rule; each Sigma file that did not compile is reported on stderr.
 */
export async function loadCliRuleCatalog(
  inputs: RuleCatalogInputs,
  options: { command: string; customFlag: string },
): Promise<RuleCatalog> {
  let catalog: RuleCatalog;
  try {
    catalog = await loadRuleCatalog(inputs);
  } catch (error) {
    if (error instanceof RuleFileError) {
      throw new UsageError(`${error.input === "sigmaDir" ? "--sigma-dir" : options.customFlag} ${error.message}`);
    }
    if (error instanceof RulePolicyError) throw new UsageError(`RULES_DISABLED or RULE_OVERRIDES: ${error.message}`);
    throw error;
  }
  for (const f of catalog.failures)
    process.stderr.write(`${options.command}: Sigma rule ${safe(f.file)} not loaded: ${safe(f.reason)}\n`);
  return catalog;
}
