// From decoded items to what the sink writes: a raw record keyed by event identity, or a dead
// letter that says why not. All CloudTrail knowledge is in @trailstream/cloudtrail; this only
// attaches the origin.
import { type DecodeItem, eventIdentity, type Origin } from "@trailstream/cloudtrail";
import type { DeadLetterInput, RawRecord } from "./sink.ts";

/**
 * A raw record's Kafka value: `JSON.stringify(record.envelope)`, or the same members in the same
 * order (`v`, `event`, `origin`) around the event's own text, which parsed as one JSON value on its
 * own and so cannot end the object early. `originJson` is `JSON.stringify(record.envelope.origin)`,
 * serialised once per origin by the caller.
 */
export function rawValue(record: RawRecord, originJson: string): string {
  if (record.eventText === undefined) return JSON.stringify(record.envelope);
  return `{"v":1,"event":${record.eventText},"origin":${originJson}}`;
}

export type Outcome = { ok: true; record: RawRecord } | { ok: false; letter: DeadLetterInput; key: string | null };

export function toOutcome(item: DecodeItem, origin: Origin, where: string): Outcome {
  if (!item.ok) {
    const at = item.index === undefined ? "" : ` (record ${item.index})`;
    return {
      ok: false,
      letter: { reason: item.error.code, message: `${where}${at}: ${item.error.message}`, origin },
      key: where,
    };
  }
  const identity = eventIdentity(item.record);
  if (identity === null) {
    return {
      ok: false,
      letter: {
        reason: "missing-event-id",
        message: `${where} (record ${item.index}): the record has no eventID or recipientAccountId`,
        origin,
        payload: JSON.stringify(item.record),
        payloadEncoding: "utf8",
      },
      key: where,
    };
  }
  const record: RawRecord = { identity, envelope: { v: 1, event: item.record, origin } };
  if (item.text !== undefined) record.eventText = item.text;
  return { ok: true, record };
}
