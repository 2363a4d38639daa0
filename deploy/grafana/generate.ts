// trailstream's Grafana dashboards as code (@grafana/grafana-foundation-sdk). `node deploy/grafana/generate.ts`
// writes the JSON into the chart (deploy/helm/trailstream/files/grafana/, its one copy, which the
// chart ships as ConfigMaps) with deploy/grafana/*.json symlinks to it; `--check` only compares and
// exits 1 when a committed file differs.
// Queries use the services' own metrics (services/*/src/metrics.ts), the recording rules in
// deploy/prometheus/trailstream.yaml, `up`, and kafka_consumergroup_lag from a kafka-exporter when
// there is one. The data source is the `datasource` variable everywhere; uids are fixed.
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  VizLegendOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a template literal
export const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** The five-minute budget from eventTime to alert, drawn on every event-lag panel. */
export const LAG_BUDGET_SECONDS = 300;

/** CloudTrail's price of an additional copy of management events: $2.00 per 100,000. */
export const DOLLARS_PER_EXTRA_MANAGEMENT_EVENT = 2 / 100_000;

export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** stat: one number over the dashboard's time range; timeseries otherwise. */
  kind?: "stat";
  /** Draw the five-minute budget as a threshold line. */
  budget?: boolean;
  width?: number;
}

export interface RowSpec {
  row: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  file: string;
  title: string;
  description: string;
  tags: string[];
  rows: RowSpec[];
}

const RI = "$__rate_interval";

function rate(metric: string, by = "", selector = ""): string {
  const grouping = by ? ` by (${by})` : "";
  return `sum${grouping} (rate(${metric}${selector}[${RI}]))`;
}

function quantile(q: number, histogram: string, by = ""): string {
  const extra = by ? `, ${by}` : "";
  return `histogram_quantile(${q}, sum by (le${extra}) (rate(${histogram}_bucket[${RI}])))`;
}

function quantiles(histogram: string, by = "", label = ""): Query[] {
  const prefix = label ? `${label} ` : "";
  return [0.5, 0.95, 0.99].map((q) => ({
    expr: quantile(q, histogram, by),
    legend: `${prefix}p${Math.round(q * 100)}${by ? ` {{${by}}}` : ""}`,
  }));
}

function lagPanel(stage: string, histogram: string): PanelSpec {
  return {
    title: `Event lag at the ${stage}`,
    description: `now - eventTime of each event at the ${stage} (${histogram}), p50/p95/p99. The red line is the five-minute budget from eventTime to alert.`,
    unit: "s",
    queries: quantiles(histogram),
    budget: true,
    width: 8,
  };
}

function processPanels(service: string): PanelSpec[] {
  const sel = `{service="${service}"}`;
  return [
    {
      title: "CPU",
      description: `CPU seconds per second used by each ${service} process (user + system).`,
      unit: "percentunit",
      queries: [
        {
          expr: `sum by (instance) (rate(trailstream_process_cpu_seconds_total${sel}[${RI}]))`,
          legend: "{{instance}}",
        },
      ],
      width: 8,
    },
    {
      title: "Memory",
      description: `Resident memory and used V8 heap of each ${service} process.`,
      unit: "bytes",
      queries: [
        { expr: `sum by (instance) (trailstream_process_resident_memory_bytes${sel})`, legend: "rss {{instance}}" },
        { expr: `sum by (instance) (trailstream_nodejs_heap_size_used_bytes${sel})`, legend: "heap {{instance}}" },
      ],
      width: 8,
    },
    {
      title: "Event loop lag",
      description: `p99 delay of Node's event loop in each ${service} process: a busy loop delays everything, health checks included.`,
      unit: "s",
      queries: [
        { expr: `max by (instance) (trailstream_nodejs_eventloop_lag_p99_seconds${sel})`, legend: "{{instance}}" },
      ],
      width: 8,
    },
  ];
}

