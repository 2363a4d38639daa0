// The correlation step of a batch: the events whose matches feed a correlation go through the
// engine all at once, so their Redis calls share round trips. That is safe because a verdict does
// not depend on the order matches arrive in (each call is atomic on its key, and the later of two
// calls on a group sees both matches; docs/decisions/0007-correlation-time.md). The alerts they raise are claimed like any other match (`alerted:<rule>:<identity>`), so an alert
// made durable before a crash is not raised again when its batch comes again.
import type { CorrelationAlert, CorrelationEngine, Rule } from "@trailstream/rules";
import { type AlertDocument, buildAlert, type DecodedEvent, eventTimeMs } from "./alert.ts";
import type { AlertState } from "./state-memory.ts";
import type { MatchClaim } from "./state-redis.ts";

export interface Fed {
  event: DecodedEvent;
  hits: readonly Rule[];
}

export interface Correlated {
  event: DecodedEvent;
  alert: CorrelationAlert;
  claim: MatchClaim;
}

export async function correlate(
  engine: CorrelationEngine,
  fed: readonly Fed[],
  state: Pick<AlertState, "claimMatches">,
): Promise<Correlated[]> {
  const raised: Correlated[] = [];
  for (const { event, hits } of fed) {
    const timeMs = eventTimeMs(event.record);
    if (timeMs === null) continue; // no place in any window
    for (const alert of await engine.observe({
      record: event.record,
      identity: event.identity,
      timeMs,
      matched: hits,
    })) {
      raised.push({ event, alert, claim: { ruleId: alert.rule.id, identity: event.identity, owner: event.position } });
    }
  }
  if (raised.length === 0) return [];
  const verdicts = await state.claimMatches(raised.map((r) => r.claim));
  return raised.filter((_, i) => verdicts[i] === "new" || verdicts[i] === "again");
}

/** The alert document of a correlation: the rule's metadata, the group, the count and the window. */
export function correlationAlert(c: Correlated, nowMs: number): AlertDocument {
  const r = c.alert.rule;
  const asRule: Rule = {
    id: r.id,
    title: r.title,
    severity: r.severity,
    source: "sigma",
    matches: () => false,
    ...(r.description === undefined ? {} : { description: r.description }),
    ...(r.author === undefined ? {} : { author: r.author }),
    ...(r.references === undefined ? {} : { references: r.references }),
    ...(r.tags === undefined ? {} : { tags: r.tags }),
  };
  const doc = buildAlert(asRule, c.event, { group: c.alert.group, count: c.alert.count }, nowMs);
  doc.count = c.alert.count;
  doc.correlation = {
    type: r.type,
    rules: [...r.rules],
    groupBy: [...r.groupBy],
    timespanMs: r.timespanMs,
    condition: { ...r.condition },
    ...(r.field ? { field: [...r.field] } : {}),
    windowStart: new Date(c.alert.windowStartMs).toISOString(),
    windowEnd: new Date(c.alert.windowEndMs).toISOString(),
  };
  return doc;
}
