import assert from "node:assert/strict";
import { test } from "node:test";
import { chunkBySize } from "../src/chunk.ts";
import type { OutgoingMessage } from "../src/message.ts";

const msg = (bytes: number, key = "k"): OutgoingMessage => ({ key, value: "x".repeat(bytes) });

test("produce requests are cut below the byte bound; order is kept; an oversized message goes alone", () => {
  const chunks = chunkBySize([msg(300), msg(300), msg(300), msg(2_000), msg(10)], 1_000);
  assert.deepEqual(
    chunks.map((c) => c.map((m) => m.value.length)),
    [[300, 300], [300], [2_000], [10]],
  );
  assert.deepEqual(chunkBySize([]), []);
});

test("every message is kept, in order, and no chunk of several exceeds the bound", () => {
  const messages = Array.from({ length: 200 }, (_, i) => ({
    ...msg(100 + ((i * 37) % 900), `k${i}`),
    headers: { rule: "r".repeat(i % 20) },
  }));
  const chunks = chunkBySize(messages, 4_000);
  assert.deepEqual(chunks.flat(), messages);
  for (const c of chunks) {
    const bytes = c.reduce(
      (n, m) => n + 64 + m.value.length + (m.key?.length ?? 0) + 4 + (m.headers?.rule?.length ?? 0),
      0,
    );
    assert.ok(c.length === 1 || bytes <= 4_000, `a chunk of ${c.length} messages and ${bytes} bytes`);
  }
});
