// The parse worker of `scan` (parallel.ts starts it): inflated log files in, their summaries out, in order.
// With rules (workerData.rules), it loads the same rule catalog as the main thread and marks each
// record with the rules it matched (rule-marks.ts).
import { parentPort, workerData } from "node:worker_threads";
import { loadRuleCatalog } from "@trailstream/rules";
import { RuleMarker, rulesDigest, type WorkerRules } from "./rule-marks.ts";
import { summarizeLogFile, transferables } from "./summaries.ts";

if (!parentPort) throw new Error("parse-worker.ts runs as a worker thread");
const port = parentPort;
const rules = (workerData as { rules: WorkerRules | null } | undefined)?.rules ?? null;

/**
 * The main thread's rules, loaded again here (a rule is a closure and cannot be sent). Its catalog is
 * read from the same files; if what loads is not what the main thread has (a file changed between
 * the two reads), the worker stops, and the main thread decodes and evaluates every file itself.
 */
async function loadMarker(wanted: WorkerRules): Promise<RuleMarker> {
  const catalog = await loadRuleCatalog(wanted.catalog);
  const digest = rulesDigest(catalog.rules);
  if (digest !== wanted.digest) throw new Error("the parse worker's rules differ from the main thread's");
  return new RuleMarker(catalog.rules, wanted.fields);
}

// A failure to load is an unhandled rejection, which stops the worker: the main thread hears it as an
// error and decodes the files itself.
const marker = rules ? loadMarker(rules) : Promise.resolve(undefined);

port.on("message", async ({ id, bytes, trailingBytes }: { id: number; bytes: Uint8Array; trailingBytes: number }) => {
  // Messages wait on one promise, so they are answered in the order they came.
  const rules = await marker;
  const summary = summarizeLogFile(bytes, trailingBytes, rules);
  if (summary) port.postMessage({ id, summary }, transferables(summary));
  else port.postMessage({ id, summary: null, bytes }, [bytes.buffer as ArrayBuffer]);
});
