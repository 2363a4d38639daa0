#!/usr/bin/env node
// The `trailstream` command. Each subcommand is a module loaded only when it is run, so `scan` on a
// laptop never loads the Kafka, Redis or AWS clients that the services need.
import type { ServiceDefinition, ShellSettings } from "@trailstream/runtime";
import { EXIT, UsageError } from "./exit.ts";

type Run = (argv: string[]) => Promise<number>;

/** A long-running service in the service shell: runs until SIGTERM or SIGINT, configured by environment variables. */
function service<S extends ShellSettings>(load: () => Promise<ServiceDefinition<S>>): () => Promise<Run> {
  return async () => {
    const [definition, { runService }] = await Promise.all([load(), import("@trailstream/runtime")]);
    return async (argv) => {
      if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(
          `Configured by environment variables: see docs/${definition.name}.md and docs/deploy.md.\n`,
        );
        return EXIT.ok;
      }
      // The shell's own exit codes (0, 1 fatal, 2 settings) are the CLI's; exit now, since the
      // clients the service closed may leave timers behind.
      process.exit(await runService(definition));
    };
  };
}

const commands: Record<string, () => Promise<Run>> = {
  scan: async () => (await import("./commands/scan.ts")).scanCommand,
  sample: async () => (await import("./commands/sample.ts")).sampleCommand,
  rules: async () => (await import("./commands/rules.ts")).rulesCommand,
  lookup: async () => (await import("./commands/lookup.ts")).lookupCommand,
  replay: async () => (await import("@trailstream/ingester")).replayCommand,
  ingester: service(async () => (await import("@trailstream/ingester")).ingester),
  enricher: service(async () => (await import("@trailstream/enricher")).enricher),
  alerter: service(async () => (await import("@trailstream/alerter")).alerter),
};

const help = `trailstream: one clean, deduplicated CloudTrail stream.

Usage: trailstream COMMAND [options]

Commands:
  scan PATH...     read local log files, collapse copies, enrich, evaluate the rules, report (no server needed)
  sample OUT       write a bucket tree of three overlapping trails, and its truth
  rules            list the detection rules, or test a filter pattern or rule on log files
  lookup           CloudTrail's lookup-events over the events topic (or local log files)
  replay PATH...   send local log files to the raw Kafka topic (backfills)
  ingester         run the ingester: SQS/S3 and Kinesis into cloudtrail.raw
  enricher         run the enricher: cloudtrail.raw, deduplicated and enriched, into cloudtrail.events
  alerter          run the alerter: cloudtrail.events through the rules into alerts

Run "trailstream COMMAND --help" for a command's options; the services are configured by
environment variables (docs/deploy.md).

Exit codes: 0 success; 1 an unexpected failure; 2 a usage or configuration error; 3 some input
could not be read; 4 scan --validate found a file or digest that is not valid.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(`${help}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command "${name}"; run "trailstream --help"`);
  return (await load())(rest);
}

// `trailstream scan --ndjson | head` closes the pipe early: that is a normal end, not a failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(EXIT.ok);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      process.stderr.write(`trailstream: ${error.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(`trailstream: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.failure;
  },
);
