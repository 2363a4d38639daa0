// `trailstream replay PATH...`: sends local CloudTrail log files to the raw topic, for backfills.
// The enricher collapses the copies this makes of events already ingested.
import { parseArgs } from "node:util";
import { createKafka, ensureTopics, openProducer, readKafkaSettings } from "@trailstream/kafka";
import { ConfigError, ConfigReader } from "@trailstream/runtime";
import { Sink } from "./sink.ts";
import { replay } from "./sources/files/replay.ts";

export const replayHelp = `Usage: trailstream replay [options] PATH...

Sends every record of the CloudTrail log files under PATH (files or folders; .json and .json.gz)
to the raw topic, keyed by event identity, with origin {kind: "file", key}. Records that cannot
be read go to the dead-letter topic with the reason. Digest and insight files are skipped.

Options:
  --brokers LIST     Kafka brokers, host:port comma separated (default: $KAFKA_BROKERS)
  --topic NAME       raw topic (default: $TOPIC_RAW or cloudtrail.raw)
  --dlq-topic NAME   dead-letter topic (default: $TOPIC_DLQ or cloudtrail.dlq)
  --quiet            no line per file
  -h, --help         this help

Kafka is reached as the services reach it: KAFKA_SSL, and KAFKA_SASL_MECHANISM (plain,
scram-sha-256, scram-sha-512) with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD.

Exit codes: 0 every record sent; 3 some files or records went to the dead-letter topic;
2 a usage error; 1 an unexpected failure (Kafka unreachable, a path missing).`;

export async function replayCommand(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`trailstream replay: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${replayHelp}\n`);
    return 0;
  }
  const usage = (message: string) => {
    process.stderr.write(`trailstream replay: ${message}; run "trailstream replay --help"\n`);
    return 2;
  };
  if (positionals.length === 0) return usage("no PATH given");
  const reader = new ConfigReader(env);
  const settings = readKafkaSettings(reader, "trailstream-replay", values.brokers);
  try {
    reader.done();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return usage(`${error.problems.join("; ")} (--brokers stands for KAFKA_BROKERS)`);
  }
  const topicRaw = values.topic ?? env.TOPIC_RAW ?? "cloudtrail.raw";
  const topicDlq = values["dlq-topic"] ?? env.TOPIC_DLQ ?? "cloudtrail.dlq";

  const kafka = createKafka(settings);
  try {
    await ensureTopics(kafka, [
      { topic: topicRaw, partitions: 6 },
      { topic: topicDlq, partitions: 3 },
    ]);
    const producer = await openProducer(kafka);
    try {
      const sink = new Sink(producer, { topicRaw, topicDlq, batchRecords: 500, lingerMs: 5 });
      const summary = await replay(positionals, {
        sink,
        onFile: (f) => {
          if (values.quiet) return;
          const what = f.skipped
            ? `skipped (${f.skipped} file)`
            : `${f.records} records${f.deadLetters ? `, ${f.deadLetters} to the DLQ${f.corrupt ? " (corrupt)" : ""}` : ""}`;
          process.stderr.write(`${f.path}: ${what}\n`);
        },
      });
      process.stdout.write(
        `${summary.files} files, ${summary.records} records sent to ${topicRaw}; ${summary.deadLetters} dead letters to ${topicDlq}` +
          `${summary.corruptFiles ? `; ${summary.corruptFiles} corrupt files` : ""}${summary.skippedFiles ? `; ${summary.skippedFiles} skipped` : ""}\n`,
      );
      return summary.deadLetters > 0 ? 3 : 0;
    } finally {
      await producer.close();
    }
  } catch (error) {
    process.stderr.write(`trailstream replay: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      brokers: { type: "string" },
      topic: { type: "string" },
      "dlq-topic": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
