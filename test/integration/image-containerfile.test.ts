// The Containerfile users build, built as is with buildah on a stand-in for the node:24 base image
// (deploy/image/check-containerfile: debootstrap + node from npm + corepack), then run read-only.
// Its build stage fetches pnpm and the dependencies from the npm registry, as it does for users.
// About 3 minutes when the sources changed; the script skips the build when nothing it copies
// changed. TRAILSTREAM_SKIP_CONTAINERFILE=1 skips it (reported as skipped).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, run } from "../support/deploy.ts";

const skip = process.env.TRAILSTREAM_SKIP_CONTAINERFILE === "1";

test("the Containerfile builds unchanged and its image runs read-only as uid 1000", {
  timeout: 30 * 60_000,
  skip: skip && "TRAILSTREAM_SKIP_CONTAINERFILE=1: the Containerfile was not built",
}, async () => {
  const r = await run(join(ROOT, "deploy", "image", "check-containerfile"), [], { timeoutMs: 30 * 60_000 });
  assert.equal(r.code, 0, r.stderr.slice(-6000));
  assert.match(r.stdout, /^image=localhost\/trailstream:containerfile$/m);
});
