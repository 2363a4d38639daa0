import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { ConfigReader } from "../src/config.ts";
import {
  fatalSignal,
  type RunningService,
  runService,
  type ServiceDefinition,
  type ShellSettings,
} from "../src/service.ts";

const settings: ShellSettings = { metricsPort: 0, logLevel: "silent", shutdownGraceMs: 5_000 };

/** A service whose stop takes `stopMs`, and which records the drain it was given. */
function fakeService(stopMs: number) {
  const { fatal, fail } = fatalSignal();
  const seen = { drainMs: -1 };
  const running: RunningService = {
    ready: () => [],
    stop: async (drainMs) => {
      seen.drainMs = drainMs;
      await new Promise((r) => setTimeout(r, stopMs));
    },
    fatal,
  };
  const definition: ServiceDefinition<ShellSettings> = {
    name: "fake",
    loadSettings: () => settings,
    start: async () => running,
  };
  return { definition, fail, seen };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function eventuallyStatus(port: number, status: number): Promise<[number, string]> {
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = await res.text();
      if (res.status === status || i > 100) return [res.status, body];
    } catch (error) {
      if (i > 100) throw error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("settings problems: one message on stderr naming each, exit code 2, nothing started", async () => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  let started = false;
  try {
    const code = await runService(
      {
        name: "fake",
        loadSettings: (env) => {
          const r = new ConfigReader(env);
          r.integer("METRICS_PORT", 1, { min: 0, max: 65_535 });
          r.string("KAFKA_BROKERS");
          r.done();
          return settings;
        },
        start: async () => {
          started = true;
          throw new Error("not reached");
        },
      },
      { METRICS_PORT: "x" },
    );
    assert.equal(code, 2);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(started, false);
  assert.equal(written.length, 1);
  assert.match(
    written[0] ?? "",
    /^fake: invalid configuration:\n {2}- METRICS_PORT .*\n {2}- KAFKA_BROKERS is required\n$/,
  );
});

test("a fatal error: /readyz answers 503 while the service stops, then exit code 1", async () => {
  const port = await freePort();
  const { definition, fail } = fakeService(600);
  definition.loadSettings = () => ({ ...settings, metricsPort: port });
  const done = runService(definition, {});
  await eventuallyStatus(port, 200);
  fail(new Error("the consumer stopped for good"));
  const [status, body] = await eventuallyStatus(port, 503);
  assert.equal(status, 503);
  assert.match(body, /stopped for good: the consumer stopped for good/);
  assert.equal(await done, 1);
});

test("SIGTERM: an orderly stop with 60% of the grace period to drain, exit code 0", async () => {
  const { definition, seen } = fakeService(10);
  const done = runService(definition, {});
  await new Promise((r) => setTimeout(r, 100));
  process.emit("SIGTERM", "SIGTERM");
  assert.equal(await done, 0);
  assert.equal(seen.drainMs, 3_000);
});

test("a start that throws: exit code 1", async () => {
  const code = await runService(
    { name: "fake", loadSettings: () => settings, start: async () => Promise.reject(new Error("no broker")) },
    {},
  );
  assert.equal(code, 1);
});
