// What integrity checking says about one log file, one digest or one chain. A verdict's id names
// what it is about, so the same finding has the same id wherever and however often it is made.

export const VERDICT_KINDS = [
  "valid",
  "hash-mismatch",
  "missing-log-file",
  "unreferenced-log-file",
  "digest-missing",
  "digest-moved",
  "signature-invalid",
  "unknown-key",
  "gap",
  "trailing-data",
  "digests-stopped",
  "digest-invalid",
] as const;

export type VerdictKind = (typeof VERDICT_KINDS)[number];

export type VerdictSubject = "log-file" | "digest" | "chain";

export interface Verdict {
  v: 1;
  /** `kind:subject`: the same finding always has the same id, so consumers can drop repeats. */
  id: string;
  kind: VerdictKind;
  subject: VerdictSubject;
  bucket: string;
  /** The log file's or digest's key; for a chain, its newest digest's. */
  key: string;
  /** The chain id (see DigestKey.chain) when known. */
  chain?: string;
  trail?: string;
  account?: string;
  /** The delivering Region. */
  region?: string;
  /** The digest that revealed this, when another digest did. */
  digestKey?: string;
  message: string;
  /** ISO time of the verdict. */
  at: string;
  /** ISO time the log file was delivered (from its name), for the delivery-to-verdict latency. */
  deliveredAt?: string;
}

export const isValidVerdict = (v: Verdict) => v.kind === "valid";
