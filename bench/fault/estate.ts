// The input of the fault campaign: the sample estate's three overlapping trails (copies as CloudTrail
// delivers them: the organization trail and the member's own trails record the same events), sized
// to about N unique events, written as gzipped log files, and the truth to count against: every
// event identity, and the alert groups the alerter's rules must raise, each exactly once.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTemplates, writeBucketTree } from "@trailstream/bucket-tree";
import { eventIdentity, isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { groupKey, loadRuleCatalog, RuleSet } from "@trailstream/rules";
import { trailsFor } from "../../scripts/pipeline/estate.ts";
import { type TreeFile, treeFiles, treeRecords } from "../../scripts/pipeline/feed.ts";

/** Accounts x regions of the default estate: each window holds this many x eventsPerWindow unique events. */
const LOCATIONS = 9;
const WINDOW_MS = 5 * 60_000;

export interface CampaignEstate {
  root: string;
  files: TreeFile[];
  records: number;
  /** Every event identity (`account:eventID`) that must come out once. */
  identities: Set<string>;
  /** Alerts-topic keys (`rule` or `rule|group`) the rules must raise, with how many events match each. */
  alertKeys: Map<string, number>;
  /** Rules with a threshold matched some event: their alert count is not predicted here. */
  thresholdRules: string[];
  uncompressedBytes: number;
  compressedBytes: number;
}

/**
 * Writes the estate for `run` (bucket names carry it) with event times ending now. The alert
 * groups are computed with the alerter's own rule catalog and group keys, for rules whose
 * suppression holds longer than the run (the caller sets ALERT_SUPPRESS_DEFAULT so).
 */
export async function campaignEstate(options: {
  run: string;
  events: number;
  eventsPerWindow?: number;
  seed?: number;
}): Promise<CampaignEstate> {
  const perWindow = options.eventsPerWindow ?? Math.min(2_000, Math.max(10, Math.round(options.events / LOCATIONS)));
  const windows = Math.max(1, Math.round(options.events / (perWindow * LOCATIONS)));
  const root = await mkdtemp(join(tmpdir(), `trailstream-fault-${options.run}-`));
  const truth = await writeBucketTree({
    outDir: root,
    templates: await loadTemplates(),
    isGlobalService: isGlobalServiceEvent,
    trails: trailsFor(options.run),
    windows,
    eventsPerWindow: perWindow,
    repeatEvery: 50,
    seed: options.seed ?? 1,
    start: new Date(Date.now() - windows * WINDOW_MS),
  });
  const files = await treeFiles(root);
  const catalog = await loadRuleCatalog({ builtin: true, customFiles: [], policy: undefined });
  const rules = new RuleSet(catalog.rules);
  const identities = new Set<string>();
  const alertKeys = new Map<string, number>();
  const thresholdRules = new Set<string>();
  let records = 0;
  // File by file: the whole estate's records at once would not fit a small machine.
  for (const file of files) {
    for (const record of await treeRecords([file])) {
      records++;
      const identity = eventIdentity(record);
      if (identity === undefined || identity === null) throw new Error(`${file.key}: a record without an identity`);
      if (identities.has(identity)) continue;
      identities.add(identity);
      for (const rule of rules.match(record)) {
        if (rule.silent) continue;
        if (rule.threshold) {
          thresholdRules.add(rule.id);
          continue;
        }
        const group = groupKey(record, rule.suppress?.groupBy ?? []);
        const key = group === "" ? rule.id : `${rule.id}|${group}`;
        alertKeys.set(key, (alertKeys.get(key) ?? 0) + 1);
      }
    }
  }
  if (identities.size !== truth.uniqueIdentities || records !== truth.records) {
    throw new Error(
      `the tree holds ${identities.size} identities in ${records} records; the generator wrote ${truth.uniqueIdentities} in ${truth.records}`,
    );
  }
  return {
    root,
    files,
    records,
    identities,
    alertKeys,
    thresholdRules: [...thresholdRules],
    uncompressedBytes: truth.uncompressedBytes,
    compressedBytes: truth.compressedBytes,
  };
}
