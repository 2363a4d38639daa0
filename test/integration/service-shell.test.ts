// The three services start, fail on bad settings, report readiness and stop in exactly the same
// way, because they run in one shell (packages/runtime's runService). One test per behaviour, run
// against each service as `trailstream <service>` processes and, where a process would exit before
// it could be asked, in process through the service's own start().
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateQueueCommand, DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { alerter } from "@trailstream/alerter";
import { enricher } from "@trailstream/enricher";
import { ingester } from "@trailstream/ingester";
import { createKafka, ensureTopics } from "@trailstream/kafka";
import {
  createLogger,
  createRegistry,
  type Env,
  type ServiceDefinition,
  type ShellSettings,
} from "@trailstream/runtime";
import { joinWithOtherProtocol } from "../../packages/kafka/test/support/other-protocol-member.ts";
import { awsClients } from "../support/aws.ts";
import { type Endpoints, endpoints, uniqueName } from "../support/servers.ts";
import { type ServiceName, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { eventually, withTimeout } from "../support/wait.ts";

/** `trailstream <service>` with `env` alone (no settings from the test's environment), port fixed up front. */
const runCli = (name: string, env: Env): Promise<ServiceProcess> =>
  startServiceProcess(name as ServiceName, env as Record<string, string>, { inheritEnv: false });

const logs = (p: ServiceProcess) => p.logs();

/** How each service is given working settings, and how one of its components is made to stop for good. */
interface Case {
  definition: ServiceDefinition<ShellSettings>;
  /** Settings against the test servers, fresh names each time. */
  env(): Promise<Env>;
  /** When breakIt must run: a consumer group is taken before the service joins it. */
  breakWhen: "before-start" | "once-ready";
  /** Makes a component stop for good; resolves with how to tidy up afterwards. */
  breakIt(env: Env): Promise<() => Promise<void>>;
  /** What ready() names once that happened. */
  stoppedReason: RegExp;
}

let e: Endpoints;
let kafka: ReturnType<typeof createKafka>;
let aws: ReturnType<typeof awsClients>;

const common = (): Env => ({
  KAFKA_BROKERS: e.kafkaBrokers.join(","),
  REDIS_URL: e.redisUrl,
  LOG_LEVEL: "info",
  SHUTDOWN_GRACE_MS: "15000",
  TOPIC_PARTITIONS: "1",
});

const cases: Case[] = [
  {
    definition: ingester as ServiceDefinition<ShellSettings>,
    async env() {
      const queue = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("shell") }));
      return {
        ...common(),
        AWS_REGION: e.region,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_ENDPOINT_URL: e.awsEndpoint,
        SQS_QUEUE_URLS: queue.QueueUrl ?? "",
        SQS_WAIT_SECONDS: "1",
        TOPIC_RAW: uniqueName("shell-raw"),
        TOPIC_DLQ: uniqueName("shell-dlq"),
        REDIS_KEY_PREFIX: `${uniqueName("shell")}:`,
      };
    },
    // The queue it reads is deleted: no retry brings it back.
    breakWhen: "once-ready",
    async breakIt(env) {
      await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: env.SQS_QUEUE_URLS }));
      return async () => {};
    },
    stoppedReason: /stopped for good/,
  },
  {
    definition: enricher as ServiceDefinition<ShellSettings>,
    async env() {
      const group = uniqueName("shell-enricher");
      return {
        ...common(),
        TOPIC_RAW: uniqueName("shell-raw"),
        TOPIC_EVENTS: uniqueName("shell-events"),
        TOPIC_DLQ: uniqueName("shell-dlq"),
        ENRICHER_GROUP_ID: group,
        DEDUP_KEY_PREFIX: `${group}:`,
      };
    },
    // Another application holds the consumer group with a protocol trailstream does not speak.
    breakWhen: "before-start",
    async breakIt(env) {
      await ensureTopics(kafka, [{ topic: env.TOPIC_RAW ?? "", partitions: 1 }]);
      const other = await joinWithOtherProtocol(
        { brokers: e.kafkaBrokers, clientId: "other-application" },
        env.ENRICHER_GROUP_ID ?? "",
        env.TOPIC_RAW ?? "",
      );
      return () => other.close();
    },
    stoppedReason: /Kafka consumer stopped/,
  },
  {
    definition: alerter as ServiceDefinition<ShellSettings>,
    async env() {
      const group = uniqueName("shell-alerter");
      return {
        ...common(),
        TOPIC_EVENTS: uniqueName("shell-events"),
        TOPIC_ALERTS: uniqueName("shell-alerts"),
        TOPIC_DLQ: uniqueName("shell-dlq"),
        ALERTER_GROUP_ID: group,
        ALERTER_KEY_PREFIX: `${group}:`,
      };
    },
    breakWhen: "before-start",
    async breakIt(env) {
      await ensureTopics(kafka, [{ topic: env.TOPIC_EVENTS ?? "", partitions: 1 }]);
      const other = await joinWithOtherProtocol(
        { brokers: e.kafkaBrokers, clientId: "other-application" },
        env.ALERTER_GROUP_ID ?? "",
        env.TOPIC_EVENTS ?? "",
      );
      return () => other.close();
    },
    stoppedReason: /Kafka consumer stopped/,
  },
];

