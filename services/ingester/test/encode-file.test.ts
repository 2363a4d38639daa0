import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import type { Origin } from "@trailstream/cloudtrail";
import {
  type EncodedFile,
  type EncodeJob,
  fitsOnePiece,
  TooLargeForOnePiece,
} from "../src/sources/sqs-s3/encode-file.ts";
import { EncodePool } from "../src/sources/sqs-s3/encode-pool.ts";

const origin: Origin = {
  kind: "s3",
  bucket: "b",
  key: "k",
  account: "1",
  region: "r",
  receivedAt: "2026-12-07T00:00:00Z",
};
const good = (i: number) => ({
  eventID: `e${i}`,
  recipientAccountId: "111122223333",
  eventTime: "2026-12-07T00:00:00Z",
  n: "é",
});

function job(bytes: Uint8Array, hash = false): EncodeJob {
  return { bytes, maxDecompressedBytes: 1 << 30, maxRecordBytes: 1 << 20, where: "s3://b/k", origin, hash };
}

function values(file: EncodedFile): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < file.ends.length; i++) {
    const start = i === 0 ? 0 : (file.ends[i - 1] as number);
    out.push(JSON.parse(Buffer.from(file.values.subarray(start, file.ends[i])).toString("utf8")));
  }
  return out;
}

test("a file encoded on a decode thread gives the values, keys and dead letters it gives inline", async () => {
  const records = [good(0), { eventID: "no-account" }, good(2)];
  // Larger than MAX_RECORD_BYTES as a whole, so the decoder splits it and the values carry each record's text.
  const big = Array.from({ length: 1_500 }, (_, i) => ({ ...good(i), pad: "x".repeat(800) }));
  const pool = new EncodePool(1);
  const inline = new EncodePool(0);
  try {
    for (const body of [{ Records: records }, { Records: big }]) {
      const bytes = gzipSync(JSON.stringify(body));
      const [threaded, here] = await Promise.all([pool.encode(job(bytes, true)), inline.encode(job(bytes, true))]);
      assert.deepEqual(values(threaded), values(here));
      assert.deepEqual(threaded.identities, here.identities);
      assert.deepEqual(threaded.letters, here.letters);
      assert.deepEqual(threaded.hash, here.hash);
      assert.ok(threaded.hash?.sha256);
      const expected = body.Records.filter((r) => "recipientAccountId" in r).map((event) => ({ v: 1, event, origin }));
      assert.deepEqual(values(threaded), expected);
    }
    const small = await pool.encode(job(gzipSync(JSON.stringify({ Records: records }))));
    assert.deepEqual(small.identities, ["111122223333:e0", "111122223333:e2"]);
    assert.deepEqual(
      small.letters.map((l) => l.letter.reason),
      ["missing-event-id"],
    );
    assert.equal(small.corrupt, false);
    const cut = await pool.encode(job(gzipSync(JSON.stringify({ Records: records })).subarray(0, 40)));
    assert.equal(cut.corrupt, true);
  } finally {
    await pool.close();
  }
});

test("a file is encoded in one piece only when its gzip trailer (or its own size) says it is small", () => {
  assert.equal(fitsOnePiece(gzipSync(JSON.stringify({ Records: [good(0)] }))), true);
  const large = gzipSync(Buffer.alloc(9 * 1024 ** 2, 0x20));
  assert.equal(fitsOnePiece(large), false);
  assert.equal(fitsOnePiece(Buffer.alloc(100, 0x20)), true);
});

test("a file whose trailer understates its size is refused as one piece once its values pass the bound", async () => {
  const records = Array.from({ length: 18_000 }, (_, i) => ({ ...good(i), pad: "x".repeat(1_000) }));
  const bytes = gzipSync(JSON.stringify({ Records: records }));
  bytes.writeUInt32LE(1_000, bytes.length - 4); // the trailer lies
  assert.equal(fitsOnePiece(bytes), true);
  await assert.rejects(new EncodePool(0).encode(job(bytes)), TooLargeForOnePiece);
});
