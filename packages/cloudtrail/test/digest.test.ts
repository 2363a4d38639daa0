import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  checkDigest,
  decodeLogFile,
  digestKeyFor,
  fingerprintOf,
  Keyring,
  keyLookupMs,
  LogFileHasher,
  parseDigest,
  parseDigestKey,
  parsePublicKeyList,
  stringToSign,
  verifySignature,
  writeDigest,
} from "../src/index.ts";
import { chain, deliver, Harness, HOUR, logObject, testKey } from "./digest-support.ts";
import { chunked, collect } from "./support.ts";

const sample = JSON.parse(readFileSync(new URL("fixtures/aws-list-public-keys-sample.json", import.meta.url), "utf8"));

describe("public keys", () => {
  test("AWS's published list-public-keys sample loads, PKCS#1 and SPKI, each matching its fingerprint", () => {
    const keys = parsePublicKeyList(sample);
    assert.ok(keys.ok, keys.ok ? "" : keys.error.message);
    const entries = sample.publicKeyList as { Value: string; Fingerprint: string }[];
    assert.deepEqual(
      keys.value.map((k) => k.fingerprint),
      entries.map((e) => e.Fingerprint),
    );
    for (const [i, e] of entries.entries()) {
      const der = Buffer.from(e.Value, "base64");
      assert.equal(fingerprintOf(der), e.Fingerprint);
      assert.equal(keys.value[i]?.key.asymmetricKeyDetails?.modulusLength, 2048);
    }
    // The third is SubjectPublicKeyInfo, the first two PKCS#1.
    assert.ok(entries[2]?.Value.startsWith("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"));
    assert.equal(keys.value[0]?.validFrom, 1436317441000);
  });

  test("a key whose bytes do not hash to its fingerprint is refused", () => {
    const bad = structuredClone(sample);
    bad.publicKeyList[0].Fingerprint = "00000000000000000000000000000000";
    const keys = parsePublicKeyList(bad);
    assert.ok(!keys.ok && /Fingerprint/.test(keys.error.message));
    assert.ok(!parsePublicKeyList({}).ok);
    assert.ok(!parsePublicKeyList({ PublicKeyList: [{ Value: "bm90IGEga2V5", Fingerprint: "x" }] }).ok);
  });
});

describe("the signed string", () => {
  test("a starting digest signs the word null; LF joins the four lines; CRLF does not verify", () => {
    const key = testKey();
    const [first, second] = chain(key, { hours: 2 });
    assert.ok(first && second);
    const p1 = parseDigest(first.digest.body);
    assert.ok(p1.ok);
    const s1 = stringToSign(p1.value.body, p1.value.sha256);
    assert.equal(s1.split("\n").length, 4);
    assert.equal(s1.split("\n")[3], "null");
    assert.equal(s1.split("\n")[1], `trail-bucket/${first.digest.key}`);
    assert.ok(verifySignature(s1, first.digest.signature, key.publicKey.key));
    assert.ok(!verifySignature(s1.replace(/\n/g, "\r\n"), first.digest.signature, key.publicKey.key));
    assert.ok(!verifySignature(s1, "zz", key.publicKey.key));
    const p2 = parseDigest(second.digest.body);
    assert.ok(p2.ok);
    assert.equal(p2.value.body.previousDigestSignature, first.digest.signature);
    assert.equal(p2.value.body.previousDigestHashValue, p1.value.sha256);
  });
});

