// Correlation alerts through a whole batch, with the state in memory: raised once with the
// correlation's window, raised again when the batch comes again before it was marked done, and not
// after; the detection rules that only feed a correlation raise nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CorrelationEngine, compileSigmaFile, MemoryCorrelationStore, RuleSet } from "@trailstream/rules";
import type { AlertDocument } from "../src/alert.ts";
import { createMetrics } from "../src/metrics.ts";
import { type PipelineDeps, processBatch } from "../src/pipeline.ts";
import type { Sink } from "../src/sinks/sink.ts";
import { MemoryAlertState } from "../src/state-memory.ts";
import { cloudTrailRecord, message } from "./fixtures.ts";

const yaml = `
title: Trail stopped and detector deleted by one principal
id: corr-evasion
level: critical
author: trailstream tests
correlation:
  type: temporal
  rules: [trail_stopped, detector_deleted]
  group-by: [userIdentity.arn]
  timespan: 30m
---
title: Trail stopped
id: trail-stopped
name: trail_stopped
logsource: { product: aws, service: cloudtrail }
detection:
  selection: { eventName: StopLogging }
  condition: selection
---
title: Detector deleted
id: detector-deleted
name: detector_deleted
logsource: { product: aws, service: cloudtrail }
detection:
  selection: { eventName: DeleteDetector }
  condition: selection
`;

test("a correlation alert carries its window and count, comes again with its batch, and not once done", async () => {
  const file = compileSigmaFile(yaml, "evasion.yml");
  const got: AlertDocument[] = [];
  const sink: Sink = {
    kind: "webhook",
    target: "http://127.0.0.1",
    unit: "alert",
    deliver: async (a) => void got.push(...a),
  };
  const state = new MemoryAlertState();
  const deps: PipelineDeps = {
    rules: new RuleSet(file.rules),
    correlations: new CorrelationEngine(file.correlations, file.rules, { store: new MemoryCorrelationStore() }),
    state,
    sinks: [sink],
    policy: { retries: 0, baseMs: 1, maxMs: 1 },
    deadLetter: async () => {},
    metrics: createMetrics(),
    hooks: { sleep: async () => {} },
  };
  const stop = cloudTrailRecord({ eventName: "StopLogging", eventTime: "2026-03-01T10:00:00Z" });
  const del = cloudTrailRecord({ eventName: "DeleteDetector", eventTime: "2026-03-01T10:20:00Z" });
  const batch = [message(stop, 1), message(del, 2)];

  // Crash before marking done: the same offsets again raise the same alert again (never lost).
  const crashing = {
    claimMatches: state.claimMatches.bind(state),
    forEvent: state.forEvent.bind(state),
    floodPosition: state.floodPosition.bind(state),
    markDone: async () => {},
  };
  const first = await processBatch(0, batch, { ...deps, state: crashing });
  assert.equal(first.alerts.length, 1);
  const doc = first.alerts[0];
  assert.equal(doc?.ruleId, "corr-evasion");
  assert.equal(doc?.severity, "critical");
  assert.equal(doc?.group, '["arn:aws:iam::111122223333:user/alice"]');
  assert.equal(doc?.count, 2);
  assert.equal(doc?.identity, `111122223333:${del.eventID}`);
  assert.deepEqual(
    { start: doc?.correlation?.windowStart, end: doc?.correlation?.windowEnd, type: doc?.correlation?.type },
    { start: "2026-03-01T09:50:00.000Z", end: "2026-03-01T10:20:00.000Z", type: "temporal" },
  );

  const again = await processBatch(0, batch, deps);
  assert.deepEqual(
    again.alerts.map((a) => a.alertId),
    [doc?.alertId],
    "raised again: it had not been marked done",
  );
  const done = await processBatch(0, batch, deps);
  assert.deepEqual(done.alerts, [], "durable before: nothing the third time");
  assert.ok(
    got.every((a) => a.ruleId === "corr-evasion"),
    "the feeding rules raise nothing of their own",
  );
});
