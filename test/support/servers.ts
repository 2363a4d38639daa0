// Where integration tests find the real servers. Endpoints in environment variables always win
// (`deploy/local/stack env` prints them); without them, where a Docker engine answers, the same
// servers, of the same versions (deploy/local/versions), start in testcontainers; otherwise the test
// fails naming the command that starts them. A test never skips silently because a server is missing.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { parseRedisUrl } from "@trailstream/redis";

export interface Endpoints {
  kafkaBrokers: string[];
  redisUrl: string;
  /** moto: S3, SQS, SNS, CloudWatch Logs and its own Kinesis. */
  awsEndpoint: string;
  /** kinesis-local: a fuller Kinesis (resharding, several shards). */
  kinesisEndpoint: string;
  region: string;
}

export const STACK_HINT = "start the local servers with `deploy/local/stack up` and export `deploy/local/stack env`";

let cached: Promise<Endpoints> | undefined;

export function endpoints(): Promise<Endpoints> {
  cached ??= resolveEndpoints();
  return cached;
}

async function resolveEndpoints(): Promise<Endpoints> {
  const env = process.env;
  const fromEnv = [env.KAFKA_BROKERS, env.REDIS_URL, env.AWS_ENDPOINT_URL].some((v) => v);
  if (!fromEnv && dockerAvailable()) return startContainers();
  const missing = ["KAFKA_BROKERS", "REDIS_URL", "AWS_ENDPOINT_URL"].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`${missing.join(", ")} not set and no Docker engine to start servers: ${STACK_HINT}`);
  }
  env.AWS_REGION ??= "us-east-1";
  env.AWS_ACCESS_KEY_ID ??= "test";
  env.AWS_SECRET_ACCESS_KEY ??= "test";
  return {
    kafkaBrokers: (env.KAFKA_BROKERS ?? "").split(","),
    redisUrl: env.REDIS_URL ?? "",
    awsEndpoint: env.AWS_ENDPOINT_URL ?? "",
    kinesisEndpoint: env.AWS_ENDPOINT_URL_KINESIS ?? env.AWS_ENDPOINT_URL ?? "",
    region: env.AWS_REGION,
  };
}

function dockerAvailable(): boolean {
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore", timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

const LOCAL = resolve(import.meta.dirname, "../../deploy/local");

export interface StackVersions {
  kafka: string;
  redis: string;
  moto: string;
  kinesis: string;
  alertmanager: string;
}

/** The versions deploy/local/stack installs: deploy/local/versions, and Kafka's kafka.version in its pom.xml. */
export function stackVersions(): StackVersions {
  const vars = new Map<string, string>();
  for (const line of readFileSync(join(LOCAL, "versions"), "utf8").split("\n")) {
    const m = /^([A-Z_]+)=([\w.-]+)$/.exec(line.trim());
    if (m?.[1] && m[2]) vars.set(m[1], m[2]);
  }
  const pom = readFileSync(join(LOCAL, "kafka/pom.xml"), "utf8");
  const found = (what: string, value: string | undefined) => {
    if (!value) throw new Error(`${what} not found in deploy/local`);
    return value;
  };
  return {
    kafka: found("kafka.version (kafka/pom.xml)", /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]),
    redis: found("REDIS_VERSION (versions)", vars.get("REDIS_VERSION")),
    moto: found("MOTO_VERSION (versions)", vars.get("MOTO_VERSION")),
    kinesis: found("KINESIS_VERSION (versions)", vars.get("KINESIS_VERSION")),
    alertmanager: found("ALERTMANAGER_VERSION (versions)", vars.get("ALERTMANAGER_VERSION")),
  };
}

/** The images of the Docker path: the stack's servers at the stack's versions, tags pinned. */
export function containerImages(v: StackVersions = stackVersions()): Record<keyof StackVersions, string> {
  return {
    kafka: `apache/kafka:${v.kafka}`,
    redis: `redis:${v.redis}`,
    moto: `motoserver/moto:${v.moto}`,
    // kinesis-local on npm is kinesis-mock's build for Node, released with the same version.
    kinesis: `ghcr.io/etspaceman/kinesis-mock:${v.kinesis}`,
    alertmanager: `prom/alertmanager:v${v.alertmanager}`,
  };
}

/** Alertmanager as deploy/local/stack configures it: alerts are kept (GET /api/v2/alerts) and sent nowhere. */
const ALERTMANAGER_CONFIG = `route:
  receiver: "null"
receivers:
  - name: "null"
`;

// Same servers, same versions as deploy/local/stack, for a laptop with Docker and no stack running
// (no Redis Cluster and no SASL listener: README.md says which tests that leaves out).
// The containers are left to testcontainers' reaper, which removes them when the test process exits.
async function startContainers(): Promise<Endpoints> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const images = containerImages();
  const kafkaPort = 19092;
  const [, redis, moto, kinesis, alertmanager] = await Promise.all([
    new GenericContainer(images.kafka)
      .withExposedPorts({ container: kafkaPort, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: "1",
        KAFKA_PROCESS_ROLES: "broker,controller",
        KAFKA_LISTENERS: `PLAINTEXT://:${kafkaPort},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: "1",
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: "1",
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start(),
    new GenericContainer(images.redis).withExposedPorts(6379).start(),
    new GenericContainer(images.moto).withExposedPorts(5000).start(),
    new GenericContainer(images.kinesis).withExposedPorts(4568).start(),
    new GenericContainer(images.alertmanager)
      .withCopyContentToContainer([{ content: ALERTMANAGER_CONFIG, target: "/etc/alertmanager/trailstream.yml" }])
      // An empty --cluster.listen-address turns gossip off, as on the stack.
      .withCommand([
        "--config.file=/etc/alertmanager/trailstream.yml",
        "--storage.path=/alertmanager",
        "--cluster.listen-address=",
      ])
      .withExposedPorts(9093)
      .withWaitStrategy(Wait.forHttp("/-/ready", 9093))
      .start(),
  ]);
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  // The tests that need Alertmanager read ALERTMANAGER_URL, as `deploy/local/stack env` sets it.
  process.env.ALERTMANAGER_URL ??= `http://${alertmanager.getHost()}:${alertmanager.getMappedPort(9093)}`;
  return {
    kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    awsEndpoint: `http://${moto.getHost()}:${moto.getMappedPort(5000)}`,
    kinesisEndpoint: `http://${kinesis.getHost()}:${kinesis.getMappedPort(4568)}`,
    region: process.env.AWS_REGION,
  };
}

/** Fails with one sentence naming the server and how to start it, when nothing listens there. */
export async function requireReachable(server: string, hostPort: string, via: string): Promise<void> {
  const { host, port } = firstAddress(hostPort);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
  if (!reachable) throw new Error(`${server} is not reachable at ${host}:${port} (${via}): ${STACK_HINT}`);
}

/** The address to try first: a Redis URL's server, first Sentinel or first seed node; a URL's host; host:port. */
function firstAddress(endpoint: string): { host: string; port: number } {
  if (/^rediss?(\+\w+)?:\/\//.test(endpoint)) {
    const target = parseRedisUrl(endpoint);
    const node =
      target.kind === "single" ? target.node : target.kind === "sentinel" ? target.sentinels[0] : target.seeds[0];
    return node ?? { host: "", port: 0 };
  }
  const url = endpoint.includes("://") ? new URL(endpoint) : new URL(`tcp://${endpoint}`);
  return { host: url.hostname, port: Number(url.port) };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