const INTEGRITY_VERDICTS = "trailstream_ingester_integrity_verdicts_total";
const INTEGRITY_VERDICTS_PER_HOUR = `sum by (kind) (increase(${INTEGRITY_VERDICTS}[1h]))`;
const DIGESTS_STOPPED_PER_HOUR = `sum by (trail, region) (increase(${INTEGRITY_VERDICTS}{kind="digests-stopped"}[1h]))`;

const copiesCost = `sum by (origin_kind) (increase(trailstream_enricher_copies_collapsed_total[$__range])) * ${DOLLARS_PER_EXTRA_MANAGEMENT_EVENT}`;

export const OVERVIEW: DashboardSpec = {
  uid: "trailstream-overview",
  file: "trailstream-overview.json",
  title: "trailstream / Overview",
  description:
    "CloudTrail events through ingester, enricher and alerter: flow, copies collapsed, DLQ, alerts, lag against the five-minute budget, backlog, Redis and sinks, log file integrity.",
  tags: ["trailstream"],
  rows: [
    {
      row: "Flow",
      panels: [
        {
          title: "Events per stage",
          description:
            "Records the ingester wrote to the raw topic, raw records the enricher consumed, unique events it wrote to the events topic, and events the alerter read. The gap between enricher in and out is the copies collapsed.",
          unit: "eps",
          queries: [
            { expr: rate("trailstream_ingester_records_total"), legend: "ingester → raw" },
            { expr: rate("trailstream_enricher_records_in_total"), legend: "enricher in" },
            { expr: rate("trailstream_enricher_events_out_total"), legend: "enricher → events (unique)" },
            { expr: rate("trailstream_alerter_events_in_total"), legend: "alerter in" },
          ],
          width: 12,
        },
        {
          title: "Services up",
          description:
            "1 when Prometheus scrapes the service's /metrics (the `up` series of the trailstream jobs); 0 is TrailstreamServiceDown after five minutes.",
          unit: "bool_on_off",
          queries: [{ expr: 'min by (job) (up{job=~"trailstream.*"})', legend: "{{job}}" }],
          width: 12,
        },
        {
          title: "Copies collapsed by origin kind",
          description:
            "Copies of already-seen events the enricher dropped, by the dropped copy's origin kind (s3, kinesis-logs, kinesis-eventbridge, kinesis-raw, file): the same event delivered by several trails or paths.",
          unit: "eps",
          queries: [
            { expr: rate("trailstream_enricher_copies_collapsed_total", "origin_kind"), legend: "{{origin_kind}}" },
          ],
          width: 12,
        },
        {
          title: "What the copies would cost",
          description:
            "Copies collapsed over the dashboard's time range, priced as CloudTrail prices additional copies of management events ($2.00 per 100,000). An upper bound: copies of data events cost $0.10 per 100,000, and the metric does not tell the two apart.",
          unit: "currencyUSD",
          kind: "stat",
          queries: [{ expr: copiesCost, legend: "{{origin_kind}}" }],
          width: 12,
        },
        {
          title: "DLQ by reason",
          description:
            "Records each stage sent to its dead-letter topic, by reason. TrailstreamDLQRate fires above trailstream:threshold:dlq_records_per_second.",
          unit: "recps",
          queries: [
            { expr: rate("trailstream_ingester_dlq_records_total", "reason"), legend: "ingester {{reason}}" },
            { expr: rate("trailstream_enricher_dlq_records_total", "reason"), legend: "enricher {{reason}}" },
            { expr: rate("trailstream_alerter_dlq_records_total", "reason"), legend: "alerter {{reason}}" },
          ],
          width: 12,
        },
        {
          title: "Alerts by rule and severity",
          description:
            "Alerts raised, by detection rule and severity (after thresholds, suppression and de-duplication).",
          unit: "cps",
          queries: [
            { expr: rate("trailstream_alerter_alerts_total", "rule, severity"), legend: "{{rule}} ({{severity}})" },
          ],
          width: 12,
        },
      ],
    },
    {
      row: "Event lag (budget: five minutes from eventTime to alert)",
      panels: [
        lagPanel("ingester", "trailstream_ingester_event_lag_seconds"),
        lagPanel("enricher", "trailstream_enricher_event_lag_seconds"),
        lagPanel("alerter", "trailstream_alerter_event_lag_seconds"),
      ],
    },
    {
      row: "Backlog, Redis, sinks",
      panels: [
        {
          title: "Consumer lag",
          description:
            "Records each trailstream consumer group is behind, per topic, from a kafka-exporter (kafka_consumergroup_lag); empty without one.",
          unit: "short",
          queries: [
            {
              expr: 'sum by (consumergroup, topic) (kafka_consumergroup_lag{consumergroup=~"trailstream.*"})',
              legend: "{{consumergroup}} {{topic}}",
            },
          ],
          width: 12,
        },
        {
          title: "Backlog growth",
          description:
            "Records per second written to a topic minus those its consumer committed, from the services' own counters (the raw topic: ingester minus enricher; events: enricher minus alerter). Above zero for long, the consumer falls behind (TrailstreamBacklogGrowing).",
          unit: "recps",
          queries: [{ expr: "trailstream:topic_backlog_growth:rate15m", legend: "{{topic}}" }],
          width: 12,
        },
        {
          title: "Redis round trip",
          description:
            "Time of one Redis round trip: the enricher's pipelined dedup claims, and each Redis step of an alerter batch; p50 and p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_enricher_redis_roundtrip_seconds"), legend: "enricher p50" },
            { expr: quantile(0.99, "trailstream_enricher_redis_roundtrip_seconds"), legend: "enricher p99" },
            { expr: quantile(0.5, "trailstream_alerter_redis_roundtrip_seconds"), legend: "alerter p50" },
            { expr: quantile(0.99, "trailstream_alerter_redis_roundtrip_seconds"), legend: "alerter p99" },
          ],
          width: 12,
        },
        {
          title: "Sink errors",
          description:
            "Failed delivery attempts per alert sink (each is retried with backoff, then dead-lettered as sink-<sink>).",
          unit: "cps",
          queries: [{ expr: rate("trailstream_alerter_sink_errors_total", "sink"), legend: "{{sink}}" }],
          width: 12,
        },
      ],
    },
    {
      row: "Log file integrity (CloudTrail digests)",
      panels: [
        {
          title: "Integrity verdicts by kind",
          description:
            "Verdicts the ingester sent to the integrity topic in the past hour, by kind: valid, or what went wrong (hash-mismatch, missing-log-file, unreferenced-log-file, digest-missing, digest-moved, signature-invalid, unknown-key, gap, trailing-data, digests-stopped, digest-invalid). Each one that is not valid is also an alert through the alerter's sinks.",
          unit: "short",
          queries: [{ expr: INTEGRITY_VERDICTS_PER_HOUR, legend: "{{kind}}" }],
          width: 12,
        },
        {
          title: "Digests stopped, by trail and Region",
          description:
            "digests-stopped verdicts in the past hour per chain (trail, delivering Region): no digest for over an hour past the newest one's end. TrailstreamIntegrityDigestsStopped fires on each.",
          unit: "short",
          queries: [{ expr: DIGESTS_STOPPED_PER_HOUR, legend: "{{trail}} {{region}}" }],
          width: 12,
        },
        {
          title: "Log files unverified past their window",
          description:
            "Log files delivered over two hours ago to trail locations that have digests, which no digest has listed yet (from Redis, the same on every replica). TrailstreamIntegrityFilesUnverified fires when this stays above zero for 30 minutes.",
          unit: "short",
          queries: [{ expr: "max(trailstream_ingester_integrity_unverified_files)", legend: "unverified files" }],
          width: 12,
        },
        {
          title: "Time from delivery to verdict",
          description:
            "From a log file's delivery (the time in its name) to its integrity verdict, p50/p95/p99. A file is judged when the digest that lists it arrives, about an hour after it.",
          unit: "s",
          queries: quantiles("trailstream_ingester_integrity_verdict_seconds"),
          width: 12,
        },
      ],
    },
  ],
};

