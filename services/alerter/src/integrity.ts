// The built-in log file integrity rule: each verdict on the integrity topic that is not `valid`
// becomes an alert through the alerter's sinks. On by default; off for the trails named in
// INTEGRITY_ALERTS_OFF_TRAILS (or everywhere with INTEGRITY_ALERTS=false). The alert's identity is
// the verdict's id, so a verdict read twice (Kafka is at-least-once) is the same alert twice, which
// Alertmanager and webhook receivers fold into one.
import { VERDICT_KINDS, type Verdict, type VerdictKind } from "@trailstream/cloudtrail";
import type { Severity } from "@trailstream/rules";
import type { AlertDocument } from "./alert.ts";

export const INTEGRITY_RULE_ID = "trailstream-log-file-integrity";

const TITLES: Record<Exclude<VerdictKind, "valid">, string> = {
  "hash-mismatch": "A CloudTrail log file was changed after delivery",
  "missing-log-file": "A CloudTrail log file listed in its digest is missing",
  "unreferenced-log-file": "A CloudTrail log file is in no digest",
  "digest-missing": "A CloudTrail digest file is missing",
  "digest-moved": "A CloudTrail digest file is not where it was delivered",
  "signature-invalid": "A CloudTrail digest file's signature does not verify",
  "unknown-key": "A CloudTrail digest file is signed by an unknown key",
  gap: "A CloudTrail digest chain restarted (validation or logging was off)",
  "trailing-data": "A CloudTrail file has data after its gzip stream",
  "digests-stopped": "A CloudTrail trail stopped delivering digests",
  "digest-invalid": "A CloudTrail digest file is malformed",
};

const SEVERITY: Partial<Record<VerdictKind, Severity>> = {
  "hash-mismatch": "critical",
  "missing-log-file": "critical",
  "digest-missing": "critical",
  "signature-invalid": "critical",
  "digests-stopped": "high",
  gap: "high",
};

export type VerdictOutcome = { ok: true; verdict: Verdict } | { ok: false; message: string };

export function decodeVerdict(value: Buffer | string | null, position: string): VerdictOutcome {
  let v: Partial<Verdict>;
  try {
    v = JSON.parse(String(value ?? "")) as Partial<Verdict>;
  } catch {
    return { ok: false, message: `verdict ${position}: not JSON` };
  }
  if (
    v?.v !== 1 ||
    typeof v.id !== "string" ||
    !VERDICT_KINDS.includes(v.kind as VerdictKind) ||
    typeof v.bucket !== "string" ||
    typeof v.key !== "string" ||
    typeof v.message !== "string" ||
    typeof v.at !== "string"
  ) {
    return {
      ok: false,
      message: `verdict ${position}: not an integrity verdict (v, id, kind, bucket, key, message, at)`,
    };
  }
  return { ok: true, verdict: v as Verdict };
}

export interface IntegrityRuleOptions {
  enabled: boolean;
  /** Trail names whose verdicts raise no alert. */
  offTrails: ReadonlySet<string>;
}

/** The alert a verdict raises, or null when it raises none (valid, or turned off for its trail). */
export function verdictAlert(v: Verdict, options: IntegrityRuleOptions, nowMs: number): AlertDocument | null {
  if (v.kind === "valid" || !options.enabled) return null;
  if (v.trail !== undefined && options.offTrails.has(v.trail)) return null;
  const at = Date.parse(v.at);
  return {
    v: 1,
    alertId: `${INTEGRITY_RULE_ID}:${v.id}`,
    ruleId: INTEGRITY_RULE_ID,
    title: TITLES[v.kind],
    severity: SEVERITY[v.kind] ?? "medium",
    ruleSource: "custom",
    description: v.message,
    runbook: "docs/ingester.md#log-file-integrity",
    labels: { integrity_kind: v.kind, ...(v.trail ? { trail: v.trail } : {}) },
    group: "",
    identity: v.id,
    summary: {
      eventName: v.kind,
      eventSource: "trailstream.integrity",
      principal: null,
      principalType: null,
      sourceIPAddress: null,
      awsRegion: v.region ?? null,
      recipientAccountId: v.account ?? null,
      errorCode: null,
    },
    firstSeen: v.at,
    eventTime: v.deliveredAt ?? null,
    alertedAt: new Date(nowMs).toISOString(),
    lagSeconds: Number.isFinite(at) ? Math.round(nowMs - at) / 1_000 : null,
    // The verdict stands where an alert on an event carries the event.
    event: { ...v } as unknown as AlertDocument["event"],
  };
}
