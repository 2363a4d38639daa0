// The kinesis source: reads every shard of a stream, sharing the shards with the other ingester
// replicas through leases in Redis, and checkpoints a shard only after Kafka acknowledged its
// records. After a reshard a child shard is read only once its parents are read to their end.
// Design: docs/decisions/0004-ingester-leases.md.
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import { decodeKinesisData, type Origin } from "@trailstream/cloudtrail";
import type { Logger } from "@trailstream/runtime";
import type { IngesterRedis } from "../../leases.ts";
import { LeaseTable, leaseTarget } from "../../leases.ts";
import type { IngesterMetrics } from "../../metrics.ts";
import { toOutcome } from "../../records.ts";
import type { StartPosition } from "../../settings.ts";
import type { DeadLetterInput, RawRecord, Sink } from "../../sink.ts";
import { backoffMs, errorName, sleep } from "../../util.ts";
import type { Source } from "../source.ts";
import { AT_TIMESTAMP, Checkpoints, SHARD_END } from "./checkpoints.ts";
import {
  ensureConsumer,
  type FanOutRecord,
  type ShardEvent,
  type StartingPosition,
  type SubscribeTarget,
  subscribeToShard,
} from "./fanout.ts";

export interface KinesisSourceOptions {
  client: KinesisClient;
  stream: string;
  redis: IngesterRedis;
  redisPrefix: string;
  workerId: string;
  leaseDurationMs: number;
  leaseRenewMs: number;
  shardSyncMs: number;
  idleMs: number;
  maxRecords: number;
  startPosition: StartPosition;
  startTimestamp?: Date | undefined;
  sink: Sink;
  metrics?: IngesterMetrics;
  log: Logger;
  /** polling (GetRecords) or fan-out (a registered stream consumer and SubscribeToShard). */
  consumerMode?: "polling" | "fan-out";
  /** The stream consumer's name for fan-out; replicas share it. */
  consumerName?: string;
  /** Where SubscribeToShard goes (an HTTP/2 endpoint); required for fan-out. */
  fanOut?: SubscribeTarget;
  /** How long one subscription lasts before it is renewed (Kinesis ends it after five minutes). */
  subscriptionMs?: number;
}

/** Registering a consumer was refused: not allowed, or the stream has its 20 consumers. */
const FAN_OUT_REFUSED = new Set(["AccessDeniedException", "LimitExceededException", "UnknownOperationException"]);

const THROTTLED = new Set([
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "KMSThrottlingException",
  "ThrottlingException",
]);
/** Kinesis allows five GetRecords calls per second per shard. */
const MIN_CALL_INTERVAL_MS = 200;
/** A shard that returned records this recently is not idle: empty polls do not sleep idleMs. */
export const ACTIVE_SHARD_MS = 10_000;
/** Refusals of SubscribeToShard as "in use" in a row before the shard is polled instead for a while. */
const IN_USE_BEFORE_POLLING = 3;
const POLL_WHILE_IN_USE_MS = 20_000;

interface ShardWorker {
  shardId: string;
  abort: AbortController;
  /** Why it was stopped: a lost lease is not released (someone else holds it). */
  reason: "running" | "rebalance" | "lost" | "shutdown";
  done: Promise<void>;
  lastRenewed: number;
}

export class KinesisSource implements Source {
  readonly #o: KinesisSourceOptions;
  readonly #leases: LeaseTable;
  readonly #checkpoints: Checkpoints;
  readonly #workers = new Map<string, ShardWorker>();
  readonly #stop = new AbortController();
  #shards: Shard[] = [];
  #shardsAt = 0;
  #needSync = true;
  #loop: Promise<void> | undefined;
  #healthy = false;
  #lastTickOk = 0;
  /** The registered consumer's ARN once fan-out is set up; undefined while polling. */
  #consumerArn: string | undefined;