export const INGESTER: DashboardSpec = {
  uid: "trailstream-ingester",
  file: "trailstream-ingester.json",
  title: "trailstream / Ingester",
  description: "The ingester: SQS notifications, S3 files, Kinesis shards and local files into the raw topic.",
  tags: ["trailstream", "ingester"],
  rows: [
    {
      row: "Input",
      panels: [
        {
          title: "Notifications by kind",
          description:
            "SQS notifications received, by kind (s3, sns-s3, cloudtrail-sns, eventbridge-s3, s3-test, invalid).",
          unit: "cps",
          queries: [{ expr: rate("trailstream_ingester_notifications_total", "kind"), legend: "{{kind}}" }],
          width: 12,
        },
        {
          title: "Files by kind and outcome",
          description:
            "Files seen, by kind and outcome (read, skipped-identical, ignored, not-cloudtrail, corrupt, missing, retried).",
          unit: "cps",
          queries: [
            { expr: rate("trailstream_ingester_files_total", "kind, outcome"), legend: "{{kind}} {{outcome}}" },
          ],
          width: 12,
        },
        {
          title: "Bytes read",
          description: "Bytes of log files read, as stored (gzipped), by source.",
          unit: "Bps",
          queries: [{ expr: rate("trailstream_ingester_bytes_total", "source"), legend: "{{source}}" }],
          width: 12,
        },
        {
          title: "Identical files skipped",
          description:
            "Files skipped unread because one with the same ETag and size was ingested within FILE_SKIP_WINDOW.",
          unit: "cps",
          queries: [{ expr: rate("trailstream_ingester_skipped_identical_files_total"), legend: "skipped" }],
          width: 12,
        },
        {
          title: "Kinesis records by stream and kind",
          description: "Kinesis records read, by stream and payload kind.",
          unit: "recps",
          queries: [
            { expr: rate("trailstream_ingester_kinesis_records_total", "stream, kind"), legend: "{{stream}} {{kind}}" },
          ],
          width: 12,
        },
        {
          title: "Kinesis errors and leases",
          description:
            "Kinesis calls that failed and were retried, by error kind; and shard leases held per stream (right axis reads as a count).",
          unit: "short",
          queries: [
            { expr: rate("trailstream_ingester_kinesis_errors_total", "kind"), legend: "errors/s {{kind}}" },
            { expr: "sum by (stream) (trailstream_ingester_leases_held)", legend: "leases {{stream}}" },
          ],
          width: 12,
        },
      ],
    },
    {
      row: "Output",
      panels: [
        {
          title: "Records to the raw topic by source",
          description:
            "Records Kafka acknowledged on the raw topic, by origin kind. TrailstreamSourceQuiet fires when one that flowed in the last day stops for 30 minutes.",
          unit: "recps",
          queries: [{ expr: rate("trailstream_ingester_records_total", "source"), legend: "{{source}}" }],
          width: 12,
        },
        {
          title: "DLQ by reason",
          description: "Records the ingester wrote to the dead-letter topic, by reason.",
          unit: "recps",
          queries: [{ expr: rate("trailstream_ingester_dlq_records_total", "reason"), legend: "{{reason}}" }],
          width: 12,
        },
        {
          title: "Kafka produce latency",
          description: "Time from handing a batch to Kafka to its acknowledgement, by topic; p50 and p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_ingester_kafka_produce_seconds", "topic"), legend: "p50 {{topic}}" },
            { expr: quantile(0.99, "trailstream_ingester_kafka_produce_seconds", "topic"), legend: "p99 {{topic}}" },
          ],
          width: 12,
        },
        {
          title: "Event lag by source",
          description:
            "now - eventTime when a record is ingested, p99 by source; the red line is the five-minute budget for the whole pipeline.",
          unit: "s",
          queries: [
            { expr: quantile(0.99, "trailstream_ingester_event_lag_seconds", "source"), legend: "p99 {{source}}" },
          ],
          budget: true,
          width: 12,
        },
      ],
    },
    { row: "Process", panels: processPanels("ingester") },
  ],
};

