// Private servers for the fault campaign (bench/fault-*.ts) and the broker-restart test, so that
// stopping, restarting and throttling touch nothing another test or person uses: a redis-server, a
// one-node KRaft Kafka broker (the jars deploy/local/stack cached in ~/.cache/trailstream), both on
// free ports with their data in a temporary folder, and an HTTP proxy in front of moto that answers
// a share of requests with AWS's throttling errors. Each is stopped by the pid it was started with,
// never by name.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { Socket } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./service-process.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const CACHE =
  process.env.TRAILSTREAM_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "trailstream");

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what} exited`);
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exited(child: ChildProcess): Promise<unknown> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, "exit");
}

/** One RESP command over a fresh connection; the first reply line. */
async function redisCommand(port: number, args: string[], timeoutMs = 2_000): Promise<string> {
  const socket = new Socket();
  socket.setTimeout(timeoutMs);
  return new Promise<string>((res, rej) => {
    let data = "";
    socket.once("error", rej);
    socket.once("timeout", () => {
      socket.destroy();
      rej(new Error("Redis did not answer"));
    });
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      const end = data.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        res(data.slice(0, end));
      }
    });
    socket.once("close", () => res(data));
    socket.connect(port, "127.0.0.1", () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
    });
  });
}

/**
 * A redis-server of the campaign's own. It snapshots only when told (`stop()` saves, the next
 * `start()` loads the snapshot): an outage of a Redis that keeps its data, as a managed or
 * persistent one does, not the loss of every claim.
 */
export class PrivateRedis {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async create(dir: string): Promise<PrivateRedis> {
    await mkdir(dir, { recursive: true });
    return new PrivateRedis(await freePort(), dir);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir],
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    this.#child = child;
    await waitFor(
      "redis-server",
      () =>
        redisCommand(this.port, ["PING"]).then(
          (r) => r === "+PONG",
          () => false,
        ),
      20_000,
      child,
    );
  }

  /** Saves a snapshot and exits: the port refuses connections until start(). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    await redisCommand(this.port, ["SHUTDOWN", "SAVE"]).catch(() => "");
    await Promise.race([exited(child), new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited(child);
    this.#child = undefined;
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill("SIGKILL");
    await exited(child);
    this.#child = undefined;
  }
}

/** The Kafka jars deploy/local/stack resolved from Maven Central. */
function kafkaLibs(): string {
  const home = readdirSync(CACHE)
    .filter((d) => d.startsWith("kafka-") && existsSync(join(CACHE, d, ".complete")))
    .sort()
    .at(-1);
  if (!home) throw new Error(`no Kafka in ${CACHE}: run deploy/local/stack up once`);
  return join(CACHE, home, "libs", "*");
}

/** A one-node KRaft broker (broker and controller in one process) of the campaign's own. */
export class PrivateKafka {
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, controllerPort: number, dir: string) {
    this.port = port;
    this.controllerPort = controllerPort;
    this.dir = dir;
  }

  static async create(dir: string): Promise<PrivateKafka> {
    await mkdir(join(dir, "logs"), { recursive: true });
    const kafka = new PrivateKafka(await freePort(), await freePort(), dir);
    await kafka.#format();
    return kafka;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #java(args: string[]): string[] {
    return [
      "-Xms256m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-XX:+ExitOnOutOfMemoryError",
      `-Dkafka.logs.dir=${join(this.dir, "logs")}`,
      `-Dlog4j2.configurationFile=${join(ROOT, "deploy/local/kafka/log4j2.xml")}`,
      "-cp",
      kafkaLibs(),
      ...args,
    ];
  }

  async #format(): Promise<void> {
    // The same settings as deploy/local/stack's node, on other ports and another data folder.
    const properties = [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.bootstrap.servers=127.0.0.1:${this.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      "inter.broker.listener.name=PLAINTEXT",
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${join(this.dir, "data")}`,
      "num.partitions=3",
      "default.replication.factor=1",
      "min.insync.replicas=1",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=5",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "transaction.state.log.num.partitions=5",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
    ].join("\n");
    await writeFile(join(this.dir, "server.properties"), `${properties}\n`);
    const run = promisify(execFile);
    const { stdout: id } = await run("java", this.#java(["kafka.tools.StorageTool", "random-uuid"]));
    await run(
      "java",
      this.#java([
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "--cluster-id",
        id.trim(),
        "--config",
        join(this.dir, "server.properties"),
      ]),
    );
  }

  /** Starts the broker on its data folder and waits until groups and transactions work. */
  async start(): Promise<void> {
    const out = createWriteStream(join(this.dir, "logs", "stdout.log"), { flags: "a" });
    const child = spawn("java", this.#java(["kafka.Kafka", join(this.dir, "server.properties")]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    this.#child = child;
    const ready = promisify(execFile);
    await waitFor(
      "Kafka",
      () =>
        ready("python3", [join(ROOT, "deploy/local/kafka/ready.py"), "127.0.0.1", String(this.port), "--coordinators"])
          .then(() => true)
          .catch(() => false),
      120_000,
      child,
    );
  }

  /** SIGTERM (a controlled shutdown) or SIGKILL; waits for the process to end. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    await Promise.race([exited(child), new Promise((r) => setTimeout(r, 60_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited(child);
    this.#child = undefined;
  }

  async log(): Promise<string> {
    return readFile(join(this.dir, "logs", "server.log"), "utf8").catch(() => "");
  }
}

/**
 * An HTTP proxy in front of moto. While `share` > 0, that share of requests gets the throttling
 * answer the real service gives: S3 a 503 SlowDown (XML), the JSON-protocol services (SQS,
 * Kinesis, CloudWatch Logs) a 400 ThrottlingException. The AWS SDKs retry both with backoff.
 */
export class ThrottlingProxy {
  readonly port: number;
  share = 0;
  readonly counts = { forwarded: 0, throttled: 0 };
  readonly #target: URL;
  readonly #server: Server;
  readonly #random: () => number;

  private constructor(port: number, target: string, random: () => number) {
    this.port = port;
    this.#target = new URL(target);
    this.#random = random;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(target: string, random: () => number = Math.random): Promise<ThrottlingProxy> {
    const proxy = new ThrottlingProxy(await freePort(), target, random);
    proxy.#server.listen(proxy.port, "127.0.0.1");
    await once(proxy.#server, "listening");
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.share > 0 && this.#random() < this.share) {
      this.counts.throttled++;
      req.resume();
      const target = String(req.headers["x-amz-target"] ?? "");
      const json = target !== "" || String(req.headers["content-type"] ?? "").includes("json");
      if (json) {
        res.writeHead(400, {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-query-error": "ThrottlingException;Sender",
        });
        res.end(JSON.stringify({ __type: "com.amazonaws#ThrottlingException", message: "Rate exceeded" }));
      } else {
        res.writeHead(503, { "content-type": "application/xml" });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        );
      }
      return;
    }
    this.counts.forwarded++;
    const upstream = request(
      {
        host: this.#target.hostname,
        port: this.#target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}
