// The one Redis client of trailstream, on ioredis: a single server, Sentinel or a Redis Cluster,
// chosen by REDIS_URL. Callers see trailstream's own types (RedisReply, RedisStore), never
// ioredis's, so the client library can change here alone.
//
// Behaviour every service shares:
// - no offline queue: while Redis is unreachable a call fails at once with RedisUnavailableError,
//   and the caller decides (retry the batch, pass, report not ready); commands in flight when a
//   connection drops fail too rather than wait for a reconnection;
// - every call is bounded by the command timeout (RedisTimeoutError);
// - the client reconnects by itself with a doubling backoff capped at retryMaxMs;
// - batch() sends one pipeline per node of a Cluster (one round trip per node, side by side);
// - the keys one command, transaction or script touches must share a slot (a hash tag) on every
//   kind of target, so a missing hash tag shows on the single server in tests, not first in production.
import { createHash } from "node:crypto";
import { getKeyIndexes } from "@ioredis/commands";
import { Cluster, Redis } from "ioredis";
import type { RedisSettings } from "./settings.ts";
import { keySlot } from "./slot.ts";
import { describeTarget } from "./target.ts";

export type RedisReply = string | number | null | RedisReply[];
/** A command as its words: `["SET", key, value, "NX"]`; binary arguments as Buffers. */
export type RedisCommand = readonly [string, ...(string | Buffer)[]];
/** A key as Redis sees it: text, or bytes. */
export type RedisKey = string | Buffer;

export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}
export class RedisTimeoutError extends Error {
  override readonly name = "RedisTimeoutError";
}
/** Keys that must share a slot do not (a missing hash tag). A programming error, not a Redis outage. */
export class RedisCrossSlotError extends Error {
  override readonly name = "RedisCrossSlotError";
}
/** Redis answered a command with an error (WRONGTYPE, NOPERM, a script error…). */
export class RedisReplyError extends Error {
  override readonly name = "RedisReplyError";
}

/** A Lua script, sent by its SHA-1 (EVALSHA) and loaded on the node that lacks it. */
export interface RedisScript {
  readonly lua: string;
  readonly sha: string;
}

export function defineScript(lua: string): RedisScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

export interface RedisEvents {
  /** Connected and ready (first time, or again after an outage). */
  onUp?: () => void;
  /** The connection went down; reason is safe to log. Called once per outage, and not for close(). */
  onDown?: (reason: string) => void;
}

export interface RedisStore {
  readonly kind: "single" | "sentinel" | "cluster";
  /** REDIS_URL with the password masked. */
  describe(): string;
  /** Connected and answering, as far as the client knows. */
  ready(): boolean;
  /** Resolves when the client is first ready (it keeps retrying until then, or until close()). */
  connected(): Promise<void>;
  command(command: RedisCommand): Promise<RedisReply>;
  /**
   * Pipelines the commands (one pipeline per node of a Cluster); the replies in order. Throws the
   * first error. `scripts`: the scripts its EVALSHA commands run; when a node answers NOSCRIPT (it
   * restarted, failed over or was flushed) they are loaded on every master and the whole batch is
   * sent again, so a batch with scripts must be safe to run twice.
   */
  batch(commands: readonly RedisCommand[], options?: { scripts?: readonly RedisScript[] }): Promise<RedisReply[]>;
  /** MULTI/EXEC: every key of every command in one slot. */
  transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]>;
  script(script: RedisScript, keys: readonly RedisKey[], args: readonly (string | Buffer)[]): Promise<RedisReply>;
  /** Closes the connections; calls after it fail with RedisUnavailableError. */
  close(): Promise<void>;
}

type Client = Redis | Cluster;
type ExecResult = [Error | null, unknown][] | null;

const backoff = (maxMs: number) => (times: number) => Math.min(100 * 2 ** Math.min(Math.max(times - 1, 0), 16), maxMs);

