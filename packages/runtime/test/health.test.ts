import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter } from "prom-client";
import { startHealthServer } from "../src/health.ts";
import { createRegistry } from "../src/metrics.ts";

test("the health server answers /healthz, /readyz with reasons, and /metrics", async () => {
  const registry = createRegistry("test");
  const counter = new Counter({ name: "trailstream_test_things_total", help: "things", registers: [registry] });
  counter.inc(3);
  let reasons: string[] = ["redis unreachable"];
  const server = await startHealthServer({
    port: 0,
    host: "127.0.0.1",
    registry,
    readiness: { notReady: () => reasons },
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(await notReady.text(), /redis unreachable/);
    reasons = [];
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /trailstream_test_things_total\{service="test"\} 3/);
    assert.match(metrics, /trailstream_process_cpu_seconds_total/);
  } finally {
    await server.close();
  }
});
