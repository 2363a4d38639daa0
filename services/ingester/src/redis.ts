// The ingester's only view of Redis: one function that sends a command and returns the reply.
// node-redis pipelines commands issued in the same tick, so concurrent calls share round trips.
import { createClient } from "redis";

export type RedisCommand = (args: readonly string[]) => Promise<unknown>;

export interface RedisConnection {
  command: RedisCommand;
  ready(): boolean;
  close(): Promise<void>;
}

export async function connectRedis(url: string, onError: (error: unknown) => void): Promise<RedisConnection> {
  const client = createClient({
    url,
    // Fail at once while the connection is down rather than queue: the callers (the identical-file
    // check, leases, checkpoints) each have their own retry or fallback, and must not wait on Redis.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000),
    },
  });
  client.on("error", onError);
  await client.connect();
  return {
    command: (args) => client.sendCommand([...args]),
    ready: () => client.isReady,
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}

export function asString(reply: unknown): string | null {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString("utf8");
  return null;
}

export function asNumber(reply: unknown): number {
  if (typeof reply === "number") return reply;
  if (typeof reply === "string") return Number(reply);
  return Number.NaN;
}
