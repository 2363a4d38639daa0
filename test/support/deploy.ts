// Support for the deploy tests (chart, image, install on a real API server): installs the tools
// through deploy/tools/install (cached outside the work tree), runs them, parses what helm renders.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const CHART = join(ROOT, "deploy", "helm", "trailstream");
export const KUBE_VERSION = "1.33.0";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never throws for a non-zero exit (look at `code`). */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd ?? ROOT,
        env: options.env ?? process.env,
        maxBuffer: 256 * 1024 * 1024,
        timeout: options.timeoutMs ?? 10 * 60_000,
        killSignal: "SIGKILL",
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        if (error && typeof error.code !== "number" && !error.killed && error.signal === null) {
          fail(new Error(`${file}: ${error.message}`));
          return;
        }
        done({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a program and throws with its output unless it exits 0. */
export async function ok(
  file: string,
  args: readonly string[],
  options: Parameters<typeof run>[2] = {},
): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${r.code}\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  }
  return r.stdout;
}

const installed = new Map<string, Promise<Record<string, string>>>();

/**
 * Installs a group of tools (chart, image, kube; see deploy/tools/install) and returns their paths
 * by name. Cold installs take minutes once per machine; warm ones well under a second.
 */
export function tools(group: "chart" | "image" | "kube"): Promise<Record<string, string>> {
  let pending = installed.get(group);
  if (!pending) {
    pending = (async () => {
      const out = await ok(join(ROOT, "deploy", "tools", "install"), [group], { timeoutMs: 60 * 60_000 });
      const paths: Record<string, string> = {};
      for (const line of out.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) paths[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return paths;
    })();
    installed.set(group, pending);
  }
  return pending;
}

/** A tool's path, or an error naming what deploy/tools/install printed. */
export function need(paths: Record<string, string>, name: string): string {
  const path = paths[name];
  if (!path) throw new Error(`deploy/tools/install printed no path for ${name}`);
  return path;
}

interface YamlDocument {
  toJS(): unknown;
  errors: unknown[];
}
interface YamlLib {
  parseAllDocuments(text: string): YamlDocument[];
  parse(text: string): unknown;
  stringify(value: unknown): string;
}

let yamlLib: YamlLib | undefined;
/** The workspace's `yaml` package (a dependency of packages/rules; not hoisted to the root). */
export function yaml(): YamlLib {
  if (!yamlLib) {
    let found: YamlLib | undefined;
    for (const from of ["packages/rules/package.json", "package.json"]) {
      try {
        found = createRequire(join(ROOT, from))("yaml") as YamlLib;
        break;
      } catch {}
    }
    if (!found) throw new Error("the yaml package is not installed: run pnpm install");
    yamlLib = found;
  }
  return yamlLib;
}

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are arbitrary documents that tests dig into
type Loose = any;
/** A Kubernetes object as rendered, loosely typed for assertions. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: Loose };
  [k: string]: Loose;
};

export function parseManifests(text: string): Manifest[] {
  const docs: Manifest[] = [];
  for (const doc of yaml().parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${String(doc.errors[0])}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value as Manifest);
  }
  return docs;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `trailstream-${prefix}-`));
}

/** Writes values (an object, or YAML text) to a temporary file and returns its path. */
export function valuesFile(values: unknown, dir = tempDir("values")): string {
  const path = join(dir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, typeof values === "string" ? values : yaml().stringify(values));
  return path;
}

export interface Chart {
  helm: string;
  kubeconform: string;
  kubeSchemas: string;
  crdSchemas: string;
  crds: string;
  /** `helm template` with these values files and `--set`s; resolves to the result, code and all. */
  template(valuesFiles?: string[], sets?: string[], release?: string): Promise<Run>;
  /** `helm template`, parsed; throws with helm's message when the render fails. */
  render(valuesFiles?: string[], sets?: string[]): Promise<Manifest[]>;
  /** kubeconform -strict against the offline Kubernetes and CRD schemas. */
  validate(file: string): Promise<Run>;
}

export async function chart(): Promise<Chart> {
  const t = await tools("chart");
  const helm = need(t, "helm");
  const kubeconform = need(t, "kubeconform");
  const kubeSchemas = need(t, "kube_schemas");
  const crdSchemas = need(t, "crd_schemas");
  const crds = need(t, "crds");
  const template = (valuesFiles: string[] = [], sets: string[] = [], release = "ts") =>
    run(helm, [
      "template",
      release,
      CHART,
      "--namespace",
      "trailstream",
      "--kube-version",
      KUBE_VERSION,
      ...valuesFiles.flatMap((f) => ["-f", f]),
      ...sets.flatMap((s) => ["--set", s]),
    ]);
  return {
    helm,
    kubeconform,
    kubeSchemas,
    crdSchemas,
    crds,
    template,
    async render(valuesFiles = [], sets = []) {
      const r = await template(valuesFiles, sets);
      if (r.code !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
      return parseManifests(r.stdout);
    },
    validate(file: string) {
      return run(kubeconform, [
        "-strict",
        "-summary",
        "-kubernetes-version",
        KUBE_VERSION,
        "-schema-location",
        `${kubeSchemas}/{{ .NormalizedKubernetesVersion }}-local-strict/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
        "-schema-location",
        `${crdSchemas}/{{ .Group }}_{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
        file,
      ]);
    },
  };
}

/** Every pod spec in a render (Deployments here), with the owning object's kind and name. */
export function podSpecs(manifests: Manifest[]): { owner: string; spec: Manifest["spec"] }[] {
  return manifests
    .filter((m) => ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(m.kind))
    .map((m) => ({
      owner: `${m.kind}/${m.metadata.name}`,
      spec: m.kind === "CronJob" ? m.spec.jobTemplate.spec.template.spec : m.spec.template.spec,
    }));
}

export function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function one(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    throw new Error(`no ${kind}/${name} in: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`);
  }
  return found;
}

export interface Image {
  archive: string;
  ref: string;
  /** podman with the storage build-offline uses (vfs, under the cache), runc, no pulls. */
  podman(args: readonly string[], options?: Parameters<typeof run>[2]): Promise<Run>;
  /** `podman run` flags that work on these machines: runc, lower ulimits than podman's defaults. */
  runFlags: string[];
}

/** Builds the image offline (deploy/image/build-offline; skipped when the sources are unchanged). */
export async function image(): Promise<Image> {
  const t = await tools("image");
  const podmanBin = need(t, "podman");
  const out = await ok(join(ROOT, "deploy", "image", "build-offline"), [], { timeoutMs: 20 * 60_000 });
  const field = (key: string) => {
    const line = out.split("\n").find((l) => l.startsWith(`${key}=`));
    if (!line) throw new Error(`build-offline printed no ${key}=`);
    return line.slice(key.length + 1);
  };
  const storage = [
    "--root",
    field("storage_root"),
    "--runroot",
    field("storage_runroot"),
    "--storage-driver",
    "vfs",
    "--runtime",
    need(t, "runc"),
  ];
  return {
    archive: field("archive"),
    ref: field("image"),
    podman: (args, options) => run(podmanBin, [...storage, ...args], options),
    runFlags: ["--pull=never", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"],
  };
}