export const ENRICHER: DashboardSpec = {
  uid: "trailstream-enricher",
  file: "trailstream-enricher.json",
  title: "trailstream / Enricher",
  description: "The enricher: raw records to unique events, with Redis dedup claims and Kafka transactions.",
  tags: ["trailstream", "enricher"],
  rows: [
    {
      row: "Flow",
      panels: [
        {
          title: "Records in, events out",
          description:
            "Raw records consumed and committed; unique events written, by dedup (unchecked: Redis was down and DEDUP_ON_REDIS_DOWN=pass); replays (events written again after a crash).",
          unit: "eps",
          queries: [
            { expr: rate("trailstream_enricher_records_in_total"), legend: "records in" },
            { expr: rate("trailstream_enricher_events_out_total", "dedup"), legend: "events out ({{dedup}})" },
            { expr: rate("trailstream_enricher_replays_total"), legend: "replays" },
          ],
          width: 12,
        },
        {
          title: "Copies collapsed by origin kind",
          description: "Copies of already-seen events dropped, by the dropped copy's origin kind.",
          unit: "eps",
          queries: [
            { expr: rate("trailstream_enricher_copies_collapsed_total", "origin_kind"), legend: "{{origin_kind}}" },
          ],
          width: 12,
        },
        {
          title: "DLQ by reason",
          description: "Raw records sent to the DLQ topic, by reason.",
          unit: "recps",
          queries: [{ expr: rate("trailstream_enricher_dlq_records_total", "reason"), legend: "{{reason}}" }],
          width: 12,
        },
        {
          title: "Transactions by result",
          description: "Kafka transactions: commit, or abort (the batch comes again).",
          unit: "cps",
          queries: [{ expr: rate("trailstream_enricher_transactions_total", "result"), legend: "{{result}}" }],
          width: 12,
        },
        {
          title: "Batch duration",
          description:
            "Time from receiving a poll's records to its transaction's commit, p50 and p99; and the transaction alone (begin to the commit's answer: produce, offsets, EndTxn), p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_enricher_batch_duration_seconds"), legend: "p50" },
            { expr: quantile(0.99, "trailstream_enricher_batch_duration_seconds"), legend: "p99" },
            { expr: quantile(0.99, "trailstream_enricher_transaction_duration_seconds"), legend: "transaction p99" },
          ],
          width: 12,
        },
        {
          title: "Assigned partitions",
          description: "Raw topic partitions each enricher instance holds.",
          unit: "short",
          queries: [{ expr: "sum by (instance) (trailstream_enricher_assigned_partitions)", legend: "{{instance}}" }],
          width: 12,
        },
      ],
    },
    {
      row: "Redis and lag",
      panels: [
        {
          title: "Redis round trip",
          description: "One pipelined Redis round trip of dedup claims (one per batch); p50 and p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_enricher_redis_roundtrip_seconds"), legend: "p50" },
            { expr: quantile(0.99, "trailstream_enricher_redis_roundtrip_seconds"), legend: "p99" },
          ],
          width: 8,
        },
        {
          title: "Redis up and errors",
          description: "1 when the last Redis round trip worked (per instance); failed round trips per second.",
          unit: "short",
          queries: [
            { expr: "min by (instance) (trailstream_enricher_redis_up)", legend: "up {{instance}}" },
            { expr: rate("trailstream_enricher_redis_errors_total"), legend: "errors/s" },
          ],
          width: 8,
        },
        lagPanel("enricher", "trailstream_enricher_event_lag_seconds"),
      ],
    },
    { row: "Process", panels: processPanels("enricher") },
  ],
};

