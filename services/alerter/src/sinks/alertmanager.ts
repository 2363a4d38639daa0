// Alertmanager's v2 API: POST /api/v2/alerts with every alert of a batch in one request.
// Alertmanager groups, deduplicates and routes them from there.
import { toAlertmanager } from "../evaluate.ts";
import type { Sink } from "./sink.ts";
import { postJson, urlOrigin } from "./webhook.ts";

export function alertmanagerSink(baseUrl: string, options: { timeoutMs: number; resolveMs: number }): Sink {
  const url = new URL("api/v2/alerts", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
  const target = urlOrigin(baseUrl);
  return {
    kind: "alertmanager",
    target,
    unit: "batch",
    async deliver(alerts) {
      if (alerts.length === 0) return;
      await postJson(
        url,
        alerts.map((a) => toAlertmanager(a, options.resolveMs)),
        options.timeoutMs,
        target,
      );
    },
  };
}
