// The enricher: cloudtrail.raw ─► dedup ─► enrich ─► cloudtrail.events (docs/enricher.md).
//   node services/enricher/src/main.ts        (configured by environment variables)
import { runService } from "@trailstream/runtime";
import { enricher } from "./index.ts";

if (import.meta.main) process.exit(await runService(enricher));