describe("digest keys", () => {
  test("multi-Region, organization and backfill keys name their chain", () => {
    const k = digestKeyFor(
      {
        prefix: "pre/fix",
        organizationId: "o-abcdefghij",
        account: "327878933619",
        region: "ap-northeast-1",
        trail: "llm_guard-trail",
        homeRegion: "us-west-2",
        backfill: true,
      },
      new Date("2023-10-15T23:04:04Z"),
    );
    assert.equal(
      k,
      "pre/fix/AWSLogs/o-abcdefghij/327878933619/CloudTrail-Digest/ap-northeast-1/2023/10/15/327878933619_CloudTrail-Digest_ap-northeast-1_llm_guard-trail_us-west-2_20231015T230404Z_backfill.json.gz",
    );
    const parsed = parseDigestKey("b", k);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.trail, "llm_guard-trail");
    assert.equal(parsed.value.deliveringRegion, "ap-northeast-1");
    assert.equal(parsed.value.homeRegion, "us-west-2");
    assert.equal(parsed.value.organizationId, "o-abcdefghij");
    assert.equal(parsed.value.endMs, Date.parse("2023-10-15T23:04:04Z"));
    assert.ok(parsed.value.backfill);
    const regular = parseDigestKey("b", k.replace("_backfill", ""));
    assert.ok(regular.ok && !regular.value.backfill && regular.value.chain !== parsed.value.chain);
    // The real llm-guard digest's key (protectai/llm-guard tests).
    const real = parseDigestKey(
      "bucket",
      "AWSLogs/327878933619/CloudTrail-Digest/ap-northeast-1/2023/10/15/327878933619_CloudTrail-Digest_ap-northeast-1_llm-guard-trail_us-west-2_20231015T230404Z.json.gz",
    );
    assert.ok(real.ok && real.value.trail === "llm-guard-trail" && real.value.homeRegion === "us-west-2");
    assert.ok(!parseDigestKey("b", "AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15/x.json.gz").ok);
    assert.ok(!parseDigestKey("b", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/10/15/junk.json.gz").ok);
  });
});

describe("bad digest input gives an error, never a throw", () => {
  const body = (o: unknown) => gzipSync(JSON.stringify(o));
  const cases: [string, Uint8Array, string][] = [
    ["not gzip", Buffer.from('{"a":1}'), "gzip"],
    ["corrupt gzip", gzipSync("{}").subarray(0, 12), "gzip"],
    ["not JSON", gzipSync("not json"), "json"],
    ["not UTF-8", gzipSync(Buffer.from([0xff, 0xfe])), "json"],
    ["an array", body([]), "shape"],
    ["missing fields", body({ awsAccountId: "1" }), "field"],
    [
      "a bad hash",
      body({
        awsAccountId: "111122223333",
        digestStartTime: "2026-01-01T00:00:00Z",
        digestEndTime: "2026-01-01T01:00:00Z",
        digestS3Bucket: "b",
        digestS3Object: "k",
        digestPublicKeyFingerprint: "0123456789abcdef0123456789abcdef",
        previousDigestSignature: null,
        logFiles: [{ s3Bucket: "b", s3Object: "k", hashValue: "abc" }],
      }),
      "field",
    ],
    ["absurd size", Buffer.alloc(17 * 1024 * 1024, 0x1f), "too-large"],
    ["a bomb", gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20)), "too-large"],
  ];
  for (const [name, bytes, code] of cases) {
    test(name, () => {
      const got = parseDigest(bytes);
      assert.ok(!got.ok);
      assert.equal(got.error.code, code, got.error.message);
    });
  }
});

