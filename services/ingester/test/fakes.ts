// Fakes of the clients the sources use, recording what they were asked.
import type { OutgoingMessage, Producer } from "@trailstream/kafka";
import type { RedisCommand, RedisReply } from "@trailstream/redis";
import { createLogger, type Logger } from "@trailstream/runtime";
import type { IngesterRedis } from "../src/leases.ts";

export class FakeProducer implements Producer {
  readonly sent: { topic: string; messages: OutgoingMessage[] }[] = [];
  fail: Error | undefined;
  delayMs = 0;
  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw this.fail;
    this.sent.push({ topic, messages: [...messages] });
  }
  async close(): Promise<void> {}
  values(topic: string): unknown[] {
    return this.sent
      .filter((s) => s.topic === topic)
      .flatMap((s) => s.messages.map((m) => JSON.parse(String(m.value))));
  }
}

export const silent: Logger = createLogger("test", "silent");

/** A stand-in for an SDK client: `send` answers by command class name. */
export function fakeClient(handlers: Record<string, (input: Record<string, unknown>) => unknown>) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  return {
    calls,
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push({ name, input: command.input });
      const handler = handlers[name];
      if (!handler) throw new Error(`fake client: no handler for ${name}`);
      return handler(command.input);
    },
    destroy: () => {},
  };
}

/** Just enough of Redis for the lease and checkpoint scripts, with a clock the test moves. */
export function fakeRedis() {
  let now = 0;
  const strings = new Map<string, { value: string; expiresAt: number }>();
  const hashes = new Map<string, Map<string, string>>();
  const zsets = new Map<string, Map<string, number>>();
  const get = (k: string) => {
    const e = strings.get(k);
    if (!e || e.expiresAt <= now) return null;
    return e.value;
  };
  const command = async (words: RedisCommand): Promise<RedisReply> => {
    const [cmd, ...a] = words.map(String);
    switch (cmd) {
      case "SET": {
        const [k = "", v = "", nx, , px] = a;
        if (nx === "NX" && get(k) !== null) return null;
        strings.set(k, { value: v, expiresAt: now + Number(px) });
        return "OK";
      }
      case "MGET":
        return a.map(get);
      case "EVAL": {
        const [script = "", , k1 = "", ...rest] = a;
        if (script.includes("PEXPIRE")) {
          if (get(k1) !== rest[0]) return 0;
          strings.set(k1, { value: rest[0] ?? "", expiresAt: now + Number(rest[1]) });
          return 1;
        }
        if (script.includes("DEL")) {
          if (get(k1) !== rest[0]) return 0;
          strings.delete(k1);
          return 1;
        }
        // fenced HSET: KEYS = lease, hash; ARGV = worker, field, value
        const [hash = "", worker, field = "", value = ""] = rest;
        if (get(k1) !== worker) return 0;
        const h = hashes.get(hash) ?? new Map<string, string>();
        h.set(field, value);
        hashes.set(hash, h);
        return 1;
      }
      case "HGET":
        return hashes.get(a[0] ?? "")?.get(a[1] ?? "") ?? null;
      case "HGETALL":
        return [...(hashes.get(a[0] ?? "") ?? [])].flat();
      case "ZADD": {
        const z = zsets.get(a[0] ?? "") ?? new Map<string, number>();
        z.set(a[2] ?? "", Number(a[1]));
        zsets.set(a[0] ?? "", z);
        return 1;
      }
      case "ZREMRANGEBYSCORE": {
        const z = zsets.get(a[0] ?? "");
        for (const [m, score] of z ?? []) if (score <= Number(a[2])) z?.delete(m);
        return 0;
      }
      case "ZRANGE":
        return [...(zsets.get(a[0] ?? "")?.keys() ?? [])];
      case "ZREM":
        zsets.get(a[0] ?? "")?.delete(a[1] ?? "");
        return 1;
      case "PEXPIRE":
        return 1;
      default:
        throw new Error(`fake redis: ${cmd}`);
    }
  };
  const store: IngesterRedis = {
    command,
    batch: (commands) => Promise.all(commands.map(command)),
    script: (script, keys, args) => command(["EVAL", script.lua, String(keys.length), ...keys, ...args]),
  };
  return { store, command, tick: (ms: number) => (now += ms), now: () => now };
}
