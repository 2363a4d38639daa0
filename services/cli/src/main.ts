#!/usr/bin/env node
// The `trailstream` command. Each subcommand is a module under commands/.
import { rulesCommand, rulesHelp } from "./commands/rules.ts";
import { sampleCommand, sampleHelp } from "./commands/sample.ts";
import { scanCommand, scanHelp } from "./commands/scan.ts";
import { EXIT, UsageError } from "./exit.ts";

const commands: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  scan: { run: scanCommand, help: scanHelp },
  sample: { run: sampleCommand, help: sampleHelp },
  rules: { run: rulesCommand, help: rulesHelp },
};

const help = `trailstream: one clean, deduplicated CloudTrail stream.

Usage: trailstream COMMAND [options]

Commands:
  scan PATH...   read local log files, collapse copies, enrich, report (no server needed)
  sample OUT     write a bucket tree of three overlapping trails, and its truth
  rules          list the detection rules, or test a filter pattern or rule on log files

Run "trailstream COMMAND --help" for a command's options.

Exit codes: 0 success; 1 an unexpected failure; 2 a usage error; 3 some input could not be read.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(`${help}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; run "trailstream --help"`);
  return command.run(rest);
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
