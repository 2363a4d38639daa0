// `trailstream replay` reaches a cluster that requires SASL: it reads KAFKA_SASL_* (and KAFKA_SSL)
// through packages/kafka like the services do. The local stack's second Kafka node listens with
// SASL_PLAINTEXT only (deploy/local/stack: KAFKA_SASL_BROKERS and its PLAIN user).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { createKafka, type KafkaSettings } from "@trailstream/kafka";
import { freshRecords, identityOf, logFile, stratusRecords } from "../support/ingester.ts";
import { STACK_HINT, uniqueName } from "../support/servers.ts";
import { TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

const CLI = resolve(import.meta.dirname, "../../services/cli/src/main.ts");

function sasl(): { brokers: string; username: string; password: string } {
  const {
    KAFKA_SASL_BROKERS: brokers,
    KAFKA_SASL_PLAIN_USERNAME: username,
    KAFKA_SASL_PLAIN_PASSWORD: password,
  } = process.env;
  if (!brokers || !username || !password) {
    throw new Error(
      `KAFKA_SASL_BROKERS, KAFKA_SASL_PLAIN_USERNAME and KAFKA_SASL_PLAIN_PASSWORD are not set: ${STACK_HINT}`,
    );
  }
  return { brokers, username, password };
}

function replay(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, "replay", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  return new Promise((res) => child.once("exit", (code) => res({ code, out })));
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "replay-sasl-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("replay sends log files to a SASL_PLAINTEXT listener with KAFKA_SASL_MECHANISM=plain", async () => {
  const { brokers, username, password } = sasl();
  const records = freshRecords(await stratusRecords(), 40);
  await writeFile(join(dir, "a.json.gz"), logFile(records.slice(0, 25)));
  await writeFile(join(dir, "b.json.gz"), logFile(records.slice(25)));
  const raw = uniqueName("sasl-raw");
  const settings: KafkaSettings = {
    brokers: brokers.split(","),
    clientId: "replay-sasl-test",
    sasl: { mechanism: "plain", username, password },
  };
  const env = {
    KAFKA_BROKERS: brokers,
    KAFKA_SASL_MECHANISM: "plain",
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
    TOPIC_RAW: raw,
    TOPIC_DLQ: uniqueName("sasl-dlq"),
  };
  const { code, out } = await replay(["--quiet", dir], env);
  assert.equal(code, 0, out);
  assert.match(out, /2 files, 40 records sent to/);
  const reader = await TopicReader.open(createKafka(settings), raw);
  try {
    await eventually(async () => {
      for (const r of records) assert.equal(reader.envelopes(identityOf(r)).length, 1, `${identityOf(r)} on ${raw}`);
    }, 30_000);
  } finally {
    await reader.close();
  }
});

test("replay with a wrong SASL password fails with exit 1 and says so, at once", async () => {
  const { brokers, username } = sasl();
  await writeFile(join(dir, "c.json.gz"), logFile(freshRecords(await stratusRecords(), 2)));
  const started = Date.now();
  const { code, out } = await replay(["--quiet", dir], {
    KAFKA_BROKERS: brokers,
    KAFKA_SASL_MECHANISM: "plain",
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: "not-the-password",
    TOPIC_RAW: uniqueName("sasl-raw"),
  });
  assert.equal(code, 1, out);
  assert.match(out, /SASL|[Aa]uthentication/);
  assert.ok(Date.now() - started < 30_000, `failed after ${Date.now() - started} ms`);
});