describe("the chain tracker", () => {
  test("a signed chain over several hours: every log file and digest valid, nothing else", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 5 });
    const h = new Harness([key.publicKey]);
    await deliver(h, hours);
    assert.deepEqual(h.kinds(), []);
    assert.equal(h.valid(), 5 + 15);
    // An hour and a quarter with no digest: the chain has stopped.
    const lastEnd = Date.parse(hours.at(-1)?.digest.endTime ?? "");
    await h.tick(lastEnd + 76 * 60_000);
    await h.tick(lastEnd + 200 * 60_000);
    assert.deepEqual(h.kinds(), ["digests-stopped"]);
  });

  test("an empty digest, unsorted log files and two files in one minute are valid", async () => {
    const key = testKey();
    const place = { prefix: "", account: "111122223333", region: "eu-west-1", trail: "t", homeRegion: "us-east-1" };
    const at = new Date("2026-03-01T10:20:00Z");
    const logs = [logObject("b", place, at, 2), logObject("b", place, at, 1), logObject("b", place, at, 3)];
    const [empty] = chain(key, { bucket: "b", place, hours: 1, filesPerHour: 0 });
    assert.ok(empty);
    const second = writeDigest({
      bucket: "b",
      key: digestKeyFor(place, new Date("2026-03-01T12:04:31Z")),
      account: place.account,
      start: new Date("2026-03-01T11:04:31Z"),
      end: new Date("2026-03-01T12:04:31Z"),
      previous: { ...empty.digest, bucket: "b" },
      logFiles: [...logs]
        .reverse()
        .map((l) => ({ s3Bucket: "b", s3Object: l.key, hashValue: l.sha256, hashAlgorithm: "SHA-256" })),
      fingerprint: key.publicKey.fingerprint,
      privateKey: key.privateKey,
      escapeSlashes: true,
    });
    assert.ok(second.json.includes("\\/"));
    const h = new Harness([key.publicKey]);
    for (const l of logs) await h.log(l, Date.parse("2026-03-01T11:30:00Z"));
    await h.digest(empty.digest, Date.parse("2026-03-01T11:09:00Z"));
    await h.digest(second, Date.parse("2026-03-01T12:09:00Z"));
    await h.tick(Date.parse("2026-03-01T12:15:00Z"));
    assert.deepEqual(h.kinds(), []);
    assert.equal(h.valid(), 2 + 3);
  });

  test("an organization trail's chain delivered by another Region than its home: every file valid", async () => {
    const key = testKey();
    const hours = chain(key, {
      hours: 3,
      bucket: "org-bucket",
      place: { prefix: "logs", organizationId: "o-abcdefghij", region: "ap-northeast-1", homeRegion: "us-west-2" },
    });
    assert.match(
      hours[0]?.digest.key ?? "",
      /^logs\/AWSLogs\/o-abcdefghij\/111122223333\/CloudTrail-Digest\/ap-northeast-1\//,
    );
    assert.match(
      hours[0]?.logs[0]?.key ?? "",
      /^logs\/AWSLogs\/o-abcdefghij\/111122223333\/CloudTrail\/ap-northeast-1\//,
    );
    const h = new Harness([key.publicKey]);
    await deliver(h, hours);
    assert.deepEqual(h.kinds(), []);
    assert.equal(h.valid(), 3 + 9);
    assert.ok(h.verdicts.every((v) => v.subject !== "digest" || v.region === "ap-northeast-1"));
  });

  test("key rotation: digests signed by two overlapping keys verify with both loaded; SPKI keys too", async () => {
    const k1 = testKey();
    const k2 = testKey("spki");
    const first = chain(k1, { hours: 2 });
    const second = chain(k2, { hours: 2, start: new Date(Date.parse(first[1]?.digest.endTime ?? "")) });
    const h = new Harness([k1.publicKey, k2.publicKey]);
    await deliver(h, first);
    await deliver(h, second);
    // The second part starts a chain of its own (its first digest has no previous): a gap, reported once.
    assert.deepEqual(h.kinds(), ["gap"]);
    const only1 = new Harness([k1.publicKey]);
    await deliver(only1, [...first, ...second]);
    assert.deepEqual(only1.kinds().sort(), ["gap", "unknown-key", "unknown-key"].sort());
  });

  test("a re-serialised digest fails its signature", async () => {
    const key = testKey();
    const place = { prefix: "", account: "111122223333", region: "us-east-1", trail: "main", homeRegion: "us-east-1" };
    const end = new Date("2026-03-01T11:04:31Z");
    const d = writeDigest({
      bucket: "trail-bucket",
      key: digestKeyFor(place, end),
      account: place.account,
      start: new Date(end.getTime() - HOUR),
      end,
      previous: null,
      logFiles: [],
      fingerprint: key.publicKey.fingerprint,
      privateKey: key.privateKey,
      escapeSlashes: true,
    });
    const reserialised = gzipSync(JSON.stringify(JSON.parse(d.json)));
    const h = new Harness([key.publicKey]);
    await h.digest({ ...d, body: reserialised }, end.getTime() + 60_000);
    assert.deepEqual(h.kinds(), ["signature-invalid"]);
    const parsed = parseDigest(reserialised);
    assert.ok(parsed.ok && parsed.value.sha256 !== d.sha256);
  });

  test("an edited log file is a hash mismatch; a deleted one is missing; one no digest lists is unreferenced", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 3 });
    const [h0, h1] = hours;
    assert.ok(h0 && h1);
    const edited = h0.logs[1];
    const deleted = h1.logs[2];
    assert.ok(edited && deleted);
    const flipped = Buffer.from(edited.body);
    const gunzipped = Buffer.from(
      JSON.stringify(JSON.parse(await gunzipText(flipped))).replace("Describe", "Deskribe"),
    );
    edited.body = gzipSync(gunzipped);
    const h = new Harness([key.publicKey]);
    await deliver(h, hours, { logs: new Set([deleted.key]) });
    // A file delivered in the last hour that its digest does not list (forged and planted).
    const planted = logObject(
      "trail-bucket",
      { prefix: "", account: "111122223333", region: "us-east-1", trail: "main", homeRegion: "us-east-1" },
      new Date(Date.parse(hours[2]?.digest.endTime ?? "") - 20 * 60_000),
      99,
    );
    await h.log(planted, Date.parse(hours[2]?.digest.endTime ?? "") - 19 * 60_000);
    await h.tick(Date.parse(hours[2]?.digest.endTime ?? "") + 30 * 60_000);
    assert.deepEqual(h.kinds().sort(), ["hash-mismatch", "missing-log-file"]);
    await h.tick(Date.parse(hours[2]?.digest.endTime ?? "") + 2 * HOUR + 10 * 60_000);
    const found = h.verdicts.filter((v) => v.kind !== "valid" && v.kind !== "digests-stopped");
    assert.deepEqual(
      found.map((v) => [v.kind, v.key]).sort(),
      [
        ["hash-mismatch", edited.key],
        ["missing-log-file", deleted.key],
        ["unreferenced-log-file", planted.key],
      ].sort(),
    );
  });

  test("files past their window that no digest listed are counted as unverified, only where the site has digests", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 3 });
    const [, , late] = hours;
    assert.ok(late);
    const h = new Harness([key.publicKey]);
    // The third hour's digest is late; a trail without log file validation delivers beside it.
    await deliver(h, hours, { digests: new Set([late.digest.key]) });
    const lateEnd = Date.parse(late.digest.endTime);
    const unvalidated = logObject(
      "other-bucket",
      { prefix: "", account: "444455556666", region: "us-east-1", trail: "plain", homeRegion: "us-east-1" },
      new Date(lateEnd - 30 * 60_000),
      7,
    );
    await h.log(unvalidated, lateEnd - 29 * 60_000);
    await h.tick(lateEnd + 30 * 60_000);
    assert.equal(await h.tracker.unverified(), 0, "within the window: nothing overdue yet");
    await h.tick(lateEnd + 2 * HOUR + 5 * 60_000);
    assert.equal(await h.tracker.unverified(), late.logs.length, "the late hour's files, not the unvalidated trail's");
    await h.digest(late.digest, lateEnd + 2 * HOUR + 6 * 60_000);
    await h.tick(lateEnd + 2 * HOUR + 10 * 60_000);
    assert.equal(await h.tracker.unverified(), 0, "the late digest listed them");
    assert.ok(late.logs.every((l) => h.verdicts.some((v) => v.kind === "valid" && v.key === l.key)));
  });

  test("a log file that arrives after its digest, within the grace, is valid; a repeated notification says nothing new", async () => {
    const key = testKey();
    const [hour] = chain(key, { hours: 1 });
    assert.ok(hour);
    const h = new Harness([key.publicKey]);
    const endMs = Date.parse(hour.digest.endTime);
    await h.digest(hour.digest, endMs + 60_000);
    await h.digest(hour.digest, endMs + 61_000);
    for (const l of hour.logs) await h.log(l, endMs + 90_000);
    for (const l of hour.logs) await h.log(l, endMs + 95_000);
    await h.tick(endMs + 10 * 60_000);
    assert.deepEqual(h.kinds(), []);
    assert.equal(h.valid(), 4);
  });

  test("appended gzip members and zero padding are trailing data; the records still flow", async () => {
    const key = testKey();
    const [hour] = chain(key, { hours: 1 });
    assert.ok(hour);
    const [a, b] = hour.logs;
    assert.ok(a && b);
    a.body = Buffer.concat([a.body, gzipSync('{"Records":[]}')]);
    b.body = Buffer.concat([b.body, Buffer.alloc(16)]);
    const items = await collect(decodeLogFile(a.body));
    assert.equal(items.filter((i) => i.ok).length, 1);
    assert.ok(items.some((i) => !i.ok && /follow the end of the gzip stream/.test(i.error.message)));
    const h = new Harness([key.publicKey]);
    await deliver(h, [hour]);
    assert.deepEqual(h.kinds(), ["trailing-data", "trailing-data"]);
  });

  test("a digest read from another key is moved", async () => {
    const key = testKey();
    const [hour] = chain(key, { hours: 1 });
    assert.ok(hour);
    const h = new Harness([key.publicKey]);
    const copy = hour.digest.key.replace("20260301T", "20260302T").replace("/01/", "/02/");
    await h.digest({ ...hour.digest, key: copy }, Date.parse(hour.digest.endTime) + 60_000);
    assert.ok(h.kinds().includes("digest-moved"));
  });

  test("one deleted digest is one missing digest; two deleted in a row are both reported", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 6 });
    const one = new Harness([key.publicKey]);
    await deliver(one, hours, { digests: new Set([hours[2]?.digest.key ?? ""]) });
    assert.deepEqual(one.kinds(), ["digest-missing"]);
    assert.equal(one.verdicts.find((v) => v.kind === "digest-missing")?.key, hours[2]?.digest.key);
    const two = new Harness([key.publicKey]);
    await deliver(two, hours, { digests: new Set([hours[2]?.digest.key ?? "", hours[3]?.digest.key ?? ""]) });
    const missing = two.verdicts.filter((v) => v.kind === "digest-missing");
    assert.equal(missing.length, 2);
    assert.ok(missing.some((v) => v.key === hours[3]?.digest.key));
    assert.ok(missing.some((v) => /1 more digest/.test(v.message)));
    // The log files of the deleted hours were never listed by a digest that arrived.
    // Two hours without a digest: the chain also went silent past its slack, and says so first.
    assert.deepEqual(two.kinds(), ["digests-stopped", "digest-missing", "digest-missing"]);
  });

  test("a chain first seen midway (started on a running trail, or a copy of recent days): nothing is missing before it", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 4 });
    const h = new Harness([key.publicKey]);
    await deliver(h, hours.slice(2));
    assert.deepEqual(h.kinds(), []);
    assert.equal(h.valid(), 2 + 6);
    // A digest deleted after that start is still found.
    const later = new Harness([key.publicKey]);
    await deliver(later, hours.slice(1), { digests: new Set([hours[2]?.digest.key ?? ""]) });
    assert.deepEqual(
      later.verdicts.filter((v) => v.kind !== "valid").map((v) => [v.kind, v.key]),
      [["digest-missing", hours[2]?.digest.key]],
    );
  });

  test("a deleted digest's log files are its digest-missing, not unreferenced, however soon they are looked at", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 4 });
    const [, , deleted, next] = hours;
    assert.ok(deleted && next);
    // No backfill grace (as scan runs): the deleted hour's files are stale as soon as the next digest is read.
    const h = new Harness([key.publicKey], { unreferencedGraceMs: 0 });
    await deliver(h, hours.slice(0, 2));
    for (const l of deleted.logs) await h.log(l, Date.parse(deleted.digest.endTime) - 10 * 60_000);
    for (const l of next.logs) await h.log(l, Date.parse(next.digest.endTime) - 5 * 60_000);
    const nextEnd = Date.parse(next.digest.endTime);
    await h.digest(next.digest, nextEnd + 5 * 60_000);
    // A tick before the chain's links are judged (the missing grace) must not judge the files either.
    await h.tick(nextEnd + 6 * 60_000);
    await h.tick(nextEnd + 10 * 60_000);
    await h.tick(nextEnd + 2 * HOUR);
    assert.deepEqual(
      h.verdicts.filter((v) => v.kind !== "valid").map((v) => [v.kind, v.key]),
      [
        ["digest-missing", deleted.digest.key],
        ["digests-stopped", next.digest.key],
      ],
    );
  });

  test("a digest seen gone (deleted after its notice) is reported once, not again by its successor", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 3 });
    const h = new Harness([key.publicKey]);
    const gone = parseDigestKey("trail-bucket", hours[1]?.digest.key ?? "");
    assert.ok(gone.ok);
    await deliver(h, hours.slice(0, 1));
    await h.tracker.digestGone(gone.value, gone.value.endMs + 60_000).then((v) => h.verdicts.push(...v));
    await deliver(h, hours.slice(2));
    assert.deepEqual(h.kinds(), ["digest-missing"]);
  });

  test("a null previous pointer mid-chain is a gap; an unknown fingerprint is an unknown key", async () => {
    const key = testKey();
    const hours = chain(key, { hours: 2 });
    const restarted = chain(key, { hours: 1, start: new Date(Date.parse(hours[1]?.digest.endTime ?? "") + HOUR) });
    const h = new Harness([key.publicKey]);
    await deliver(h, [...hours, ...restarted]);
    assert.deepEqual(h.kinds(), ["gap"]);
    const stranger = new Harness([testKey().publicKey]);
    await deliver(stranger, hours);
    assert.deepEqual(stranger.kinds(), ["unknown-key", "unknown-key"]);
  });

  test("a backfill digest is its own chain and needs its generation timestamp", async () => {
    const key = testKey();
    const [hour] = chain(key, { hours: 1, place: { backfill: true } });
    assert.ok(hour);
    const at = parseDigestKey(hour.digest.bucket, hour.digest.key);
    assert.ok(at.ok && at.value.backfill);
    const parsed = parseDigest(hour.digest.body);
    assert.ok(parsed.ok);
    const keys = new Keyring();
    keys.add([key.publicKey]);
    const without = checkDigest(at.value, parsed.value, { signature: hour.digest.signature }, keys);
    assert.deepEqual(
      without.problems.map((p) => p.kind),
      ["digest-invalid"],
    );
    assert.ok(without.trusted);
    const withTs = checkDigest(
      at.value,
      parsed.value,
      { signature: hour.digest.signature, "backfill-generation-timestamp": "2026-03-01T12:00:00Z" },
      keys,
    );
    assert.deepEqual(withTs.problems, []);
    // Its key is looked up around when it was generated, a regular digest's around its end.
    assert.equal(
      keyLookupMs(at.value, { "backfill-generation-timestamp": "2026-03-01T12:00:00Z" }),
      Date.parse("2026-03-01T12:00:00Z"),
    );
    assert.equal(keyLookupMs(at.value, {}), at.value.endMs);
    const regular = parseDigestKey(hour.digest.bucket, hour.digest.key.replace("_backfill", ""));
    assert.ok(regular.ok);
    assert.equal(
      keyLookupMs(regular.value, { "backfill-generation-timestamp": "2026-03-01T12:00:00Z" }),
      regular.value.endMs,
    );
  });
});

