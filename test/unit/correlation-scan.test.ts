// scan with the shipped CloudTrail correlation rules: each correlation type raises its alert for the
// group built to raise it and not for the near miss, whatever order the log files are read in.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadRuleFile, RuleSet } from "@trailstream/rules";
import { listInputs } from "../../services/cli/src/scan/inputs.ts";
import { AWS_PRICES } from "../../services/cli/src/scan/report.ts";
import { scan } from "../../services/cli/src/scan/run.ts";
import { CORRELATION_FILE, correlationEstate, shuffle } from "../support/correlation-estate.ts";

test("scan raises each correlation for its group and not for the near miss, in any file order", async () => {
  const { rules, correlations } = await loadRuleFile(CORRELATION_FILE);
  const estate = correlationEstate(Date.parse("2026-03-01T10:00:00Z"));
  const verdicts: string[][] = [];
  for (const seed of [1, 2, 3]) {
    const dir = await mkdtemp(join(tmpdir(), "trailstream-corr-scan-"));
    try {
      const shuffled = shuffle(estate.records, seed);
      for (let f = 0; f < 5; f++) {
        const part = shuffled.filter((_, i) => i % 5 === f);
        await writeFile(join(dir, `part-${f}.json`), JSON.stringify({ Records: part }));
      }
      const report = await scan(await listInputs([dir]), {
        prices: AWS_PRICES,
        maxIdentities: 100_000,
        rules: new RuleSet(rules),
        correlations,
      });
      const raised = (report.alerts ?? []).filter((a) => a.correlation !== undefined);
      for (const s of estate.scenarios) {
        const entry = raised.find((a) => a.ruleId === s.ruleId);
        assert.ok(entry, `${s.ruleId} raised nothing (seed ${seed})`);
        assert.deepEqual(entry.groups, [s.fires], `${s.ruleId}: only ${s.fires} (seed ${seed})`);
        assert.equal(entry.alerts, 1);
      }
      assert.equal(
        (report.alerts ?? []).filter((a) => a.ruleId.startsWith("trailstream-") && !a.correlation).length,
        0,
        "the detection rules feeding the correlations raise nothing of their own",
      );
      verdicts.push(raised.map((a) => `${a.ruleId} ${a.groups?.join(",")}`).sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  assert.deepEqual(verdicts[1], verdicts[0]);
  assert.deepEqual(verdicts[2], verdicts[0]);
});
