import assert from "node:assert/strict";
import { test } from "node:test";
import { compatibilityPartitioner, murmur2 as libraryMurmur2 } from "@platformatic/kafka";
import fc from "fast-check";
import { keyPartition, murmur2 } from "../src/murmur2.ts";

test("murmur2 in 32-bit arithmetic is the library's BigInt murmur2, and partitions alike", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const key = Buffer.from(bytes);
      assert.equal(murmur2(key), libraryMurmur2(key));
      assert.equal(keyPartition({}, key), compatibilityPartitioner({ topic: "t" }, key));
    }),
    { numRuns: 2_000 },
  );
  // Kafka's own vectors (the Java client's UtilsTest.testMurmur2).
  const vectors: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ];
  for (const [text, hash] of vectors) assert.equal(murmur2(Buffer.from(text)), hash, text);
  assert.equal(keyPartition({}, undefined), 0);
});