  constructor(options: KinesisSourceOptions) {
    this.#o = options;
    this.#leases = new LeaseTable({
      redis: options.redis,
      prefix: options.redisPrefix,
      stream: options.stream,
      workerId: options.workerId,
      durationMs: options.leaseDurationMs,
    });
    this.#checkpoints = new Checkpoints({ redis: options.redis, prefix: options.redisPrefix, stream: options.stream });
  }

  get name(): string {
    return `kinesis:${this.#o.stream}`;
  }

  /** Shards this replica reads now. */
  held(): string[] {
    return [...this.#workers.keys()].sort();
  }

  /** Problems for /readyz: empty when the lease loop ran recently. */
  ready(): string[] {
    const stale = Date.now() - this.#lastTickOk > Math.max(this.#o.leaseDurationMs, 3 * this.#o.leaseRenewMs);
    return this.#healthy && !stale ? [] : [`${this.name}: lease loop not running`];
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops reading, lets every shard finish its batch and checkpoint, hands the leases back. A batch
   * is small and bounded, so it is always finished: `drainMs` is not needed to cut one short.
   */
  async stop(_drainMs?: number): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    const workers = [...this.#workers.values()];
    for (const w of workers) this.#halt(w, "shutdown");
    await Promise.all(workers.map((w) => w.done));
    try {
      await this.#leases.leave();
    } catch (error) {
      this.#o.log.warn(
        { err: error, stream: this.#o.stream },
        "could not leave the replica set; the others will notice when it expires",
      );
    }
  }

  /** The mode the shards are read in now (fan-out falls back to polling when refused). */
  get mode(): "polling" | "fan-out" {
    return this.#consumerArn ? "fan-out" : "polling";
  }

  /** Registers (or finds) the stream consumer; falls back to polling when fan-out is refused. */
  async #setUpFanOut(): Promise<void> {
    const o = this.#o;
    if (o.consumerMode !== "fan-out") return;
    const name = o.consumerName ?? "trailstream-ingester";
    if (!o.fanOut) throw new Error("KINESIS_CONSUMER_MODE=fan-out needs an HTTP/2 endpoint for SubscribeToShard");
    for (let attempt = 0; !this.#stop.signal.aborted; attempt++) {
      try {
        const { consumerArn } = await ensureConsumer(o.client, o.stream, name, this.#stop.signal);
        this.#consumerArn = consumerArn;
        o.log.info({ stream: o.stream, consumer: name, consumerArn }, "reading the stream with enhanced fan-out");
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        if (FAN_OUT_REFUSED.has(errorName(error))) {
          o.metrics?.kinesisErrors.inc({ kind: "fan-out-unavailable" });
          o.log.warn(
            { err: error, stream: o.stream, consumer: name },
            "enhanced fan-out is not allowed for this stream; polling it instead",
          );
          return;
        }
        o.log.warn({ err: error, stream: o.stream }, "could not register the stream consumer; retrying");
        await sleep(backoffMs(attempt, 500, 10_000), this.#stop.signal);
      }
    }
  }

  async #run(): Promise<void> {
    await this.#setUpFanOut();
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        await this.#tick();
        this.#healthy = true;
        this.#lastTickOk = Date.now();
        failures = 0;
      } catch (error) {
        failures++;
        this.#healthy = false;
        this.#o.log.warn({ err: error, stream: this.#o.stream }, "lease round failed; retrying");
        this.#selfFence();
      }
      await sleep(
        failures > 0 ? backoffMs(failures, this.#o.leaseRenewMs, 10_000) : this.#o.leaseRenewMs,
        this.#stop.signal,
      );
    }
  }

  /** Without a successful renewal for a lease duration, a lease must be taken as lost. */
  #selfFence(): void {
    const now = Date.now();
    for (const w of this.#workers.values()) {
      if (now - w.lastRenewed > this.#o.leaseDurationMs) this.#halt(w, "lost");
    }
  }

  async #tick(): Promise<void> {
    const live = await this.#leases.heartbeat();
    const running = [...this.#workers.values()].filter((w) => w.reason === "running");
    const lost = new Set(await this.#leases.renew(running.map((w) => w.shardId)));
    const now = Date.now();
    for (const w of running) {
      if (lost.has(w.shardId)) {
        this.#o.log.warn({ stream: this.#o.stream, shardId: w.shardId }, "lease lost; stopping the shard");
        this.#halt(w, "lost");
      } else {
        w.lastRenewed = now;
      }
    }
    if (this.#stop.signal.aborted) return;
    if (this.#needSync || now - this.#shardsAt > this.#o.shardSyncMs) await this.#listShards();

    const checkpoints = await this.#checkpoints.all();
    const listed = new Set(this.#shards.map((s) => s.ShardId ?? ""));
    const finished = (id: string) => checkpoints.get(id) === SHARD_END;
    // A parent still listed must be read to its end first; a parent no longer listed was trimmed.
    const parentsDone = (s: Shard) =>
      [s.ParentShardId, s.AdjacentParentShardId].every((p) => p === undefined || !listed.has(p) || finished(p));
    const eligible = this.#shards
      .filter((s) => s.ShardId && !finished(s.ShardId) && parentsDone(s))
      .map((s) => s.ShardId ?? "")
      .sort();

    const target = leaseTarget(eligible.length, live.length, live.indexOf(this.#leases.workerId));
    const mine = [...this.#workers.values()].filter((w) => w.reason === "running");
    if (mine.length > target) {
      // Hand back the extra shards; each finishes its batch, checkpoints and releases its lease.
      for (const w of mine.slice(target)) {
        this.#o.log.info(
          { stream: this.#o.stream, shardId: w.shardId, target, live: live.length },
          "handing a shard back to rebalance",
        );
        this.#halt(w, "rebalance");
      }
    } else if (mine.length < target) {
      const candidates = eligible.filter((id) => !this.#workers.has(id));
      const owners = await this.#leases.owners(candidates);
      let want = target - mine.length;
      for (const [i, shardId] of candidates.entries()) {
        if (want === 0 || this.#stop.signal.aborted) break;
        if (owners[i] !== null) continue;
        if (await this.#leases.acquire(shardId)) {
          want--;
          this.#startShard(shardId, listed);
        }
      }
    }
    this.#o.metrics?.leasesHeld.set({ stream: this.#o.stream }, this.#workers.size);
  }

  async #listShards(): Promise<void> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.#o.client.send(
        new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.#o.stream }),
        { abortSignal: this.#stop.signal },
      );
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    this.#shards = shards;
    this.#shardsAt = Date.now();
    this.#needSync = false;
  }

  #halt(w: ShardWorker, reason: ShardWorker["reason"]): void {
    if (w.reason === "running") w.reason = reason;
    w.abort.abort();
  }

  #startShard(shardId: string, listed: Set<string>): void {
    const shard = this.#shards.find((s) => s.ShardId === shardId);
    const hasParent = [shard?.ParentShardId, shard?.AdjacentParentShardId].some(
      (p) => p !== undefined && listed.has(p),
    );
    const worker: ShardWorker = {
      shardId,
      abort: new AbortController(),
      reason: "running",
      done: Promise.resolve(),
      lastRenewed: Date.now(),
    };
    this.#workers.set(shardId, worker);
    this.#o.log.info({ stream: this.#o.stream, shardId }, "lease taken; reading the shard");
    worker.done = this.#readShard(worker, hasParent)
      .catch((error: unknown) => {
        this.#o.log.error(
          { err: error, stream: this.#o.stream, shardId },
          "shard reader failed; handing the lease back",
        );
      })
      .finally(async () => {
        this.#workers.delete(shardId);
        this.#o.metrics?.leasesHeld.set({ stream: this.#o.stream }, this.#workers.size);
        if (worker.reason !== "lost") {
          try {
            await this.#leases.release(shardId);
          } catch (error) {
            this.#o.log.warn({ err: error, shardId }, "could not release a lease; it will expire");
          }
        }
      });
  }

  async #iterator(shardId: string, after: string | null, signal: AbortSignal): Promise<string | undefined> {
    const o = this.#o;
    let type: ShardIteratorType;
    let extra: { StartingSequenceNumber?: string; Timestamp?: Date } = {};
    if (after === null) {
      type = "TRIM_HORIZON";
    } else if (after.startsWith(AT_TIMESTAMP)) {
      type = "AT_TIMESTAMP";
      extra = { Timestamp: new Date(Number(after.slice(AT_TIMESTAMP.length))) };
    } else {
      type = "AFTER_SEQUENCE_NUMBER";
      extra = { StartingSequenceNumber: after };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await o.client.send(
          new GetShardIteratorCommand({ StreamName: o.stream, ShardId: shardId, ShardIteratorType: type, ...extra }),
          { abortSignal: signal },
        );
        return out.ShardIterator;
      } catch (error) {
        if (signal.aborted) throw error;
        const name = errorName(error);
        if (name === "InvalidArgumentException" && type === "AFTER_SEQUENCE_NUMBER") {
          // The checkpoint is older than the stream's retention: read what is left.
          o.log.warn(
            { err: error, shardId, after },
            "checkpoint no longer in the stream; reading from the trim horizon",
          );
          type = "TRIM_HORIZON";
          extra = {};
          continue;
        }
        o.metrics?.kinesisErrors.inc({ kind: THROTTLED.has(name) ? "throttled" : "iterator" });
        if (name === "ResourceNotFoundException") throw error;
        await sleep(backoffMs(attempt, 200, 10_000), signal);
        if (signal.aborted) throw error;
      }
    }
  }

  async #readShard(worker: ShardWorker, hasParent: boolean): Promise<void> {
    const o = this.#o;
    const { shardId } = worker;
    let checkpoint = await this.#checkpoints.get(shardId);
    if (checkpoint === SHARD_END) return;
    if (checkpoint === null && !hasParent && o.startPosition !== "trim_horizon") {
      // LATEST and AT_TIMESTAMP become a stored starting time, so a replica that takes the shard
      // over before the first checkpoint starts from the same point and nothing in between is lost.
      // A child of a reshard always starts at its beginning, where its parents ended.
      const at = o.startPosition === "latest" ? Date.now() : (o.startTimestamp ?? new Date()).getTime();
      const mark = `${AT_TIMESTAMP}${at}`;
      if (!(await this.#checkpoints.set(shardId, mark, o.workerId))) {
        worker.reason = "lost";
        return;
      }
      checkpoint = mark;
    }
    if (this.#consumerArn && o.fanOut) return this.#subscribeShard(worker, checkpoint, this.#consumerArn, o.fanOut);
    await this.#pollShard(worker, checkpoint);
  }

  /**
   * Reads a shard with GetRecords from after `checkpoint`, until the shard ends, the worker stops or
   * `until` (epoch ms) passes. Answers the last checkpoint it wrote and whether the shard ended.
   */
  async #pollShard(
    worker: ShardWorker,
    checkpoint: string | null,
    until = Number.POSITIVE_INFINITY,
  ): Promise<{ last: string | null; ended: boolean }> {
    const o = this.#o;
    const { shardId } = worker;
    const signal = worker.abort.signal;
    let last: string | null = checkpoint;
    let failures = 0;
    let lastCall = 0;
    let lastRecordsAt = 0;
    // One GetRecords ahead: the next page is fetched while this one waits for Kafka, so the
    // shard's read latency and Kafka's acknowledgement overlap. Pages are still delivered and
    // checkpointed strictly in order; a prefetched page dropped on stop is simply read again.
    const fetch = async (iterator: string): Promise<{ page: GetRecordsCommandOutput } | { error: unknown }> => {
      await sleep(MIN_CALL_INTERVAL_MS - (Date.now() - lastCall), signal);
      lastCall = Date.now();
      try {
        const page = await o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: o.maxRecords }), {
          abortSignal: signal,
        });
        return { page };
      } catch (error) {
        return { error };
      }
    };
    const first = await this.#iterator(shardId, last, signal);
    let next = first ? fetch(first) : undefined;
    while (next && !signal.aborted && Date.now() < until) {
      const got = await next;
      next = undefined;
      if (signal.aborted) break;
      if ("error" in got) {
        const name = errorName(got.error);
        failures++;
        if (name === "ExpiredIteratorException") {
          o.metrics?.kinesisErrors.inc({ kind: "expired-iterator" });
          o.log.info({ shardId, after: last }, "shard iterator expired; getting a new one");
        } else {
          o.metrics?.kinesisErrors.inc({ kind: THROTTLED.has(name) ? "throttled" : "get-records" });
          if (name === "ResourceNotFoundException") throw got.error;
          if (!THROTTLED.has(name)) o.log.warn({ err: got.error, shardId }, "GetRecords failed; backing off");
          await sleep(backoffMs(failures, 500, 30_000), signal);
        }
        // Resume after the last page Kafka acknowledged.
        const again = await this.#iterator(shardId, last, signal);
        next = again ? fetch(again) : undefined;
        continue;
      }
      failures = 0;
      const { page } = got;
      const records = page.Records ?? [];
      const following = page.NextShardIterator;
      const busy = records.length > 0 || (page.MillisBehindLatest ?? 0) > 0;
      if (following && busy) next = fetch(following);
      if (records.length > 0) {
        lastRecordsAt = Date.now();
        const lastSeq = await this.#deliver(shardId, records);
        // Kafka has everything up to lastSeq: only now may the checkpoint move.
        if (!(await this.#checkpoints.set(shardId, lastSeq, o.workerId))) {
          o.log.warn({ shardId }, "lease lost before the checkpoint; stopping the shard");
          worker.reason = "lost";
          return { last, ended: false };
        }
        last = lastSeq;
      }
      if (!following) {
        // The shard was closed by a reshard and is read to its end: its children may start.
        if (await this.#checkpoints.set(shardId, SHARD_END, o.workerId)) {
          o.log.info({ stream: o.stream, shardId }, "shard read to its end");
        }
        this.#needSync = true;
        return { last, ended: true };
      }
      if (!busy) {
        // A shard that had records lately is polled again at Kinesis's pace (fetch keeps calls
        // MIN_CALL_INTERVAL_MS apart), so a record put between two polls waits at most that long,
        // not idleMs; only a shard quiet for ACTIVE_SHARD_MS sleeps idleMs between empty polls.
        if (Date.now() - lastRecordsAt > ACTIVE_SHARD_MS) await sleep(o.idleMs, signal);
        next = fetch(following);
      }
    }
    // A fetch still in flight is dropped with the worker's abort signal; past `until` its page is
    // simply not delivered (the next reader starts after `last`).
    await next;
    return { last, ended: false };
  }

  /**
   * Fan-out: one subscription after another, each starting after the last sequence number Kafka
   * acknowledged (so a dropped subscription repeats nothing that was checkpointed), renewed every
   * subscriptionMs and after errors. Records are delivered and checkpointed per event, in order,
   * exactly as polled pages are.
   */
  async #subscribeShard(
    worker: ShardWorker,
    checkpoint: string | null,
    consumerArn: string,
    target: SubscribeTarget,
  ): Promise<void> {
    const o = this.#o;
    const { shardId } = worker;
    const signal = worker.abort.signal;
    let last = checkpoint;
    let failures = 0;
    let refusedInUse = 0;
    let ended = false;
    const position = (): StartingPosition => {
      if (last === null) return { Type: "TRIM_HORIZON" };
      if (last.startsWith(AT_TIMESTAMP))
        return { Type: "AT_TIMESTAMP", Timestamp: Number(last.slice(AT_TIMESTAMP.length)) / 1_000 };
      return { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: last };
    };
    const onEvent = async (event: ShardEvent): Promise<void> => {
      if (event.records.length > 0) {
        const lastSeq = await this.#deliver(shardId, event.records);
        if (!(await this.#checkpoints.set(shardId, lastSeq, o.workerId))) {
          o.log.warn({ shardId }, "lease lost before the checkpoint; stopping the shard");
          worker.reason = "lost";
          worker.abort.abort();
          return;
        }
        last = lastSeq;
      }
      failures = 0;
      refusedInUse = 0;
      const closedAndDone =
        (event.continuationSequenceNumber === null && event.childShards.length > 0) ||
        (event.records.length === 0 && this.#closed(shardId) && (await this.#nothingAfter(shardId, last, signal)));
      if (closedAndDone) {
        ended = true;
        worker.abort.abort();
      }
    };
    while (!signal.aborted) {
      // Each subscription lasts at most subscriptionMs; then a new one starts from the checkpoint.
      const round = new AbortController();
      const timer = setTimeout(() => round.abort(), o.subscriptionMs ?? 300_000);
      const stopRound = () => round.abort();
      signal.addEventListener("abort", stopRound, { once: true });
      try {
        await subscribeToShard(target, { consumerArn, shardId, start: position() }, onEvent, round.signal);
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        const name = errorName(error);
        o.metrics?.kinesisErrors.inc({ kind: THROTTLED.has(name) ? "throttled" : "subscribe" });
        if (name === "ResourceNotFoundException") throw error;
        // ResourceInUseException: the previous subscription to this shard (another replica's, or
        // ours before a crash) is still open. AWS lets it go within seconds; an emulator may hold a
        // dead replica's for much longer. The shard is not left waiting: it is polled meanwhile.
        if (name === "ResourceInUseException" && ++refusedInUse >= IN_USE_BEFORE_POLLING) {
          o.log.warn(
            { shardId, after: last, pollMs: POLL_WHILE_IN_USE_MS },
            "the shard's subscription is still held elsewhere: polling it meanwhile",
          );
          const polled = await this.#pollShard(worker, last, Date.now() + POLL_WHILE_IN_USE_MS);
          last = polled.last;
          if (polled.ended || worker.reason === "lost") return;
          refusedInUse = 0;
          failures = 0;
          continue;
        }
        o.log.warn({ err: error, shardId, after: last }, "SubscribeToShard failed; subscribing again");
        await sleep(backoffMs(failures, 500, 10_000), signal);
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", stopRound);
      }
    }
    if (ended && worker.reason !== "lost") {
      if (await this.#checkpoints.set(shardId, SHARD_END, o.workerId)) {
        o.log.info({ stream: o.stream, shardId }, "shard read to its end");
      }
      this.#needSync = true;
    }
  }

  /** Whether the last ListShards showed the shard closed by a reshard (it has an ending sequence number). */
  #closed(shardId: string): boolean {
    return this.#shards.some((s) => s.ShardId === shardId && s.SequenceNumberRange?.EndingSequenceNumber !== undefined);
  }

  /**
   * A closed shard read to its end has nothing after `last` and no next iterator. AWS says so in the
   * subscription (ChildShards, no continuation); emulators may not, so one GetRecords makes sure.
   */
  async #nothingAfter(shardId: string, last: string | null, signal: AbortSignal): Promise<boolean> {
    try {
      const iterator = await this.#iterator(shardId, last, signal);
      if (!iterator) return true;
      const page = await this.#o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }), {
        abortSignal: signal,
      });
      return (page.Records ?? []).length === 0 && !page.NextShardIterator;
    } catch {
      return false; // asked again on the next empty event
    }
  }

  /** Decodes a page of Kinesis records, writes them, and resolves once Kafka acknowledged all. */
  async #deliver(
    shardId: string,
    records: NonNullable<GetRecordsCommandOutput["Records"]> | FanOutRecord[],
  ): Promise<string> {
    const o = this.#o;
    const raw: RawRecord[] = [];
    const dead: { letter: DeadLetterInput; key: string | null }[] = [];
    const receivedAt = new Date().toISOString();
    let lastSeq = "";
    for (const [n, r] of records.entries()) {
      // A page holds up to 10,000 records: let lease renewals and other shards run in between.
      if (n > 0 && n % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      const sequenceNumber = r.SequenceNumber ?? "";
      lastSeq = sequenceNumber || lastSeq;
      const data = r.Data ?? new Uint8Array();
      const where = `kinesis ${o.stream}/${shardId}/${sequenceNumber}`;
      const base = { stream: o.stream, shardId, sequenceNumber, receivedAt };
      const decoded = decodeKinesisData(data);
      if (!decoded.ok) {
        o.metrics?.kinesisRecords.inc({ stream: o.stream, kind: "undecodable" });
        dead.push({
          letter: {
            reason: decoded.error.code,
            message: `${where}: ${decoded.error.message}`,
            origin: { kind: "kinesis-raw", ...base },
            payload: Buffer.from(data).toString("base64"),
            payloadEncoding: "base64",
          },
          key: where,
        });
        continue;
      }
      const payload = decoded.value;
      o.metrics?.kinesisRecords.inc({ stream: o.stream, kind: payload.kind });
      if (payload.kind === "control") continue;
      const origin: Origin =
        payload.kind === "kinesis-logs"
          ? {
              kind: payload.kind,
              ...base,
              logGroup: payload.logGroup,
              ...(payload.owner ? { account: payload.owner } : {}),
            }
          : { kind: payload.kind, ...base };
      for (const item of payload.items) {
        const outcome = toOutcome(item, origin, where);
        if (outcome.ok) raw.push(outcome.record);
        else {
          outcome.letter.payload ??= Buffer.from(data).toString("base64");
          outcome.letter.payloadEncoding ??= "base64";
          dead.push(outcome);
        }
      }
    }
    await Promise.all([o.sink.write(raw), ...dead.map((d) => o.sink.deadLetter(d.letter, d.key))]);
    return lastSeq;
  }
}
