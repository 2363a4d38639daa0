// `trailstream lookup`: CloudTrail's LookupEvents over the events topic (or local log files), with
// the AWS CLI's arguments, output and error names. The topic is read by time: the offsets at the
// start time (Kafka's time index) up to those at the end time plus the delivery delay, so a query
// over the last hour reads about an hour of the topic, not all of it.
import { parseArgs } from "node:util";
import {
  blockMayAnswer,
  decodeIndexBlock,
  decodeLogFile,
  type IndexBlock,
  indexPartitionOf,
  isPlainObject,
  LookupError,
  LookupPage,
  type LookupRequest,
  type LookupRequestInput,
  lookupRecordOf,
  lookupRequest,
  newestUnread,
  nextRound,
  type OffsetWindow,
  planIndexedRead,
  type ReadSegment,
  segmentOffsets,
} from "@trailstream/cloudtrail";
import {
  type ConsumedMessage,
  createKafka,
  endOffsets,
  type KafkaClient,
  offsetsAt,
  type PartitionOffset,
  readKafkaSettings,
  readRanges,
} from "@trailstream/kafka";
import { ConfigReader, parseDuration } from "@trailstream/runtime";
import { EXIT, UsageError } from "../exit.ts";
import { writeLine } from "../output.ts";
import { listInputs } from "../scan/inputs.ts";

export const lookupHelp = `trailstream lookup [options] [PATH...]

CloudTrail's lookup-events over trailstream's deduplicated events: every trail's accounts and
Regions, data events included. Without PATH it reads the events topic (KAFKA_BROKERS, TOPIC_EVENTS);
with PATHs it reads those log files the way scan does, copies collapsed. Prints the JSON document
the AWS CLI prints: Events newest first, and NextToken when there are more.

Options (the AWS CLI's):
  --lookup-attributes AttributeKey=K,AttributeValue=V   one of EventId, EventName, ReadOnly, Username,
                               ResourceType, ResourceName, EventSource, AccessKeyId (or the JSON list)
  --start-time TIME            inclusive; ISO 8601 or seconds since the epoch
  --end-time TIME              inclusive; default now
  --max-results N              1 to 50 (default 50)
  --next-token TOKEN           the NextToken of the previous page (same other options)
  --event-category insight     Insights events instead of the others
Options (trailstream's):
  --topic NAME                 the events topic (default TOPIC_EVENTS or cloudtrail.events)
  --index-topic NAME           its lookup index, written by the enricher (default TOPIC_EVENTS_INDEX
                               or <topic>.index); only a hint: what it does not cover is read in full
  --no-index                   read the events topic without the index
  --stats                      print what was read (records, index blocks, rounds) to stderr as JSON
  --max-delivery-delay D       how long after its eventTime an event may reach the topic (default 1h)
  -h, --help

Exit codes: 0 answered; 254 a request CloudTrail would refuse (InvalidTimeRangeException, ...);
2 a usage error; 1 an unexpected failure.`;

/** The AWS CLI's exit code for an error the service returned. */
const SERVICE_ERROR = 254;
/** Clocks differ: a record may reach Kafka stamped a little before its eventTime. */
const CLOCK_SKEW_MS = 60_000;

