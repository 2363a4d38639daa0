// Which rules run, and how loudly: the built-in catalog's defaults (a few noisy rules shipped off,
// a suppression window per rule and group for the rest) and the operator's overrides on top. Pure:
// the alerter, `scan` and `rules list` apply the same policy, so they agree on what alerts.
import { parseDuration } from "./duration.ts";
import { type Rule, SEVERITIES, type Severity } from "./types.ts";

/** Built-in rules shipped off, with why (docs/rules.md has the measurements). */
export const OFF_BY_DEFAULT: Readonly<Record<string, string>> = {
  // SigmaHQ "AWS STS AssumeRole Misuse": type AssumedRole issued by a Role, nothing else; that is
  // every call made through an assumed role (52 % of the demo's alerts, ~99 % of events where
  // callers are roles).
  "905d389b-b853-46d0-9d3d-dea0d3a3cd49":
    "off by default: matches every call made with a role's session (52 % of the demo's alerts)",
};

/** The groups a built-in rule's default suppression counts in: the account, and the principal when asked. */
export const ACCOUNT_FIELD = "recipientAccountId";
export const PRINCIPAL_FIELD = "userIdentity.arn";

export interface RuleOverride {
  enabled?: boolean;
  severity?: Severity;
  /** A suppression window for the rule (per its group), or 0 for none. */
  suppressMs?: number;
  /** Label (and group) the rule's alerts by principal too. */
  principal?: boolean;
}

export interface RulePolicy {
  /** Rule ids turned off (RULES_DISABLED). */
  disabled: readonly string[];
  /** Per rule id (RULE_OVERRIDES). */
  overrides: Readonly<Record<string, RuleOverride>>;
  /** Built-in rules without a threshold or suppression of their own get this window; 0 for none. */
  defaultSuppressMs: number;
}

export const DEFAULT_POLICY: RulePolicy = { disabled: [], overrides: {}, defaultSuppressMs: 15 * 60_000 };

export interface RuleStatus {
  id: string;
  enabled: boolean;
  /** Why it is on or off, for `rules list`. */
  why: string;
}

export class RulePolicyError extends Error {
  override readonly name = "RulePolicyError";
}

/**
 * The rules that run under `policy`, with overrides applied, and the status of every rule. An id in
 * `disabled` or `overrides` that names no rule is an error: a typo would otherwise leave a noisy
 * rule on without a word.
 */
export function applyPolicy(
  rules: readonly Rule[],
  policy: RulePolicy = DEFAULT_POLICY,
): { rules: Rule[]; status: RuleStatus[] } {
  const ids = new Set(rules.map((r) => r.id));
  const unknown = [...policy.disabled, ...Object.keys(policy.overrides)].filter((id) => !ids.has(id));
  if (unknown.length > 0) throw new RulePolicyError(`no rule with id ${unknown.map((id) => `"${id}"`).join(", ")}`);
  const disabled = new Set(policy.disabled);
  const out: Rule[] = [];
  const status: RuleStatus[] = [];
  for (const rule of rules) {
    const o = policy.overrides[rule.id] ?? {};
    const builtin = rule.source !== "custom";
    let enabled = true;
    let why = builtin ? "on: built-in" : "on: custom rule";
    if (builtin && OFF_BY_DEFAULT[rule.id]) {
      enabled = false;
      why = OFF_BY_DEFAULT[rule.id] ?? "off by default";
    }
    if (o.enabled !== undefined) {
      enabled = o.enabled;
      why = `${enabled ? "on" : "off"}: RULE_OVERRIDES`;
    }
    if (disabled.has(rule.id)) {
      enabled = false;
      why = "off: RULES_DISABLED";
    }
    status.push({ id: rule.id, enabled, why });
    if (!enabled) continue;
    out.push(withOverrides(rule, o, builtin ? policy.defaultSuppressMs : 0));
  }
  return { rules: out, status };
}

function withOverrides(rule: Rule, o: RuleOverride, defaultSuppressMs: number): Rule {
  const principal = o.principal ?? rule.principalLabel ?? false;
  const groupBy = principal ? [ACCOUNT_FIELD, PRINCIPAL_FIELD] : [ACCOUNT_FIELD];
  const out: Rule = { ...rule };
  if (principal) out.principalLabel = true;
  if (o.severity !== undefined) out.severity = o.severity;
  if (o.suppressMs !== undefined) {
    if (o.suppressMs > 0) out.suppress = { windowMs: o.suppressMs, groupBy: rule.suppress?.groupBy ?? groupBy };
    else delete out.suppress;
  } else if (!rule.suppress && !rule.threshold && !rule.silent && defaultSuppressMs > 0) {
    out.suppress = { windowMs: defaultSuppressMs, groupBy };
  }
  return out;
}

/**
 * RULE_OVERRIDES: `id:key=value,key=value;id:...` with keys enabled (true/false), severity,
 * suppress (a duration, or 0) and principal (true/false). One line, so it fits an env variable.
 */
export function parseOverrides(text: string): Record<string, RuleOverride> {
  const out: Record<string, RuleOverride> = {};
  for (const part of text
    .split(";")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = part.lastIndexOf(":");
    if (colon <= 0) throw new RulePolicyError(`"${part}": expected id:key=value[,key=value]`);
    const id = part.slice(0, colon).trim();
    const o: RuleOverride = out[id] ?? {};
    for (const pair of part
      .slice(colon + 1)
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [key, value = ""] = pair.split("=").map((x) => x.trim());
      if (key === "enabled" || key === "principal") {
        if (value !== "true" && value !== "false") throw new RulePolicyError(`${id}: ${key} must be true or false`);
        o[key] = value === "true";
      } else if (key === "severity") {
        if (!SEVERITIES.includes(value as Severity))
          throw new RulePolicyError(`${id}: severity must be one of ${SEVERITIES.join(", ")}`);
        o.severity = value as Severity;
      } else if (key === "suppress") {
        const ms = value === "0" || value === "off" ? 0 : parseDuration(value);
        if (ms === undefined) throw new RulePolicyError(`${id}: suppress must be a duration such as 15m, or 0`);
        o.suppressMs = ms;
      } else throw new RulePolicyError(`${id}: unknown key "${key}" (known: enabled, severity, suppress, principal)`);
    }
    out[id] = o;
  }
  return out;
}
