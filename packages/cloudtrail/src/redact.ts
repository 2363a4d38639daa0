// Secrets that CloudTrail records can carry (credential-issuing responses, passwords in request
// parameters): replaced wherever they appear, at any depth, before a record is logged or alerted on.
// The record on the Kafka topics is left exactly as received; only what people read is redacted.

export const REDACTED = "[REDACTED]";

const SECRET_KEYS =
  /^(secretAccessKey|sessionToken|password|newPassword|oldPassword|passwordData|secretString|secretBinary|privateKey|privateKeyMaterial|keyMaterial|clientSecret|authorization|x-amz-security-token|SAMLAssertion|accessToken|refreshToken|idToken|credentials?Secret)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.test(key);
}

/** A deep copy with every secret-looking field's value replaced; the input is not changed. */
export function redact<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSecretKey(key) && v !== null && v !== undefined ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}
