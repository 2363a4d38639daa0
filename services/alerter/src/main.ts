// The alerter: cloudtrail.events ─► rules ─► cloudtrail.alerts, Alertmanager, webhooks (docs/alerter.md).
//   node services/alerter/src/main.ts        (configured by environment variables)
import { runService } from "@trailstream/runtime";
import { alerter } from "./index.ts";

if (import.meta.main) process.exit(await runService(alerter));