export async function lookupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "lookup-attributes": { type: "string" },
      "start-time": { type: "string" },
      "end-time": { type: "string" },
      "max-results": { type: "string" },
      "next-token": { type: "string" },
      "event-category": { type: "string" },
      topic: { type: "string" },
      "index-topic": { type: "string" },
      "no-index": { type: "boolean", default: false },
      stats: { type: "boolean", default: false },
      "max-delivery-delay": { type: "string", default: "1h" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    await writeLine(process.stdout, lookupHelp);
    return EXIT.ok;
  }
  const input: LookupRequestInput = {};
  if (values["lookup-attributes"] !== undefined) input.LookupAttributes = attributes(values["lookup-attributes"]);
  if (values["start-time"] !== undefined) input.StartTime = time("--start-time", values["start-time"]);
  input.EndTime = values["end-time"] === undefined ? Date.now() : time("--end-time", values["end-time"]);
  if (values["max-results"] !== undefined) input.MaxResults = Number(values["max-results"]);
  if (values["next-token"] !== undefined) input.NextToken = values["next-token"];
  if (values["event-category"] !== undefined) input.EventCategory = values["event-category"];
  const delayMs = parseDuration(values["max-delivery-delay"]);
  if (delayMs === null) throw new UsageError(`--max-delivery-delay must be a duration such as 1h or 15m`);
  try {
    const request = lookupRequest(input);
    const page = new LookupPage(request);
    if (positionals.length > 0) await fromFiles(positionals, page);
    else await fromTopic(values.topic, values["no-index"] ? null : values["index-topic"], request, delayMs, page);
    await writeLine(process.stdout, JSON.stringify(page.response(), null, 4));
    if (values.stats) process.stderr.write(`${JSON.stringify(stats)}\n`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof LookupError)) throw error;
    process.stderr.write(
      `\nAn error occurred (${error.name}) when calling the LookupEvents operation: ${error.message}\n`,
    );
    return SERVICE_ERROR;
  }
}

/** The AWS CLI's shorthand `AttributeKey=K,AttributeValue=V` (the value runs to the end), or its JSON. */
function attributes(text: string): { AttributeKey: string; AttributeValue: string }[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    const parsed: unknown = JSON.parse(trimmed);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    return list.map((a) => {
      if (!isPlainObject(a) || typeof a.AttributeKey !== "string" || typeof a.AttributeValue !== "string")
        throw new UsageError("--lookup-attributes: each item needs AttributeKey and AttributeValue strings");
      return { AttributeKey: a.AttributeKey, AttributeValue: a.AttributeValue };
    });
  }
  const m = /^AttributeKey=([^,]*),AttributeValue=(.*)$/s.exec(trimmed);
  if (!m) throw new UsageError('--lookup-attributes takes "AttributeKey=EventName,AttributeValue=DeleteBucket"');
  return [{ AttributeKey: m[1] ?? "", AttributeValue: m[2] ?? "" }];
}

function time(flag: string, text: string): number {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1_000 : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`${flag}: "${text}" is not a time (ISO 8601 or epoch seconds)`);
  return ms;
}

async function fromFiles(paths: readonly string[], page: LookupPage): Promise<void> {
  for (const input of await listInputs(paths)) {
    if (/_CloudTrail-Digest_/.test(input.key)) continue;
    for await (const item of decodeLogFile(await input.open())) {
      if (item.ok) page.offer(item.record);
    }
  }
}

/**
 * The bytes a matching record's JSON must contain, or undefined when there is no such test. For the
 * keys whose values are JSON strings of the record or parts of them (not Username, which may be
 * derived), the asked value appears verbatim in the record's JSON unless it was escaped: a value
 * without `"`, `\\` or control characters can only be escaped as `\\uXXXX` (or `/` as `\\/`), so a
 * record containing neither the value nor such an escape cannot match and is not parsed.
 */
