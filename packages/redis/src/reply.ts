// Reading replies: the one decoder for what RedisStore answers.
import type { RedisReply } from "./client.ts";

/** A bulk or simple string reply; null for nil. Numbers come back as their text. */
export function replyText(reply: RedisReply | undefined): string | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "string") return reply;
  if (typeof reply === "number") return String(reply);
  throw new TypeError(`Redis answered a list where a single value was expected`);
}

/** An integer reply (or its text); NaN when the reply is no number. */
export function replyNumber(reply: RedisReply | undefined): number {
  if (typeof reply === "number") return reply;
  if (typeof reply === "string" && reply.trim() !== "") return Number(reply);
  return Number.NaN;
}

/** An array reply of strings (nil entries kept as null); [] for nil. */
export function replyList(reply: RedisReply | undefined): (string | null)[] {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) throw new TypeError("Redis answered a single value where a list was expected");
  return reply.map((r) => replyText(r));
}

/** HGETALL's flat field, value list as a Map. */
export function replyMap(reply: RedisReply | undefined): Map<string, string> {
  const list = replyList(reply);
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const field = list[i];
    const value = list[i + 1];
    if (field != null && value != null) out.set(field, value);
  }
  return out;
}
