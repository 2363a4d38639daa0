import assert from "node:assert/strict";
import { test } from "node:test";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { SqsDeletes } from "../src/sources/sqs-s3/deletes.ts";
import { fakeClient, silent } from "./fakes.ts";

function deletes(handlers: Parameters<typeof fakeClient>[0]) {
  const sqs = fakeClient(handlers);
  return {
    sqs,
    deletes: new SqsDeletes({ sqs: sqs as unknown as SQSClient, queueUrl: "q", lingerMs: 5, log: silent }),
  };
}

test("finished messages are deleted ten to a DeleteMessageBatch; one alone by DeleteMessage", async () => {
  const { sqs, deletes: d } = deletes({ DeleteMessageBatchCommand: () => ({}), DeleteMessageCommand: () => ({}) });
  await Promise.all(Array.from({ length: 12 }, (_, i) => d.delete(`r${i}`)));
  await d.delete("alone");
  assert.deepEqual(
    sqs.calls.map((c) =>
      c.name === "DeleteMessageCommand"
        ? [c.name, c.input.ReceiptHandle]
        : [c.name, (c.input.Entries as { ReceiptHandle: string }[]).map((e) => e.ReceiptHandle)],
    ),
    [
      ["DeleteMessageBatchCommand", ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"]],
      ["DeleteMessageBatchCommand", ["r10", "r11"]],
      ["DeleteMessageCommand", "alone"],
    ],
  );
});

test("a failed delete, whole or in part, settles its messages (they come back from SQS) and is logged", async () => {
  const warnings: string[] = [];
  const log = { ...silent, warn: (_: unknown, message: string) => warnings.push(message) } as unknown as typeof silent;
  const sqs = fakeClient({
    DeleteMessageBatchCommand: (input) => {
      const entries = input.Entries as { Id: string }[];
      if (entries.length === 3) throw new Error("SQS unavailable");
      return { Successful: [{ Id: "0" }], Failed: [{ Id: "1", Code: "ReceiptHandleIsInvalid", Message: "bad" }] };
    },
  });
  const d = new SqsDeletes({ sqs: sqs as unknown as SQSClient, queueUrl: "q", lingerMs: 5, log });
  await Promise.all(["a", "b"].map((r) => d.delete(r)));
  await Promise.all(["c", "d", "e"].map((r) => d.delete(r)));
  assert.equal(warnings.length, 2, warnings.join(" | "));
  assert.match(warnings[0] ?? "", /left a message/);
  assert.match(warnings[1] ?? "", /SQS unavailable/);
});
