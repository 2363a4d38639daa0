// testcontainers parity (issue 13, item 7): where a Docker engine stands in for deploy/local/stack,
// test/support/servers.ts starts the stack's servers at the stack's versions, read from the one place
// the stack reads them (deploy/local/versions, Kafka's from deploy/local/kafka/pom.xml), with pinned
// image tags. No Docker engine runs here, so this holds the images to the stack without starting one.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { containerImages, stackVersions } from "../support/servers.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const STACK = resolve(ROOT, "deploy/local/stack");

/** `deploy/local/stack versions`: what `up` installs, as the script itself computes it. */
function stackSays(): Map<string, string> {
  const out = execFileSync("bash", [STACK, "versions"], { encoding: "utf8" });
  return new Map(
    out
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string]),
  );
}

const tagOf = (image: string) => image.slice(image.lastIndexOf(":") + 1);

test("every container image has a pinned version tag, never :latest", () => {
  for (const [server, image] of Object.entries(containerImages())) {
    assert.ok(image.lastIndexOf(":") > image.lastIndexOf("/"), `${server}: ${image} has no tag`);
    assert.notEqual(tagOf(image), "latest", `${server}: ${image}`);
    assert.match(tagOf(image), /^v?\d+\.\d+\.\d+$/, `${server}: ${image} is not pinned to a release`);
  }
});

test("the images are the versions deploy/local/stack installs", () => {
  const stack = stackSays();
  const images = containerImages();
  assert.deepEqual(
    {
      kafka: tagOf(images.kafka),
      redis: tagOf(images.redis),
      moto: tagOf(images.moto),
      kinesis: tagOf(images.kinesis),
      alertmanager: tagOf(images.alertmanager),
    },
    {
      kafka: stack.get("kafka"),
      redis: stack.get("redis"),
      moto: stack.get("moto"),
      kinesis: stack.get("kinesis-local"),
      // Alertmanager's images are tagged v0.25.0 for release 0.25.0.
      alertmanager: `v${stack.get("alertmanager")}`,
    },
  );
  assert.deepEqual(
    [...stack.keys()].sort(),
    ["alertmanager", "kafka", "kinesis-local", "moto", "redis"],
    "a server the stack runs with no image here (or the other way round)",
  );
});

test("the versions are written in one place: neither the stack nor servers.ts spells one out", () => {
  const stack = readFileSync(STACK, "utf8");
  assert.doesNotMatch(
    stack,
    /^\s*(?:MOTO|KINESIS|REDIS|ALERTMANAGER)_VERSION=/m,
    "the stack sources deploy/local/versions",
  );
  assert.match(stack, /^source "\$HERE\/versions"$/m);
  const servers = readFileSync(resolve(ROOT, "test/support/servers.ts"), "utf8");
  assert.doesNotMatch(
    servers,
    /new GenericContainer\(\s*["'`]/,
    "every container's image comes from containerImages()",
  );
  assert.doesNotMatch(servers, /:latest\b/);
  assert.equal(stackVersions().kafka, stackSays().get("kafka"));
});