before(async () => {
  e = await endpoints();
  kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "service-shell-test" });
  aws = awsClients(e);
});

after(() => {
  aws?.sqs.destroy();
});

for (const c of cases) {
  const name = c.definition.name;
  describe(`service shell: ${name}`, () => {
    test(`${name}: bad settings exit 2 with one message that names every problem`, async () => {
      const p = await runCli(name, { ...(await c.env()), KAFKA_BROKERS: "no-port-here", METRICS_PORT: "-1" });
      assert.equal(await withTimeout(p.exited(), 30_000, () => logs(p)), 2, logs(p));
      assert.deepEqual(p.stdout, [], "nothing on stdout: no logger was started");
      assert.equal(p.stderr[0], `${name}: invalid configuration:`, logs(p));
      assert.ok(p.stderr.some((l) => l.includes("KAFKA_BROKERS")) && p.stderr.some((l) => l.includes("METRICS_PORT")));
    });

    let running: ServiceProcess | undefined;
    test(`${name}: starts, answers /healthz and /metrics, and /readyz turns 200`, async () => {
      running = await runCli(name, await c.env());
      const p = running;
      const port = p.port;
      await eventually(async () => {
        assert.ok(
          p.stdout.some((l) => l.includes('"serving /metrics, /healthz and /readyz"')),
          `not serving yet:\n${logs(p)}`,
        );
      }, 30_000);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      await eventually(async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        assert.equal(ready.status, 200, `${await ready.text()}\n${logs(p)}`);
      }, 60_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, new RegExp(`trailstream_process_cpu_seconds_total\\{service="${name}"\\}`));
    });

    test(`${name}: SIGTERM stops it in order and it exits 0`, async () => {
      const p = running;
      assert.ok(p, "started by the test before");
      assert.equal(await withTimeout(p.stop(), 20_000, () => logs(p)), 0, logs(p));
      // The shell's own lines, in order: the signal, then "stopped" with the exit code. (The
      // service's last line and the shell's "stopped" carry the same millisecond and were seen in
      // either order on a loaded machine, so the test does not require "stopped" to be the very last.)
      const lines = p.stdout.map((l): { msg?: string; exitCode?: number } => {
        try {
          return JSON.parse(l) as { msg?: string; exitCode?: number };
        } catch {
          return {};
        }
      });
      const signalled = lines.findIndex((l) => l.msg === "SIGTERM: stopping");
      const stopped = lines.findIndex((l) => l.msg === "stopped");
      assert.ok(signalled >= 0 && stopped > signalled, logs(p));
      assert.equal(lines[stopped]?.exitCode, 0, logs(p));
      assert.ok(stopped >= lines.length - 2, `"stopped" is among the last lines:\n${logs(p)}`);
    });

    test(`${name}: a component that stopped for good turns ready() false and settles fatal`, async () => {
      const env = await c.env();
      const settings = c.definition.loadSettings(env);
      let undo = c.breakWhen === "before-start" ? await c.breakIt(env) : async () => {};
      const service = await c.definition.start(settings, {
        log: createLogger(name, "silent"),
        registry: createRegistry(name),
      });
      try {
        if (c.breakWhen === "once-ready") {
          await eventually(async () => assert.deepEqual([...(await service.ready())], []), 30_000);
          undo = await c.breakIt(env);
        }
        await withTimeout(service.fatal, 30_000, () => "fatal never settled");
        assert.match((await service.ready()).join("; "), c.stoppedReason);
      } finally {
        await service.stop(1_000);
        await undo();
      }
    });

    test(`${name}: a component that stopped for good exits 1 with one fatal line carrying err.stack`, async () => {
      const env = await c.env();
      let undo = c.breakWhen === "before-start" ? await c.breakIt(env) : async () => {};
      const p = await runCli(name, env);
      try {
        if (c.breakWhen === "once-ready") {
          await p.ready(60_000);
          undo = await c.breakIt(env);
        }
        assert.equal(await withTimeout(p.exited(), 60_000, () => logs(p)), 1, logs(p));
        const fatal = p.stdout
          .map((l) => JSON.parse(l) as { level?: string; msg?: string; err?: { stack?: string } })
          .filter((l) => l.level === "fatal");
        assert.equal(fatal.length, 1, logs(p));
        assert.match(fatal[0]?.msg ?? "", /stopped for good/);
        assert.ok(fatal[0]?.err?.stack, `the fatal line carries err.stack:\n${logs(p)}`);
      } finally {
        await p.kill();
        await undo();
      }
    });
  });
}
