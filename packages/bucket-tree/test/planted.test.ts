import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { type CloudTrailRecord, isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { loadTemplates, writeBucketTree } from "../src/index.ts";

test("planted events keep their identity and land once in every trail that records their place", async () => {
  const dir = await mkdtemp(join(tmpdir(), "trailstream-planted-"));
  try {
    const templates = await loadTemplates();
    const base = templates[0] as CloudTrailRecord;
    const planted: CloudTrailRecord[] = [
      { ...base, eventID: "planted-global", recipientAccountId: "222222222222", awsRegion: "us-east-1" },
      { ...base, eventID: "planted-regional", recipientAccountId: "333333333333", awsRegion: "eu-west-1" },
    ];
    const truth = await writeBucketTree({
      outDir: dir,
      templates,
      isGlobalService: isGlobalServiceEvent,
      windows: 2,
      eventsPerWindow: 3,
      planted,
    });
    const counts = new Map<string, string[]>();
    for (const file of (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".json.gz"))) {
      const { Records } = JSON.parse(gunzipSync(await readFile(join(dir, file))).toString()) as {
        Records: CloudTrailRecord[];
      };
      for (const r of Records)
        if (String(r.eventID).startsWith("planted"))
          counts.set(String(r.eventID), [...(counts.get(String(r.eventID)) ?? []), file.split("/")[0] ?? ""]);
    }
    // 222222222222 is the member account: the organization trail and both member trails record us-east-1.
    assert.equal(counts.get("planted-global")?.length, 3);
    // 333333333333 is only in the organization trail.
    assert.equal(counts.get("planted-regional")?.length, 1);
    assert.equal(truth.uniqueIdentities, 2 * 3 * 3 * 3 + 2);
    await assert.rejects(
      writeBucketTree({
        outDir: dir,
        templates,
        isGlobalService: isGlobalServiceEvent,
        planted: [{ ...base, recipientAccountId: "999999999999", awsRegion: "us-east-1" }],
      }),
      /outside the estate/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
