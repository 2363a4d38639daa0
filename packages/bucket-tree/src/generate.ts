import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { type DeliveredFile, type DigestOptions, type IntegrityTruth, writeDigestChains } from "./digests.ts";
import { type Random, seededRandom } from "./random.ts";
import {
  defaultEstate,
  type Estate,
  GLOBAL_REGION,
  overlappingTrails,
  type TrailSpec,
  trailDirectory,
} from "./trails.ts";

export interface TreeOptions {
  outDir: string;
  /** Records to copy: each event is a template with a fresh eventID, time, account and region. */
  templates: readonly CloudTrailRecord[];
  /** Tells global-service templates (recorded in us-east-1 only) from regional ones. */
  isGlobalService: (record: CloudTrailRecord) => boolean;
  estate?: Estate;
  trails?: readonly TrailSpec[];
  seed?: number;
  /** Start of the first five-minute delivery window. */
  start?: Date;
  windows?: number;
  /** Events per account, region and window. */
  eventsPerWindow?: number;
  /** Every n-th event of a window is written twice in the same file, as AWS says can happen; 0 for never. */
  repeatEvery?: number;
  /**
   * Records written as they are (their own eventID, time, account and region) into the first
   * window of their account and region, so that every trail recording that place delivers them:
   * events that tests expect rules to match, or to miss.
   */
  planted?: readonly CloudTrailRecord[];
  /** Also write each trail's signed digest chains (see digests.ts). */
  digests?: DigestOptions;
}

export interface LocationTruth {
  files: number;
  records: number;
  /** Records here whose event was already read: in an earlier location (by path) or earlier in this one. */
  copies: number;
}

/** What the generator wrote, counted as it wrote it: the oracle that `scan` is tested against. */
export interface TreeTruth {
  files: number;
  records: number;
  uniqueIdentities: number;
  copiesCollapsed: number;
  /** Files whose bytes equal a file written before them (another trail's copy). */
  identicalFiles: number;
  uncompressedBytes: number;
  compressedBytes: number;
  /** Keyed by the trail location: the folder up to the region, relative to the tree's root. */
  locations: Record<string, LocationTruth>;
  /** What the digests written say, when they were written. */
  integrity?: IntegrityTruth;
}

const WINDOW_MS = 5 * 60_000;
const FILE_NAME_CHARS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"];

