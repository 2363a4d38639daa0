import assert from "node:assert/strict";
import { test } from "node:test";
import { packValues, transferOf, unpackValues } from "../src/packed-values.ts";

test("values packed into one buffer come back the same: null, empty, UTF-8 strings and bytes", () => {
  const values = [null, "", "zoë 🦊", Buffer.from([0, 255, 1]), null, '{"a":1}', new Uint8Array(0)];
  const packed = packValues(values);
  assert.deepEqual(unpackValues(packed), [
    null,
    Buffer.alloc(0),
    Buffer.from("zoë 🦊"),
    Buffer.from([0, 255, 1]),
    null,
    Buffer.from('{"a":1}'),
    Buffer.alloc(0),
  ]);
  assert.equal(packed.bytes.length, Buffer.byteLength("zoë 🦊") + 3 + 7, "only the values' bytes");
});

test("packed values move to another thread whole, leaving the sender's buffers empty", () => {
  const packed = packValues(["one", "two"]);
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(packed, transferOf(packed));
    assert.equal(packed.bytes.byteLength, 0, "the bytes moved");
    assert.equal(packed.ends.length, 0, "the ends moved");
  } finally {
    port1.close();
    port2.close();
  }
});