export const ALERTER: DashboardSpec = {
  uid: "trailstream-alerter",
  file: "trailstream-alerter.json",
  title: "trailstream / Alerter",
  description:
    "The alerter: detection rules over the events topic, thresholds and suppression in Redis, delivery to sinks.",
  tags: ["trailstream", "alerter"],
  rows: [
    {
      row: "Rules",
      panels: [
        {
          title: "Events in",
          description: "Events read from the events topic.",
          unit: "eps",
          queries: [{ expr: rate("trailstream_alerter_events_in_total"), legend: "events" }],
          width: 8,
        },
        {
          title: "Decisions",
          description:
            "What became of rule matches: fire, below-threshold, suppressed, or duplicate (a re-delivered or copied event).",
          unit: "cps",
          queries: [{ expr: rate("trailstream_alerter_decisions_total", "result"), legend: "{{result}}" }],
          width: 8,
        },
        {
          title: "Rules loaded",
          description: "Rules loaded at start, by source.",
          unit: "short",
          queries: [{ expr: "max by (source) (trailstream_alerter_rules_loaded)", legend: "{{source}}" }],
          width: 8,
        },
        {
          title: "Rule matches by rule and severity",
          description: "Rule matches before thresholds and suppression.",
          unit: "cps",
          queries: [
            {
              expr: rate("trailstream_alerter_rule_matches_total", "rule, severity"),
              legend: "{{rule}} ({{severity}})",
            },
          ],
          width: 12,
        },
        {
          title: "Alerts by rule and severity",
          description: "Alerts raised, by rule and severity.",
          unit: "cps",
          queries: [
            { expr: rate("trailstream_alerter_alerts_total", "rule, severity"), legend: "{{rule}} ({{severity}})" },
          ],
          width: 12,
        },
        {
          title: "Rule evaluation time",
          description: "Time to evaluate all rules against one event; p50 and p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_alerter_evaluation_seconds"), legend: "p50" },
            { expr: quantile(0.99, "trailstream_alerter_evaluation_seconds"), legend: "p99" },
          ],
          width: 12,
        },
        {
          title: "Batch duration",
          description: "Time from receiving a partition batch until its alerts are durable; p50 and p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_alerter_batch_duration_seconds"), legend: "p50" },
            { expr: quantile(0.99, "trailstream_alerter_batch_duration_seconds"), legend: "p99" },
          ],
          width: 12,
        },
      ],
    },
    {
      row: "Sinks",
      panels: [
        {
          title: "Alerts delivered by sink",
          description: "Alerts each sink accepted.",
          unit: "cps",
          queries: [{ expr: rate("trailstream_alerter_sink_alerts_delivered_total", "sink"), legend: "{{sink}}" }],
          width: 8,
        },
        {
          title: "Sink errors",
          description: "Failed delivery attempts by sink (retried with backoff, then dead-lettered as sink-<sink>).",
          unit: "cps",
          queries: [{ expr: rate("trailstream_alerter_sink_errors_total", "sink"), legend: "{{sink}}" }],
          width: 8,
        },
        {
          title: "Sink delivery time",
          description: "Time of one successful delivery, retries included, p99 by sink.",
          unit: "s",
          queries: [
            { expr: quantile(0.99, "trailstream_alerter_sink_delivery_seconds", "sink"), legend: "p99 {{sink}}" },
          ],
          width: 8,
        },
        {
          title: "DLQ by reason",
          description:
            "Records sent to the DLQ topic, by reason (sink-<sink> for undeliverable alerts, or a decode reason).",
          unit: "recps",
          queries: [{ expr: rate("trailstream_alerter_dlq_records_total", "reason"), legend: "{{reason}}" }],
          width: 12,
        },
        lagPanel("alerter", "trailstream_alerter_event_lag_seconds"),
      ],
    },
    {
      row: "Redis",
      panels: [
        {
          title: "Redis round trip",
          description: "Time of one Redis step of a batch (claims, decisions, marks); p50 and p99.",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "trailstream_alerter_redis_roundtrip_seconds"), legend: "p50" },
            { expr: quantile(0.99, "trailstream_alerter_redis_roundtrip_seconds"), legend: "p99" },
          ],
          width: 12,
        },
        {
          title: "Redis up and errors",
          description: "1 when the Redis client is connected (per instance); failed Redis steps per second.",
          unit: "short",
          queries: [
            { expr: "min by (instance) (trailstream_alerter_redis_up)", legend: "up {{instance}}" },
            { expr: rate("trailstream_alerter_redis_errors_total"), legend: "errors/s" },
          ],
          width: 12,
        },
      ],
    },
    { row: "Process", panels: processPanels("alerter") },
  ],
};

