// Renders a Grafana dashboard's panels (by default the trailstream overview) from a running
// Prometheus into PNG pictures: each panel's queries go to /api/v1/query_range, a small SVG line-chart
// renderer draws them (thresholds such as the five-minute lag budget as dashed lines), and
// rsvg-convert (Debian librsvg2-bin) turns the SVG into PNG. No Grafana needed.
//   PROMETHEUS_URL=http://127.0.0.1:9090 node scripts/pictures.ts [--range 1h] [--out docs/images]
// Options: --range (default 1h), --end (RFC 3339 or unix seconds; default now), --rate-interval
// (what $__rate_interval becomes; default 4x the step, at least 1m), --dashboard (a dashboard JSON;
// default deploy/grafana/trailstream-overview.json), --out (default docs/images), --prefix (file name
// prefix; default the dashboard uid without "trailstream-"), --width (pixels of the full picture).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");

interface Target {
  expr: string;
  legendFormat?: string;
}

interface Panel {
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps?: { value: number | null; color: string }[] } } };
  targets?: Target[];
}

interface Series {
  name: string;
  points: [number, number][];
}

export interface PanelData {
  panel: Panel;
  series: Series[];
  error?: string;
}

const COLORS = [
  "#73bf69",
  "#f2cc0c",
  "#8ab8ff",
  "#ff780a",
  "#f2495c",
  "#5794f2",
  "#b877d9",
  "#705da0",
  "#37872d",
  "#fade2a",
];
const FONT = "DejaVu Sans, Verdana, sans-serif";

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text} (e.g. 90s, 15m, 1h, 2d)`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as "s"];
  return Number(m[1]) * unit;
}

function promDuration(seconds: number): string {
  return `${Math.max(1, Math.round(seconds))}s`;
}

/** Grafana's variables as Grafana would fill them in for this picture. */
export function substitute(expr: string, rangeSeconds: number, rateInterval: string, step: number): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll("$__interval", promDuration(step))
    .replaceAll("$__range", promDuration(rangeSeconds));
}

export function legend(format: string | undefined, labels: Record<string, string>): string {
  if (!format || format === "__auto") {
    const parts = Object.entries(labels)
      .filter(([k]) => k !== "__name__")
      .map(([k, v]) => `${k}="${v}"`);
    return `${labels.__name__ ?? ""}{${parts.join(", ")}}`;
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => labels[k] ?? "");
}

interface RangeResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
}

async function queryRange(url: string, expr: string, start: number, end: number, step: number): Promise<Series[]> {
  const body = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
  const r = await fetch(`${url.replace(/\/$/, "")}/api/v1/query_range`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const json = (await r.json()) as RangeResponse;
  if (json.status !== "success" || !json.data) throw new Error(json.error ?? `HTTP ${r.status}`);
  return json.data.result.map((s) => ({
    name: JSON.stringify(s.metric),
    points: s.values.map(([t, v]): [number, number] => [t, Number(v)]).filter(([, v]) => Number.isFinite(v)),
  }));
}

// --- value formatting by Grafana unit ---------------------------------------------------------

function si(v: number, digits = 3): string {
  const a = Math.abs(v);
  for (const [f, s] of [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const) {
    if (a >= f) return `${trim(v / f, digits)}${s}`;
  }
  return trim(v, digits);
}

function trim(v: number, digits: number): string {
  if (v === 0) return "0";
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(digits)).toString();
  return s;
}

export function formatValue(v: number, unit: string): string {
  switch (unit) {
    case "s": {
      const a = Math.abs(v);
      if (a === 0) return "0";
      if (a < 0.001) return `${trim(v * 1e6, 3)} µs`;
      if (a < 1) return `${trim(v * 1000, 3)} ms`;
      if (a < 60) return `${trim(v, 3)} s`;
      if (a < 7200) return `${trim(v / 60, 3)} min`;
      return `${trim(v / 3600, 3)} h`;
    }
    case "eps":
      return `${si(v)} ev/s`;
    case "recps":
      return `${si(v)} rec/s`;
    case "cps":
      return `${si(v)}/s`;
    case "currencyUSD":
      return `$${v.toFixed(2)}`;
    case "percentunit":
      return `${trim(v * 100, 3)}%`;
    case "bool_on_off":
      return v >= 0.5 ? "on" : "off";
    case "bytes":
    case "Bps": {
      const suffix = unit === "Bps" ? "/s" : "";
      const a = Math.abs(v);
      for (const [f, s] of [
        [2 ** 30, "GiB"],
        [2 ** 20, "MiB"],
        [2 ** 10, "KiB"],
      ] as const) {
        if (a >= f) return `${trim(v / f, 3)} ${s}${suffix}`;
      }
      return `${trim(v, 3)} B${suffix}`;
    }
    default:
      return si(v);
  }
}

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return nice * mag;
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

// --- SVG ------------------------------------------------------------------------------------

/** One panel as an SVG group at (x, y) of the given size. */
export function panelSvg(d: PanelData, x: number, y: number, w: number, h: number, start: number, end: number): string {
  const unit = d.panel.fieldConfig?.defaults?.unit ?? "short";
  const out: string[] = [];
  out.push(`<g transform="translate(${x},${y})">`);
  out.push(`<rect width="${w}" height="${h}" rx="3" fill="#181b1f" stroke="#2c3235"/>`);
  out.push(
    `<text x="10" y="20" font-family="${FONT}" font-size="13" font-weight="bold" fill="#d8d9da">${esc(d.panel.title)}</text>`,
  );
  const series = d.series.filter((s) => s.points.length > 0);
  if (d.error || series.length === 0) {
    const text = d.error ? `query error: ${d.error}` : "No data";
    out.push(
      `<text x="${w / 2}" y="${h / 2}" text-anchor="middle" font-family="${FONT}" font-size="14" fill="#8e8e8e">${esc(text.slice(0, 90))}</text>`,
    );
    out.push("</g>");
    return out.join("\n");
  }
  if (d.panel.type === "stat") {
    // One big number per series: its last value.
    const cell = w / series.length;
    series.forEach((s, i) => {
      const last = s.points[s.points.length - 1]?.[1] ?? 0;
      const cx = cell * i + cell / 2;
      out.push(
        `<text x="${cx}" y="${h / 2 + 10}" text-anchor="middle" font-family="${FONT}" font-size="${Math.min(36, cell / 5)}" font-weight="bold" fill="${COLORS[i % COLORS.length]}">${esc(formatValue(last, unit))}</text>`,
      );
      out.push(
        `<text x="${cx}" y="${h / 2 + 34}" text-anchor="middle" font-family="${FONT}" font-size="12" fill="#ccccdc">${esc(s.name)}</text>`,
      );
    });
    out.push("</g>");
    return out.join("\n");
  }
  const thresholds = (d.panel.fieldConfig?.defaults?.thresholds?.steps ?? []).flatMap((s) =>
    s.value === null ? [] : [s],
  );
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (const [, v] of s.points) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  for (const t of thresholds) hi = Math.max(hi, t.value ?? hi);
  lo = Math.min(0, lo);
  if (unit === "bool_on_off") hi = Math.max(1, hi);
  if (hi <= lo) hi = lo + 1;
  const legendRows = Math.min(4, Math.ceil(series.length / 3));
  const left = 78;
  const right = 14;
  const top = 32;
  const bottom = 26 + legendRows * 16;
  const pw = w - left - right;
  const ph = h - top - bottom;
  const step = yStep(unit, hi - lo);
  hi = Math.ceil(hi / step) * step;
  lo = Math.floor(lo / step) * step;
  const sx = (t: number) => left + ((t - start) / (end - start || 1)) * pw;
  const sy = (v: number) => top + ph - ((v - lo) / (hi - lo)) * ph;
  for (let v = lo; v <= hi + step / 2; v += step) {
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#2c3235"/>`);
    out.push(
      `<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end" font-family="${FONT}" font-size="11" fill="#9fa7b3">${esc(formatValue(v, unit))}</text>`,
    );
  }
  const tstep = niceTimeStep(end - start);
  for (let t = Math.ceil(start / tstep) * tstep; t <= end; t += tstep) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${top}" y2="${top + ph}" stroke="#22252b"/>`);
    out.push(
      `<text x="${sx(t)}" y="${top + ph + 15}" text-anchor="middle" font-family="${FONT}" font-size="11" fill="#9fa7b3">${clock(t)}</text>`,
    );
  }
  for (const t of thresholds) {
    const ty = sy(t.value ?? 0);
    out.push(
      `<line x1="${left}" x2="${left + pw}" y1="${ty}" y2="${ty}" stroke="#f2495c" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${left + pw - 4}" y="${ty - 4}" text-anchor="end" font-family="${FONT}" font-size="11" fill="#f2495c">${esc(formatValue(t.value ?? 0, unit))}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? "#73bf69";
    // Break the line where samples are missing (more than 1.5 steps apart).
    const gap = (end - start) / 200;
    let path = "";
    let prev = Number.NEGATIVE_INFINITY;
    for (const [t, v] of s.points) {
      path += `${t - prev > gap * 1.5 + 1 ? "M" : "L"}${sx(t).toFixed(1)},${sy(v).toFixed(1)} `;
      prev = t;
    }
    out.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
  });
  const colWidth = pw / 3;
  series.slice(0, legendRows * 3).forEach((s, i) => {
    const lx = left + (i % 3) * colWidth;
    const ly = top + ph + 32 + Math.floor(i / 3) * 16;
    const color = COLORS[i % COLORS.length] ?? "#73bf69";
    const maxChars = Math.floor(colWidth / 6.5) - 3;
    const name = s.name.length > maxChars ? `${s.name.slice(0, maxChars - 1)}…` : s.name;
    out.push(`<rect x="${lx}" y="${ly - 8}" width="12" height="3" fill="${color}"/>`);
    out.push(
      `<text x="${lx + 16}" y="${ly - 3}" font-family="${FONT}" font-size="11" fill="#ccccdc">${esc(name)}</text>`,
    );
  });
  if (series.length > legendRows * 3) {
    out.push(
      `<text x="${left + pw}" y="${h - 6}" text-anchor="end" font-family="${FONT}" font-size="10" fill="#8e8e8e">+${series.length - legendRows * 3} more series</text>`,
    );
  }
  out.push("</g>");
  return out.join("\n");
}

/** Ticks a reader expects: on/off for booleans, whole minutes for durations of minutes. */
function yStep(unit: string, span: number): number {
  if (unit === "bool_on_off") return 1;
  if (unit === "s" && span >= 120) {
    for (const s of [30, 60, 120, 300, 600, 900, 1800, 3600, 7200]) if (span / s <= 5) return s;
  }
  return niceStep(span, 4);
}

function niceTimeStep(span: number): number {
  for (const s of [60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400]) {
    if (span / s <= 8) return s;
  }
  return 86_400 * Math.ceil(span / 86_400 / 8);
}

export function svgDocument(w: number, h: number, body: string, background = "#111217"): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">\n<rect width="${w}" height="${h}" fill="${background}"/>\n${body}\n</svg>\n`;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

function toPng(svgPath: string, pngPath: string): void {
  const r = spawnSync("rsvg-convert", ["-f", "png", "-o", pngPath, svgPath], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(`rsvg-convert failed (apt-get install librsvg2-bin): ${r.error?.message ?? r.stderr}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      range: { type: "string", default: "1h" },
      end: { type: "string" },
      "rate-interval": { type: "string" },
      dashboard: { type: "string", default: join(ROOT, "deploy", "grafana", "trailstream-overview.json") },
      out: { type: "string", default: join(ROOT, "docs", "images") },
      prefix: { type: "string" },
      width: { type: "string", default: "1600" },
    },
  });
  const env = process.env;
  const url = env.PROMETHEUS_URL;
  if (!url) throw new Error("set PROMETHEUS_URL to a Prometheus that scrapes the trailstream services");
  const range = parseDuration(values.range);
  const endText = values.end;
  const end = endText
    ? /^\d+(\.\d+)?$/.test(endText)
      ? Number(endText)
      : Date.parse(endText) / 1000
    : Math.floor(Date.now() / 1000);
  if (!Number.isFinite(end)) throw new Error(`--end: not a time: ${endText}`);
  const start = end - range;
  const step = Math.max(1, Math.round(range / 240));
  const rateInterval = values["rate-interval"] ?? promDuration(Math.max(60, 4 * step));
  const dashboard = JSON.parse(readFileSync(values.dashboard, "utf8")) as {
    uid: string;
    title: string;
    panels: Panel[];
  };
  const prefix = values.prefix ?? dashboard.uid.replace(/^trailstream-/, "");

  try {
    const build = await fetch(`${url.replace(/\/$/, "")}/api/v1/status/buildinfo`);
    if (!build.ok) throw new Error(`HTTP ${build.status}`);
  } catch (error) {
    throw new Error(`no Prometheus answers at ${url}: ${(error as Error).message}`);
  }

  const data: PanelData[] = [];
  let errors = 0;
  for (const panel of dashboard.panels) {
    if (panel.type === "row" || !panel.targets?.length) continue;
    const d: PanelData = { panel, series: [] };
    for (const t of panel.targets) {
      const expr = substitute(t.expr, range, rateInterval, step);
      try {
        for (const s of await queryRange(url, expr, start, end, step)) {
          d.series.push({ ...s, name: legend(t.legendFormat, JSON.parse(s.name) as Record<string, string>) });
        }
      } catch (error) {
        d.error = (error as Error).message;
        errors++;
        console.error(`[pictures] ${panel.title}: ${expr}: ${d.error}`);
      }
    }
    data.push(d);
  }

  const outDir = resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "trailstream-pictures-"));
  const written: string[] = [];
  try {
    // Each panel on its own.
    for (const d of data) {
      const file = join(outDir, `${prefix}-${slug(d.panel.title)}.png`);
      const svg = join(tmp, `${slug(d.panel.title)}.svg`);
      writeFileSync(svg, svgDocument(800, 320, panelSvg(d, 0, 0, 800, 320, start, end)));
      toPng(svg, file);
      written.push(file);
      const n = d.series.filter((s) => s.points.length > 0).length;
      console.error(`[pictures] ${relative(process.cwd(), file)}: ${n ? `${n} series` : "no data"}`);
    }
    // The whole dashboard, laid out as Grafana lays it out (24 columns, rows of 30 px).
    const width = Number(values.width);
    const col = width / 24;
    const rowH = 34;
    const gap = 6;
    const parts: string[] = [];
    let bottom = 0;
    const header = 44;
    parts.push(
      `<text x="12" y="28" font-family="${FONT}" font-size="18" font-weight="bold" fill="#d8d9da">${esc(dashboard.title)}</text>`,
      `<text x="${width - 12}" y="28" text-anchor="end" font-family="${FONT}" font-size="12" fill="#9fa7b3">${esc(`${new Date(start * 1000).toISOString().slice(0, 16)}Z – ${new Date(end * 1000).toISOString().slice(0, 16)}Z`)}</text>`,
    );
    for (const panel of dashboard.panels) {
      const g = panel.gridPos;
      if (!g) continue;
      const x = g.x * col + gap / 2;
      const y = header + g.y * rowH + gap / 2;
      const w = g.w * col - gap;
      const h = g.h * rowH - gap;
      bottom = Math.max(bottom, y + h + gap);
      if (panel.type === "row") {
        parts.push(
          `<text x="${x + 4}" y="${y + 20}" font-family="${FONT}" font-size="15" font-weight="bold" fill="#d8d9da">${esc(panel.title)}</text>`,
        );
        continue;
      }
      const d = data.find((p) => p.panel === panel);
      if (d) parts.push(panelSvg(d, x, y, w, h, start, end));
    }
    const svg = join(tmp, "dashboard.svg");
    writeFileSync(svg, svgDocument(width, Math.ceil(bottom), parts.join("\n")));
    const file = join(outDir, `${prefix}.png`);
    toPng(svg, file);
    written.push(file);
    console.error(`[pictures] ${relative(process.cwd(), file)}: the whole dashboard`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const empty = data.filter((d) => !d.error && d.series.every((s) => s.points.length === 0)).length;
  console.error(
    `[pictures] ${written.length} pictures from ${url}, ${clock(start)}–${clock(end)} UTC; ${empty} panels without data, ${errors} query errors`,
  );
  if (errors > 0) process.exitCode = 1;
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`[pictures] ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