export async function writeBucketTree(options: TreeOptions): Promise<TreeTruth> {
  const estate = options.estate ?? defaultEstate();
  const trails = options.trails ?? overlappingTrails(estate);
  const random = seededRandom(options.seed ?? 1);
  const start = options.start ?? new Date(Date.UTC(2026, 10, 25, 0, 0, 0));
  const windows = options.windows ?? 3;
  const eventsPerWindow = options.eventsPerWindow ?? 20;
  const repeatEvery = options.repeatEvery ?? 0;
  const globalTemplates = options.templates.filter((t) => options.isGlobalService(t));
  const regionalTemplates = options.templates.filter((t) => !options.isGlobalService(t));
  if (regionalTemplates.length === 0) throw new RangeError("the templates hold no regional event");

  const truth: TreeTruth = {
    files: 0,
    records: 0,
    uniqueIdentities: 0,
    copiesCollapsed: 0,
    identicalFiles: 0,
    uncompressedBytes: 0,
    compressedBytes: 0,
    locations: {},
  };
  const seenContent = new Set<string>();
  for (const p of options.planted ?? []) {
    const known = [estate.managementAccount, ...estate.memberAccounts].includes(p.recipientAccountId ?? "");
    if (!known || !estate.regions.includes(p.awsRegion ?? "")) {
      throw new RangeError(
        `planted event ${p.eventID} is for ${p.recipientAccountId}/${p.awsRegion}, outside the estate`,
      );
    }
  }
  const accounts = [estate.managementAccount, ...estate.memberAccounts];
  const delivered: DeliveredFile[] = [];

  for (let w = 0; w < windows; w++) {
    const windowStart = start.getTime() + w * WINDOW_MS;
    for (const account of accounts) {
      for (const region of estate.regions) {
        const recording = trails.filter((t) => t.accounts.includes(account) && t.regions.includes(region));
        if (recording.length === 0) continue;
        const templates = region === GLOBAL_REGION ? [...globalTemplates, ...regionalTemplates] : regionalTemplates;
        const events = Array.from({ length: eventsPerWindow }, () =>
          makeEvent(random.pick(templates), random, account, region, windowStart + random.int(WINDOW_MS)),
        );
        if (w === 0) {
          events.push(
            ...(options.planted ?? []).filter((p) => p.recipientAccountId === account && p.awsRegion === region),
          );
        }
        events.sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
        const repeats = repeatEvery > 0 ? events.filter((_, i) => i % repeatEvery === repeatEvery - 1) : [];
        truth.uniqueIdentities += events.length;

        // Files are read in path order, so the first copy of each event is in the trail whose folder sorts first.
        const directories = recording.map((t) => trailDirectory(t, account, region));
        const firstDirectory = [...directories].sort()[0];
        for (const [i, trail] of recording.entries()) {
          const directory = directories[i] ?? "";
          const location = truth.locations[directory] ?? { files: 0, records: 0, copies: 0 };
          truth.locations[directory] = location;
          const fileRecords = [...events, ...repeats];
          location.records += fileRecords.length;
          location.copies += (directory === firstDirectory ? 0 : events.length) + repeats.length;
          // us-east-1 files hold the global-service events and are written alike by every trail,
          // as two trails of one account have been seen to do; elsewhere a multi-region member
          // trail cuts its window into two files, so its files differ from the organization's.
          const parts = region !== GLOBAL_REGION && !trail.organizationId ? 2 : 1;
          for (const chunk of split(fileRecords, parts)) {
            const body = Buffer.from(JSON.stringify({ Records: chunk }));
            const gzipped = gzipSync(body);
            const content = gzipped.toString("base64");
            if (seenContent.has(content)) truth.identicalFiles++;
            else seenContent.add(content);
            const key = join(
              directory,
              dateFolder(windowStart + WINDOW_MS),
              logFileName(account, region, windowStart + WINDOW_MS, random),
            );
            await mkdir(join(options.outDir, dirname(key)), { recursive: true });
            await writeFile(join(options.outDir, key), gzipped);
            if (options.digests) {
              delivered.push({
                trail,
                account,
                region,
                key,
                body,
                deliveryMs: windowStart + WINDOW_MS,
                records: chunk,
              });
            }
            location.files++;
            truth.files++;
            truth.uncompressedBytes += body.length;
            truth.compressedBytes += gzipped.length;
          }
          truth.records += fileRecords.length;
          truth.copiesCollapsed += (directory === firstDirectory ? 0 : events.length) + repeats.length;
        }
      }
    }
  }
  if (options.digests) {
    truth.integrity = await writeDigestChains(options.outDir, delivered, {
      ...options.digests,
      firstDelivery: start.getTime() + WINDOW_MS,
      lastDelivery: start.getTime() + windows * WINDOW_MS,
    });
  }
  return truth;
}

function split<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function makeEvent(template: CloudTrailRecord, random: Random, account: string, region: string, timeMs: number) {
  const event = structuredClone(template) as CloudTrailRecord;
  event.eventID = random.uuid();
  event.requestID = random.uuid();
  event.eventTime = new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  event.awsRegion = region;
  event.recipientAccountId = account;
  if (event.userIdentity && typeof event.userIdentity === "object" && event.userIdentity.accountId) {
    event.userIdentity = { ...event.userIdentity, accountId: account };
  }
  return event;
}

/** `YYYY/MM/DD`, the delivery date's folder under the region. */
function dateFolder(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10).replace(/-/g, "/");
}

/** `ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz`, as CloudTrail names its log files. */
function logFileName(account: string, region: string, timeMs: number, random: Random): string {
  const stamp = new Date(timeMs).toISOString().replace(/[-:]/g, "").slice(0, 13);
  const unique = Array.from({ length: 16 }, () => random.pick(FILE_NAME_CHARS)).join("");
  return `${account}_CloudTrail_${region}_${stamp}Z_${unique}.json.gz`;
}