export const DASHBOARDS: DashboardSpec[] = [OVERVIEW, INGESTER, ENRICHER, ALERTER];

function target(q: Query, refId: string, instant: boolean): DataqueryBuilder {
  const t = new DataqueryBuilder().expr(q.expr).legendFormat(q.legend).refId(refId).datasource(DATASOURCE);
  return instant ? t.instant() : t.range();
}

function panel(spec: PanelSpec, id: number): TimeseriesPanelBuilder | StatPanelBuilder {
  const refIds = spec.queries.map((_, i) => String.fromCharCode(65 + i));
  if (spec.kind === "stat") {
    const p = new StatPanelBuilder()
      .id(id)
      .title(spec.title)
      .description(spec.description)
      .datasource(DATASOURCE)
      .unit(spec.unit)
      .decimals(2)
      .height(8)
      .span(spec.width ?? 12);
    spec.queries.forEach((q, i) => {
      p.withTarget(target(q, refIds[i] ?? "A", true));
    });
    return p;
  }
  const p = new TimeseriesPanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(8)
    .span(spec.width ?? 12)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom)
        .showLegend(true),
    );
  if (spec.budget) {
    p.thresholds(
      new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
        { value: null, color: "green" },
        { value: LAG_BUDGET_SECONDS, color: "red" },
      ]),
    ).thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  }
  spec.queries.forEach((q, i) => {
    p.withTarget(target(q, refIds[i] ?? "A", false));
  });
  return p;
}

