// Webhooks: the alert document as plain JSON, one POST per alert.
import { postJson, urlOrigin } from "./http.ts";
import type { Sink } from "./sink.ts";

export function webhookSink(url: string, timeoutMs: number): Sink {
  const target = urlOrigin(url);
  return {
    kind: "webhook",
    target,
    unit: "alert",
    async deliver(alerts) {
      for (const alert of alerts) await postJson(url, alert, timeoutMs, target);
    },
  };
}
