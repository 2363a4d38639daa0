// Where integration tests find the real servers. Endpoints in environment variables always win
// (`deploy/local/stack env` prints them); without them, where a Docker engine answers, the same
// servers start in testcontainers; otherwise the test fails naming the command that starts them.
// A test never skips silently because a server is missing.
import { execFileSync } from "node:child_process";
import { connect } from "node:net";
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

// Same servers, same versions as deploy/local/stack, for a laptop with Docker and no stack running.
// The containers are left to testcontainers' reaper, which removes them when the test process exits.
async function startContainers(): Promise<Endpoints> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const kafkaPort = 19092;
  const [, redis, moto, kinesis] = await Promise.all([
    new GenericContainer("apache/kafka:4.1.1")
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
    new GenericContainer("redis:7").withExposedPorts(6379).start(),
    new GenericContainer("motoserver/moto:latest").withExposedPorts(5000).start(),
    new GenericContainer("ghcr.io/etspaceman/kinesis-mock:latest").withExposedPorts(4568).start(),
  ]);
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
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
