import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { asRetriable } from "../src/retriable.ts";

test("asRetriable: handler errors become retriable kafkajs errors, group errors pass through", () => {
  const plain = asRetriable(new Error("boom"));
  assert.ok(plain instanceof kafkajs.KafkaJSError);
  assert.equal((plain as kafkajs.KafkaJSError).retriable, true);
  assert.match(plain.message, /Error: boom/);
  assert.equal((plain as kafkajs.KafkaJSError).cause, undefined, "kafkajs judges by the innermost cause");

  const fenced = new kafkajs.KafkaJSProtocolError("old epoch");
  Object.assign(fenced, { type: "INVALID_PRODUCER_EPOCH", retriable: false });
  assert.equal((asRetriable(fenced) as kafkajs.KafkaJSError).retriable, true);

  const rebalancing = new kafkajs.KafkaJSProtocolError("rebalancing");
  Object.assign(rebalancing, { type: "REBALANCE_IN_PROGRESS", retriable: false });
  assert.equal(asRetriable(rebalancing), rebalancing, "kafkajs rejoins on these by type");

  const retriable = new kafkajs.KafkaJSError("retry me", { retriable: true });
  assert.equal(asRetriable(retriable), retriable);
});