export function recordFilter(request: LookupRequest): ((raw: Buffer) => boolean) | undefined {
  const a = request.attribute;
  if (a === undefined || a.key === "Username") return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is excluded
  if (/["\\\u0000-\u001f\ud800-\udfff]/.test(a.value)) return undefined;
  const needle = Buffer.from(a.value, "utf8");
  const slash = a.value.includes("/");
  return (raw) => raw.includes(needle) || raw.includes("\\u") || (slash && raw.includes("\\/"));
}

/** What a lookup read, for --stats. */
const stats = {
  /** Records fetched inside the ranges read. */
  records: 0,
  /** Of those, records parsed (the others cannot hold the value). */
  parsed: 0,
  /** readRanges calls on the events topic (slices or rounds). */
  reads: 0,
  /** Index blocks overlapping the window (null: no index used), offsets planned to read, offsets in the window. */
  indexBlocks: null as number | null,
  plannedOffsets: null as string | null,
  windowOffsets: "0",
  ms: 0,
};
const started = performance.now();

/** The first slice read ends this far before the newest time that can answer; each next is 8 times wider. */
const FIRST_SLICE_MS = 60_000;

/**
 * Reads the topic newest first. With index blocks for the window (the enricher writes them, see
 * readIndex), only what the index cannot rule out is read, in rounds, the newest first, until the
 * page is full with events no unread block can be newer than. Without, in slices of Kafka time
 * going back from the end: the offsets at a time T (Kafka's time index) split what is read from
 * what is not, and every unread record has a timestamp before T, so an eventTime before T +
 * CLOCK_SKEW_MS. Once the page is full with events at or after that, nothing unread can enter it
 * and reading stops: a first page of a common attribute reads minutes, not the hour. A later page
 * (NextToken) starts at the previous page's last event instead of the end time.
 */
async function fromTopic(
  topicFlag: string | undefined,
  indexFlag: string | undefined | null,
  request: LookupRequest,
  delayMs: number,
  page: LookupPage,
): Promise<void> {
  const r = new ConfigReader();
  const connection = readKafkaSettings(r, "trailstream-lookup");
  const topic = topicFlag ?? r.string("TOPIC_EVENTS", "cloudtrail.events");
  const indexTopic = indexFlag === null ? null : (indexFlag ?? r.string("TOPIC_EVENTS_INDEX", `${topic}.index`));
  r.done();
  const kafka = createKafka(connection);
  const { startMs } = request;
  // The newest eventTime that can be in the answer.
  const newestMs = Math.min(
    request.endMs ?? Number.POSITIVE_INFINITY,
    request.after?.timeMs ?? Number.POSITIVE_INFINITY,
  );
  const lowest = await offsetsAt(kafka, topic, startMs === undefined ? undefined : startMs - CLOCK_SKEW_MS);
  const from = new Map(lowest.map((p) => [p.partition, p.offset]));
  let upper =
    !Number.isFinite(newestMs) || newestMs + delayMs >= Date.now()
      ? await endOffsets(kafka, topic)
      : await offsetsAt(kafka, topic, newestMs + delayMs + 1);
  const wanted = recordFilter(request);
  const handle = (messages: ConsumedMessage[]) => {
    stats.records += messages.length;
    for (const m of messages) {
      if (!m.value) continue;
      if (wanted && !wanted(m.value)) continue;
      stats.parsed++;
      const record = lookupRecordOf(m.value);
      if (record) page.offer(record);
    }
  };
  const windows = windowsOf(lowest, upper);
  stats.windowOffsets = segmentOffsets(windows).toString();
  if (indexTopic !== null) {
    const blocks = await readIndex(kafka, indexTopic, topic, request, windows, lowest.length);
    if (blocks.length > 0) {
      const plan = planIndexedRead(windows, blocks, (b) => blockMayAnswer(b, request));
      stats.indexBlocks = blocks.length;
      stats.plannedOffsets = segmentOffsets(plan).toString();
      await readIndexed(kafka, topic, plan, page, handle);
      stats.ms = Math.round(performance.now() - started);
      return;
    }
  }
  let width = FIRST_SLICE_MS;
  const top = Number.isFinite(newestMs) ? newestMs : Date.now();
  for (;;) {
    const sliceMs = top - CLOCK_SKEW_MS - width;
    const last = startMs !== undefined && sliceMs <= startMs - CLOCK_SKEW_MS;
    const at = last ? lowest : await offsetsAt(kafka, topic, sliceMs);
    const lower = at.map((p) => {
      const floor = from.get(p.partition) ?? p.offset;
      return { partition: p.partition, offset: p.offset > floor ? p.offset : floor };
    });
    const end = new Map(upper.map((p) => [p.partition, p.offset]));
    const ranges = lower.map((p) => {
      const to = end.get(p.partition) ?? p.offset;
      return { partition: p.partition, from: p.offset < to ? p.offset : to, to };
    });
    await readRanges(kafka, topic, ranges, { handle });
    stats.reads++;
    const exhausted = lower.every((p) => p.offset <= (from.get(p.partition) ?? p.offset));
    stats.ms = Math.round(performance.now() - started);
    if (last || exhausted || page.floorMs >= sliceMs + CLOCK_SKEW_MS) return;
    upper = ranges.map((p) => ({ partition: p.partition, offset: p.from }));
    width *= 8;
  }
}

function windowsOf(lowest: readonly PartitionOffset[], upper: readonly PartitionOffset[]): OffsetWindow[] {
  const end = new Map(upper.map((p) => [p.partition, p.offset]));
  return lowest.map((p) => {
    const to = end.get(p.partition) ?? p.offset;
    return { partition: p.partition, from: p.offset < to ? p.offset : to, to };
  });
}

/**
 * The index blocks of the lookup's attribute key (EventName's, the smallest, when there is none)
 * that overlap the windows. Index records are stamped with their block's newest record time, so
 * the index is read from the time the topic is read from; a partition's reading stops at a block
 * past its window's end. None when the index topic is missing or unreadable: it is only a hint.
 */
async function readIndex(
  kafka: KafkaClient,
  indexTopic: string,
  topic: string,
  request: LookupRequest,
  windows: readonly OffsetWindow[],
  eventsPartitions: number,
): Promise<IndexBlock[]> {
  const key = request.attribute?.key ?? "EventName";
  const byPartition = new Map(windows.filter((w) => w.to > w.from).map((w) => [w.partition, w]));
  if (byPartition.size === 0) return [];
  let starts: PartitionOffset[];
  let ends: PartitionOffset[];
  try {
    ends = await endOffsets(kafka, indexTopic);
    starts = await offsetsAt(
      kafka,
      indexTopic,
      request.startMs === undefined ? undefined : request.startMs - CLOCK_SKEW_MS,
    );
  } catch {
    return [];
  }
  if (ends.length === 0) return [];
  /** Per index partition, the events partitions whose blocks of `key` it holds. */
  const holds = new Map<number, number[]>();
  for (const p of byPartition.keys()) {
    const q = indexPartitionOf(key, p, eventsPartitions, ends.length);
    holds.set(q, [...(holds.get(q) ?? []), p]);
  }
  const start = new Map(starts.map((p) => [p.partition, p.offset]));
  const ranges = ends
    .filter((e) => holds.has(e.partition))
    .map((e) => ({ partition: e.partition, from: start.get(e.partition) ?? e.offset, to: e.offset }));
  const blocks: IndexBlock[] = [];
  /** Per events partition, the furthest offset a block read reached. */
  const reached = new Map<number, bigint>();
  await readRanges(kafka, indexTopic, ranges, {
    handle(messages) {
      for (const m of messages) {
        const b = decodeIndexBlock(m.value);
        if (!b || b.topic !== topic || b.key !== key) continue;
        const w = byPartition.get(b.partition);
        if (!w) continue;
        if (b.to > (reached.get(b.partition) ?? 0n)) reached.set(b.partition, b.to);
        if (b.to > w.from && b.from < w.to) blocks.push(b);
      }
    },
    enough: (q) => (holds.get(q) ?? []).every((p) => (reached.get(p) ?? 0n) >= (byPartition.get(p) as OffsetWindow).to),
  });
  return blocks;
}

/** The first round reads the index's gaps and this many offsets of blocks; each next one 4 times more. */
const FIRST_ROUND_OFFSETS = 20_000n;

/**
 * Reads the planned segments in rounds, the newest first, until the page is full with events newer
 * than anything a segment left unread can hold.
 */
async function readIndexed(
  kafka: KafkaClient,
  topic: string,
  segments: ReadSegment[],
  page: LookupPage,
  handle: (messages: ConsumedMessage[]) => void,
): Promise<void> {
  let remaining = segments;
  let budget = FIRST_ROUND_OFFSETS;
  while (remaining.length > 0) {
    const { now, later } = nextRound(remaining, budget);
    await readRanges(
      kafka,
      topic,
      now.map((s) => ({ partition: s.partition, from: s.from, to: s.to })),
      { handle },
    );
    stats.reads++;
    if (page.floorMs > newestUnread(later)) return;
    remaining = later;
    budget *= 4n;
  }
}
