// The one way a rule catalog is put together, for the alerter, `scan` and `rules test` alike: the
// built-in CIS controls and Sigma rules (the shipped ones, or a Sigma folder in their place), then
// custom YAML files. Given the same inputs, every caller runs the same rules.
import { builtinRules } from "./builtin.ts";
import { type CorrelationFailure, resolveCorrelations } from "./correlation/engine.ts";
import type { CorrelationRule } from "./correlation/types.ts";
import { applyPolicy, DEFAULT_POLICY, type RulePolicy, type RuleStatus } from "./policy.ts";
import { loadRuleFile } from "./rule-file.ts";
import type { LoadFailure } from "./sigma/load.ts";
import type { Rule, RuleSource } from "./types.ts";

export interface RuleCatalogInputs {
  /** The CIS controls and the Sigma rules; false for custom rules only (sigmaDir is then unused). */
  builtin: boolean;
  /** A folder of Sigma rules read instead of the shipped ones. */
  sigmaDir?: string | undefined;
  /** Rule files, in order: trailstream's custom rule lists or Sigma files (correlations included). */
  customFiles: readonly string[];
  /** RULES_DISABLED, RULE_OVERRIDES and the default suppression; the shipped defaults when absent. */
  policy?: RulePolicy | undefined;
}

export interface RuleCatalog {
  /** The rules that are on, as the policy leaves them (its suppression and overrides applied). */
  rules: Rule[];
  /** Every rule loaded, on or off, each id once (a later rule with a taken id is dropped: ids name alerts and state keys). */
  loaded: Rule[];
  /** Every loaded rule, on or off, and why. */
  status: RuleStatus[];
  /** Every correlation rule loaded; the engine that runs them resolves their references. */
  correlations: CorrelationRule[];
  /** Correlations whose references do not resolve among the rules (an unknown rule, a cycle, ...), with why. */
  correlationFailures: CorrelationFailure[];
  bySource: Record<RuleSource, number>;
  /** Sigma files that did not compile: reported and skipped (a shipped catalog should not stop a start). */
  failures: LoadFailure[];
  duplicateIds: string[];
}

/**
 * A rule file or the Sigma folder could not be read or compiled: the caller's operator named it and
 * must hear (the alerter does not start, the CLI exits 2). `input` says which of the inputs it was.
 */
export class RuleFileError extends Error {
  override readonly name = "RuleFileError";
  readonly input: "sigmaDir" | "customFiles";
  readonly file: string;
  constructor(input: RuleFileError["input"], file: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const missing = code === "ENOENT" ? (input === "sigmaDir" ? "no such folder" : "no such file") : undefined;
    const message = missing ?? (cause instanceof Error ? cause.message : String(cause));
    super(message.includes(file) ? message : `${file}: ${message}`, { cause });
    this.input = input;
    this.file = file;
  }
}

export async function loadRuleCatalog(inputs: RuleCatalogInputs): Promise<RuleCatalog> {
  const rules: Rule[] = [];
  const correlations: CorrelationRule[] = [];
  const failures: LoadFailure[] = [];
  if (inputs.builtin) {
    const sigmaDir = inputs.sigmaDir;
    const builtin = await builtinRules(sigmaDir !== undefined ? { sigmaDir } : {}).catch((error: unknown) => {
      throw sigmaDir === undefined ? error : new RuleFileError("sigmaDir", sigmaDir, error);
    });
    rules.push(...builtin.rules);
    correlations.push(...builtin.correlations);
    failures.push(...builtin.failures);
  }
  for (const file of inputs.customFiles) {
    try {
      const loaded = await loadRuleFile(file);
      rules.push(...loaded.rules);
      correlations.push(...loaded.correlations);
    } catch (error) {
      throw new RuleFileError("customFiles", file, error);
    }
  }
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
  // Throws RulePolicyError for a policy that names no loaded rule.
  const { rules: enabled, status } = applyPolicy(unique, inputs.policy ?? DEFAULT_POLICY);
  const bySource: Record<RuleSource, number> = { cis: 0, sigma: 0, custom: 0 };
  for (const r of enabled) bySource[r.source]++;
  const correlationFailures = resolveCorrelations(correlations, unique).failures;
  return {
    rules: enabled,
    loaded: unique,
    status,
    correlations,
    correlationFailures,
    bySource,
    failures,
    duplicateIds,
  };
}
