import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { replyList, replyMap, replyNumber, replyText } from "../src/reply.ts";

describe("replies", () => {
  test("text, numbers, lists and HGETALL maps", () => {
    assert.equal(replyText("OK"), "OK");
    assert.equal(replyText(null), null);
    assert.equal(replyText(3), "3");
    assert.throws(() => replyText(["a"]), TypeError);
    assert.equal(replyNumber(1), 1);
    assert.equal(replyNumber("42"), 42);
    assert.ok(Number.isNaN(replyNumber(null)));
    assert.ok(Number.isNaN(replyNumber("")));
    assert.deepEqual(replyList(["a", null, 2]), ["a", null, "2"]);
    assert.deepEqual(replyList(null), []);
    assert.deepEqual(
      [...replyMap(["s1", "seq1", "s2", "SHARD_END"])],
      [
        ["s1", "seq1"],
        ["s2", "SHARD_END"],
      ],
    );
  });
});