function clientOptions(settings: RedisSettings) {
  const { target } = settings;
  return {
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    retryStrategy: backoff(settings.retryMaxMs),
    ...(target.credentials.username ? { username: target.credentials.username } : {}),
    ...(target.credentials.password ? { password: target.credentials.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
}

function createClient(settings: RedisSettings): Client {
  const { target } = settings;
  const options = clientOptions(settings);
  switch (target.kind) {
    case "single":
      return new Redis({ ...options, host: target.node.host, port: target.node.port, db: target.db });
    case "sentinel":
      return new Redis({
        ...options,
        sentinels: target.sentinels.map((n) => ({ host: n.host, port: n.port })),
        name: target.masterName,
        db: target.db,
        sentinelRetryStrategy: backoff(settings.retryMaxMs),
        ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      });
    case "cluster": {
      const { retryStrategy: _r, enableOfflineQueue: _o, ...nodeOptions } = options;
      return new Cluster(
        target.seeds.map((n) => ({ host: n.host, port: n.port })),
        {
          redisOptions: nodeOptions,
          enableOfflineQueue: false,
          clusterRetryStrategy: backoff(settings.retryMaxMs),
          slotsRefreshTimeout: Math.max(1_000, settings.commandTimeoutMs),
          // With TLS, nodes are reached by the names they announce so certificates match them.
          ...(target.tls
            ? { dnsLookup: (address: string, callback: (e: null, a: string) => void) => callback(null, address) }
            : {}),
        },
      );
    }
  }
}

/** The keys of a command, by Redis's own key specs (EVAL's numkeys, MGET's list, …). */
export function keysOf(command: RedisCommand): RedisKey[] {
  const [name, ...args] = command;
  try {
    return getKeyIndexes(name, args, { nameCaseInsensitive: true }).map((i) => args[i] as RedisKey);
  } catch {
    return [];
  }
}

function assertOneSlot(keys: readonly RedisKey[], what: string): void {
  if (keys.length < 2) return;
  const slot = keySlot(keys[0] as RedisKey);
  for (const key of keys) {
    if (keySlot(key) !== slot) {
      throw new RedisCrossSlotError(
        `${what} touches keys in different Cluster slots (${String(keys[0])}, ${String(key)}): give them one hash tag`,
      );
    }
  }
}

const REDIRECTION = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

export function openRedis(settings: RedisSettings, events: RedisEvents = {}): RedisStore {
  const described = describeTarget(settings.target);
  const timeoutMs = settings.commandTimeoutMs;
  const client = createClient(settings);
  let closed = false;
  let up = false;
  let resolveConnected: () => void = () => {};
  let rejectConnected: (error: Error) => void = () => {};
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  connected.catch(() => {});

  // Up and down follow the client's status, not its error events: a Cluster reports a failed slot
  // refresh or one node's error while it still serves every slot.
  let lastError = "not connected yet";
  client.on("ready", () => {
    if (up) return;
    up = true;
    resolveConnected();
    events.onUp?.();
  });
  client.on("error", (error: Error) => {
    lastError = error.message;
  });
  client.on("node error", (error: Error) => {
    lastError = error.message;
  });
  client.on("close", () => {
    if (!up) return;
    up = false;
    // Our own close() is a stop, not a lost connection: nobody is told Redis went away.
    if (closed) return;
    events.onDown?.(lastError === "not connected yet" ? "connection closed" : lastError);
  });

  const unavailable = (why: string) => new RedisUnavailableError(`Redis ${described} is not reachable: ${why}`);

  /** A clear error for what ioredis rejected with. */
  function translate(error: unknown): Error {
    if (
      error instanceof RedisUnavailableError ||
      error instanceof RedisTimeoutError ||
      error instanceof RedisCrossSlotError ||
      error instanceof RedisReplyError
    ) {
      return error;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/timed out/i.test(message))
      return new RedisTimeoutError(`Redis ${described} did not answer within ${timeoutMs} ms`);
    if (error instanceof Error && error.name === "ReplyError") return new RedisReplyError(message);
    if (
      /enableOfflineQueue|Connection is closed|max retries per request|not writeable|ECONNREFUSED|ECONNRESET/i.test(
        message,
      )
    ) {
      return unavailable(lastError !== "not connected yet" ? lastError : message);
    }
    return unavailable(message);
  }

  /** Bounds a call by the command timeout, whatever ioredis waits for inside (slots, redirections). */
  async function bounded<T>(work: () => Promise<T>): Promise<T> {
    if (closed) throw new RedisUnavailableError(`Redis ${described}: the client is closed`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisTimeoutError(`Redis ${described} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([work(), deadline]);
    } catch (error) {
      throw translate(error);
    } finally {
      clearTimeout(timer);
    }
  }

  const call = (command: RedisCommand) => client.call(command[0], command.slice(1)) as Promise<RedisReply>;

  /** The replies of one exec(), throwing the first error. */
  function repliesOf(result: ExecResult, count: number): RedisReply[] {
    if (result === null) throw new RedisReplyError("Redis discarded the transaction");
    if (result.length !== count)
      throw new RedisReplyError(`Redis answered ${result.length} replies to ${count} commands`);
    return result.map(([error, reply]) => {
      if (error) throw translate(error);
      return reply as RedisReply;
    });
  }

  async function pipelineOn(commands: readonly RedisCommand[]): Promise<ExecResult> {
    const pipeline = client.pipeline();
    for (const c of commands) pipeline.call(c[0], c.slice(1));
    return (await pipeline.exec()) as ExecResult;
  }

  /** A Cluster: one pipeline per master node, side by side; redirected commands go again one by one. */
  async function clusterBatch(cluster: Cluster, commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    const groups = new Map<string, number[]>();
    commands.forEach((command, i) => {
      const key = keysOf(command)[0];
      const slot = key === undefined ? -1 : keySlot(key);
      const node = slot < 0 ? "any" : (cluster.slots[slot]?.[0] ?? `slot:${slot}`);
      const group = groups.get(node);
      if (group) group.push(i);
      else groups.set(node, [i]);
    });
    const replies: RedisReply[] = new Array(commands.length).fill(null);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const result = await pipelineOn(indexes.map((i) => commands[i] as RedisCommand));
        if (result === null || result.length !== indexes.length) {
          throw new RedisReplyError(`Redis answered a pipeline of ${indexes.length} commands with nothing usable`);
        }
        await Promise.all(
          result.map(async ([error, reply], j) => {
            const i = indexes[j] as number;
            if (error && REDIRECTION.test(error.message)) replies[i] = await call(commands[i] as RedisCommand);
            else if (error) throw translate(error);
            else replies[i] = reply as RedisReply;
          }),
        );
      }),
    );
    return replies;
  }

  /** SCRIPT LOAD of each script on every master (one on a single server or behind Sentinel). */
  async function loadScripts(scripts: readonly RedisScript[]): Promise<void> {
    const nodes = client instanceof Cluster ? client.nodes("master") : [client];
    await Promise.all(nodes.flatMap((node) => scripts.map((s) => node.script("LOAD", s.lua))));
  }

  return {
    kind: settings.target.kind,
    describe: () => described,
    ready: () => !closed && client.status === "ready",
    connected: () => connected,

    command(command) {
      return bounded(async () => {
        assertOneSlot(keysOf(command), command[0]);
        return call(command);
      });
    },

    async batch(commands, options) {
      if (commands.length === 0) return [];
      const send = () =>
        bounded(async () => {
          for (const c of commands) assertOneSlot(keysOf(c), c[0]);
          if (client instanceof Cluster) return clusterBatch(client, commands);
          return repliesOf(await pipelineOn(commands), commands.length);
        });
      const scripts = options?.scripts ?? [];
      try {
        return await send();
      } catch (error) {
        if (scripts.length === 0 || !(error instanceof RedisReplyError && error.message.startsWith("NOSCRIPT"))) {
          throw error;
        }
        await bounded(() => loadScripts(scripts));
        return send();
      }
    },

    transaction(commands) {
      if (commands.length === 0) return Promise.resolve([]);
      return bounded(async () => {
        assertOneSlot(commands.flatMap(keysOf), "a transaction");
        const multi = client.multi();
        for (const c of commands) multi.call(c[0], c.slice(1));
        return repliesOf((await multi.exec()) as ExecResult, commands.length);
      });
    },

    script(script, keys, args) {
      return bounded(async () => {
        assertOneSlot(keys, "a script");
        const n = String(keys.length);
        try {
          return await call(["EVALSHA", script.sha, n, ...keys, ...args]);
        } catch (error) {
          if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
          return call(["EVAL", script.lua, n, ...keys, ...args]);
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      rejectConnected(new RedisUnavailableError(`Redis ${described}: closed before it connected`));
      if (client.status === "ready") {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          client.quit().catch(() => {}),
          new Promise((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      client.disconnect();
    },
  };
}
