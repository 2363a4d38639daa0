// JSON over HTTP for the sinks that POST (webhook, Slack, Alertmanager): what is retried and what
// is permanent, and what of a URL may be shown. Webhook URLs often carry their secret in the path
// (Slack's do): only the origin is ever logged or written to the DLQ.
import { PermanentError } from "../retry.ts";

/** scheme://host[:port] of a URL: what may be shown of a webhook. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "[unparseable URL]";
  }
}

/** POSTs JSON; 2xx resolves, 4xx (but 408 and 429) is permanent, anything else is worth a retry. */
export async function postJson(url: string, body: unknown, timeoutMs: number, shown = urlOrigin(url)): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "trailstream-alerter" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    const what =
      error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(error);
    throw new Error(`POST ${shown} failed: ${what}${cause}`);
  }
  const text = await response.text().catch(() => "");
  if (response.ok) return;
  const message = `POST ${shown} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
    throw new PermanentError(message);
  }
  throw new Error(message);
}
