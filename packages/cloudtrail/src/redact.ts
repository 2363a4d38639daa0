// Secrets that CloudTrail records can carry (credential-issuing responses, passwords and tokens in
// request parameters): replaced wherever they appear before a record is logged or alerted on.
// The record on the Kafka topics is left exactly as received; only what people read is redacted.
//
// A key is judged by its words (camelCase, snake_case and kebab-case split), not by a fixed list of
// names: AWS adds APIs faster than a list grows, and a name like `webIdentityToken` or
// `privateKeyPem` is a secret whatever service logged it. Names that only point at a secret or
// describe one (`secretId`, `passwordLastUsed`, `tokenType`) and the pagination and idempotency
// tokens (`nextToken`, `clientToken`) are kept, since investigations need them and they open nothing.

export const REDACTED = "[REDACTED]";

/** Deeper than this a subtree is replaced whole: nothing below it is read, so nothing can slip by. */
export const REDACT_MAX_DEPTH = 64;
export const REDACTED_TOO_DEEP = `[REDACTED: deeper than ${REDACT_MAX_DEPTH} levels]`;

/** A key holding one of these words holds a secret... */
const SECRET_WORDS = new Set([
  "secret",
  "secrets",
  "password",
  "passwords",
  "passwd",
  "passphrase",
  "token",
  "tokens",
  "assertion",
  "authorization",
  "cookie",
  "credential",
]);

/** ...and so does one holding one of these pairs of words in a row. */
const SECRET_PAIRS = [
  ["private", "key"],
  ["api", "key"],
  ["access", "key"],
  ["key", "material"],
  ["signing", "key"],
  ["session", "key"],
  ["client", "secret"],
];

/** ...unless its last word says it names, points at or describes the secret rather than holds it. */
const DESCRIBING_LAST_WORDS = new Set([
  "id",
  "ids",
  "arn",
  "arns",
  "name",
  "names",
  "type",
  "types",
  "policy",
  "policies",
  "age",
  "length",
  "expiration",
  "expiry",
  "expires",
  "enabled",
  "required",
  "status",
  "state",
  "count",
  "date",
  "time",
  "timestamp",
  "used",
  "changed",
  "created",
  "version",
  "versions",
  "stage",
  "stages",
  "prevention",
  "origin",
  "spec",
  "usage",
  "set",
  "present",
  "authenticated",
  "issued",
  "duration",
  "seconds",
  "location",
  "format",
  "scope",
  "scopes",
  "provider",
  "endpoint",
  "url",
  "uri",
  "rotation",
  "reset",
]);

/** Tokens that page through results or make a call idempotent: no access comes with them. */
const HARMLESS = new Set([
  "nexttoken",
  "paginationtoken",
  "continuationtoken",
  "startingtoken",
  "marker",
  "clienttoken",
  "clientrequesttoken",
  "idempotencytoken",
  "requesttoken",
  "accesskeyid",
]);

/** The key's words, lower-cased: `webIdentityToken` → web, identity, token; `SAMLAssertion` → saml, assertion. */
function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

const verdicts = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const verdict = judge(key);
  // Key names repeat endlessly across records; the cache is bounded so odd names cannot grow it.
  if (verdicts.size < 10_000) verdicts.set(key, verdict);
  return verdict;
}

function judge(key: string): boolean {
  const words = wordsOf(key);
  if (words.length === 0 || HARMLESS.has(words.join(""))) return false;
  const last = words[words.length - 1] ?? "";
  if (DESCRIBING_LAST_WORDS.has(last) && words.length > 1) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  for (let i = 0; i + 1 < words.length; i++) {
    if (SECRET_PAIRS.some(([a, b]) => words[i] === a && words[i + 1] === b)) return true;
  }
  return false;
}

/** A deep copy with every secret-looking field's value replaced; the input is not changed. */
export function redact<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= REDACT_MAX_DEPTH) return REDACTED_TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // A flag under a secret's name (`allowUsersToChangePassword: true`) says nothing secret.
    const holdsValue = v !== null && v !== undefined && typeof v !== "boolean";
    out[key] = holdsValue && isSecretKey(key) ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}
