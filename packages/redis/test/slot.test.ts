import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hashTag, hashTagOf, keySlot } from "../src/slot.ts";

describe("key slots", () => {
  test("CRC16 of the key modulo 16384, as the Redis Cluster specification's examples give", () => {
    // The specification's CRC16 check value: "123456789" -> 0x31C3.
    assert.equal(keySlot("123456789"), 0x31c3);
    assert.equal(keySlot("foo"), 12182);
    assert.equal(keySlot(""), 0);
  });

  test("a hash tag decides the slot: the first non-empty {…}", () => {
    assert.equal(hashTagOf("{user1000}.following"), "user1000");
    assert.equal(hashTagOf("foo{}{bar}"), "foo{}{bar}");
    assert.equal(hashTagOf("foo{{bar}}zap"), "{bar");
    assert.equal(hashTagOf("foo{bar}{zap}"), "bar");
    assert.equal(hashTagOf("no-tag"), "no-tag");
    assert.equal(keySlot("p:{stream-a}:lease:1"), keySlot("q:{stream-a}:checkpoints"));
    assert.equal(keySlot("{stream-a}"), keySlot("stream-a"));
    assert.equal(keySlot(Buffer.from("x{stream-a}\xff", "latin1")), keySlot("stream-a"), "binary keys too");
  });

  test("hashTag() wraps a tag and refuses braces inside it", () => {
    assert.equal(hashTag("s"), "{s}");
    assert.throws(() => hashTag("a}b"), /braces/);
  });
});
