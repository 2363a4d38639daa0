import assert from "node:assert/strict";
import { test } from "node:test";
import { MultipleErrors, ProtocolError, ResponseError } from "@platformatic/kafka";
import { CONCURRENT_TRANSACTIONS_RETRY_MS, retryDelay } from "../src/platformatic/options.ts";

// How the library reports AddPartitionsToTxn refused while the previous transaction's markers are
// written: a ResponseError of ProtocolErrors, wrapped in MultipleErrors once it was retried.
const concurrentTransactions = () => new ResponseError(24, 3, { "/topics/0/partitions/0": [51, null] }, {});
const client = {};

test("a request refused with CONCURRENT_TRANSACTIONS is retried after milliseconds, then backs off", () => {
  const refused = concurrentTransactions();
  assert.equal(
    refused.errors.some((e) => (e as ProtocolError).apiId === "CONCURRENT_TRANSACTIONS"),
    true,
  );
  const waits = [1, 2, 3, 4].map((attempt) => retryDelay(client, "addPartitionsToTransaction", attempt, 30, refused));
  assert.deepEqual(
    waits,
    [1, 2, 4, 8].map((k) => k * CONCURRENT_TRANSACTIONS_RETRY_MS),
  );
  const wrapped = new MultipleErrors("addPartitionsToTransaction failed 2 times.", [refused, refused]);
  assert.equal(retryDelay(client, "addPartitionsToTransaction", 1, 30, wrapped), CONCURRENT_TRANSACTIONS_RETRY_MS);
  assert.equal(retryDelay(client, "addPartitionsToTransaction", 20, 30, refused), 1_000);
});

test("other retriable failures keep the 100 ms doubling to 1 s", () => {
  const notLeader = new ProtocolError("NOT_LEADER_OR_FOLLOWER");
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((attempt) => retryDelay(client, "listOffsets", attempt, 30, notLeader)),
    [100, 200, 400, 800, 1_000],
  );
});