export function build(spec: DashboardSpec): Dashboard {
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(spec.tags)
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: "now-3h", to: "now" })
    .timezone("browser")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"));
  let id = 1;
  for (const row of spec.rows) {
    d.withRow(new RowBuilder(row.row).id(id++));
    for (const p of row.panels) d.withPanel(panel(p, id++));
  }
  return d.build();
}

export function render(spec: DashboardSpec): string {
  return `${JSON.stringify(build(spec), null, 2)}\n`;
}

export const HERE = import.meta.dirname;
/** Helm reads only files inside the chart, so the JSON lives there (decision 0006, as the rules). */
export const CHART_DASHBOARDS = join(HERE, "..", "helm", "trailstream", "files", "grafana");

if (import.meta.main) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const spec of DASHBOARDS) {
    const path = join(CHART_DASHBOARDS, spec.file);
    const json = render(spec);
    if (check) {
      let old = "";
      try {
        old = readFileSync(path, "utf8");
      } catch {}
      if (old !== json) {
        stale++;
        console.error(
          `deploy/helm/trailstream/files/grafana/${spec.file} is not what generate.ts writes: run node deploy/grafana/generate.ts`,
        );
      }
    } else {
      writeFileSync(path, json);
      const link = join(HERE, spec.file);
      if (!existsSync(link)) symlinkSync(join("..", "helm", "trailstream", "files", "grafana", spec.file), link);
      console.error(`wrote deploy/helm/trailstream/files/grafana/${spec.file}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
