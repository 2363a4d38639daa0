// How CloudTrail signs a digest and how to check it: RSA PKCS#1 v1.5 over SHA-256 of four lines
// joined by LF (never CRLF), the hex signature kept in the digest object's S3 metadata. Public keys
// come from ListPublicKeys as DER, PKCS#1 or SubjectPublicKeyInfo; a key's fingerprint is the MD5
// of its DER bytes.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { DecodeError } from "../errors.ts";
import { fail, ok, type Result } from "../result.ts";
import type { DigestBody } from "./digest-file.ts";

/** The exact string CloudTrail signs. A starting digest's null previous signature is the word `null`. */
export function stringToSign(
  body: Pick<DigestBody, "digestEndTime" | "digestS3Bucket" | "digestS3Object" | "previousDigestSignature">,
  digestSha256: string,
): string {
  return [
    body.digestEndTime,
    `${body.digestS3Bucket}/${body.digestS3Object}`,
    digestSha256,
    body.previousDigestSignature ?? "null",
  ].join("\n");
}

const HEX = /^(?:[0-9a-f]{2})+$/i;

export function verifySignature(data: string, signatureHex: string, key: KeyObject): boolean {
  if (!HEX.test(signatureHex)) return false;
  try {
    return verify("sha256", Buffer.from(data, "utf8"), key, Buffer.from(signatureHex, "hex"));
  } catch {
    return false;
  }
}

/** Signs as CloudTrail does: for the sample generator and tests, which hold the private key. */
export function signString(data: string, privateKeyPem: string | KeyObject): string {
  const key = typeof privateKeyPem === "string" ? createPrivateKey(privateKeyPem) : privateKeyPem;
  return sign("sha256", Buffer.from(data, "utf8"), key).toString("hex");
}

export function fingerprintOf(der: Uint8Array): string {
  return createHash("md5").update(der).digest("hex");
}

/** Loads a DER public key: PKCS#1 as ListPublicKeys documents it, else SPKI as some keys are. */
export function loadPublicKey(der: Uint8Array): Result<KeyObject> {
  const buffer = Buffer.from(der);
  for (const type of ["pkcs1", "spki"] as const) {
    try {
      const key = createPublicKey({ key: buffer, format: "der", type });
      if (key.asymmetricKeyType === "rsa") return ok(key);
    } catch {
      // try the other encoding
    }
  }
  return fail(new DecodeError("shape", "the public key is neither a PKCS#1 nor an SPKI RSA key in DER"));
}

export interface PublicKey {
  fingerprint: string;
  key: KeyObject;
  /** ms; undefined when not given. */
  validFrom?: number;
  validTo?: number;
}

/**
 * Reads what `aws cloudtrail list-public-keys` prints (or ListPublicKeys answers through an SDK):
 * `{"PublicKeyList": [{"Value": base64 DER, "ValidityStartTime", "ValidityEndTime", "Fingerprint"}]}`.
 * A key whose fingerprint is not the MD5 of its bytes is refused.
 */
export function parsePublicKeyList(json: unknown): Result<PublicKey[]> {
  // The CLI prints `PublicKeyList`; AWS's documented sample spells it `publicKeyList`.
  const o = json as { PublicKeyList?: unknown; publicKeyList?: unknown } | null;
  const list = o?.PublicKeyList ?? o?.publicKeyList;
  if (!Array.isArray(list)) return fail(new DecodeError("shape", "no PublicKeyList array", "$.PublicKeyList"));
  const keys: PublicKey[] = [];
  for (const [i, entry] of list.entries()) {
    const where = `$.PublicKeyList[${i}]`;
    const e = entry as Record<string, unknown>;
    const value = e?.Value;
    const der =
      typeof value === "string" ? Buffer.from(value, "base64") : value instanceof Uint8Array ? value : undefined;
    if (!der || der.length === 0) return fail(new DecodeError("field", "Value is not a base64 DER key", where));
    const fingerprint = typeof e.Fingerprint === "string" ? e.Fingerprint.toLowerCase() : fingerprintOf(der);
    if (fingerprintOf(der) !== fingerprint) {
      return fail(new DecodeError("field", `the key's MD5 is not its Fingerprint ${fingerprint}`, where));
    }
    const key = loadPublicKey(der);
    if (!key.ok) return fail(new DecodeError("field", key.error.message, where));
    keys.push({
      fingerprint,
      key: key.value,
      ...optionalTime("validFrom", e.ValidityStartTime),
      ...optionalTime("validTo", e.ValidityEndTime),
    });
  }
  return ok(keys);
}

function optionalTime(name: "validFrom" | "validTo", value: unknown): Partial<Record<typeof name, number>> {
  // The CLI prints ISO times; an SDK gives Date; some tools print epoch seconds.
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === "number"
        ? value * 1000
        : typeof value === "string"
          ? /^\d+(\.\d+)?$/.test(value)
            ? Number(value) * 1000
            : Date.parse(value)
          : Number.NaN;
  return Number.isFinite(ms) ? { [name]: ms } : {};
}

/** Public keys by fingerprint; a fingerprint always names the same key, so they are never refreshed. */
export class Keyring {
  readonly #keys = new Map<string, PublicKey>();

  add(keys: Iterable<PublicKey>): void {
    for (const k of keys) this.#keys.set(k.fingerprint, k);
  }

  get(fingerprint: string): PublicKey | undefined {
    return this.#keys.get(fingerprint.toLowerCase());
  }

  get size(): number {
    return this.#keys.size;
  }
}

/** Writes a key as `list-public-keys` would print it (PKCS#1 DER, base64): for the sample tree. */
export function publicKeyListEntry(key: KeyObject, validFrom: Date, validTo: Date): Record<string, string> {
  const der = key.export({ format: "der", type: "pkcs1" });
  return {
    Value: der.toString("base64"),
    ValidityStartTime: validFrom.toISOString(),
    ValidityEndTime: validTo.toISOString(),
    Fingerprint: fingerprintOf(der),
  };
}