describe("hashing while decoding", () => {
  test("the hash is the SHA-256 of the decompressed bytes, in any chunking, with no second read", async () => {
    const json = JSON.stringify({ Records: [{ eventID: "e", eventTime: "2026-01-01T00:00:00Z" }] }).repeat(1);
    const gz = gzipSync(json);
    const expected = createHash("sha256").update(json).digest("hex");
    for (const size of [1, 7, 64, gz.length]) {
      const hasher = new LogFileHasher();
      await collect(decodeLogFile(chunked(gz, size), {}, hasher));
      assert.equal((await hasher.result())?.sha256, expected, `chunks of ${size}`);
      assert.equal((await hasher.result())?.trailingBytes, 0);
    }
    const hasher = new LogFileHasher();
    await collect(decodeLogFile(gz, {}, hasher));
    assert.equal((await hasher.result())?.sha256, expected);
    const streamed = new LogFileHasher();
    await collect(decodeLogFile(chunked(Buffer.concat([gz, Buffer.alloc(5)]), 3), {}, streamed));
    assert.equal((await streamed.result())?.trailingBytes, 5);
    assert.equal((await streamed.result())?.sha256, expected);
  });

  test("a file that is not JSON is still hashed to its end; a cut-short one has no hash", async () => {
    const body = gzipSync("garbage, not a log file");
    const hasher = new LogFileHasher();
    await collect(decodeLogFile(body, {}, hasher));
    assert.equal((await hasher.result())?.sha256, createHash("sha256").update("garbage, not a log file").digest("hex"));
    const cut = new LogFileHasher();
    await collect(decodeLogFile(chunked(gzipSync("x".repeat(10000) + Math.random()).subarray(0, 20), 4), {}, cut));
    assert.equal(await cut.result(), undefined);
  });

  test("an SPKI-encoded key verifies what its private key signed", () => {
    const key = testKey("spki");
    const spki = key.publicKey.key.export({ format: "der", type: "spki" });
    assert.equal(fingerprintOf(spki), key.publicKey.fingerprint);
  });
});

async function gunzipText(body: Uint8Array): Promise<string> {
  const { gunzipSync } = await import("node:zlib");
  return gunzipSync(body).toString("utf8");
}
