// The ingester: S3 notifications on SQS and Kinesis streams ─► cloudtrail.raw (docs/ingester.md).
//   node services/ingester/src/main.ts        (configured by environment variables)
import { runService } from "@trailstream/runtime";
import { ingester } from "./index.ts";

if (import.meta.main) process.exit(await runService(ingester));
