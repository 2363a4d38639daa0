// The rule policy the CLI applies: the same RULES_DISABLED and RULE_OVERRIDES the alerter reads, so
// `scan` and `rules list` say what the alerter would do with the same settings.
import { DEFAULT_POLICY, parseOverrides, type RulePolicy, RulePolicyError } from "@trailstream/rules";
import { UsageError } from "./exit.ts";

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
