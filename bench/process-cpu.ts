// CPU time of the processes on this machine, from /proc (Linux). On shared cores the CPU a process
// used moves far less than its rate, and who else used the cores explains a latency tail: the
// benches report both.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** USER_HZ: 100 on every Linux this runs on (the kernel reports /proc times in it). */
const CLOCK_TICKS = 100;

/** utime + stime of a process (every thread), seconds; 0 when it is gone or not on Linux. */
export function cpuSecondsOf(pid: number | undefined): number {
  return pid === undefined ? 0 : cpuSecondsIn(`/proc/${pid}/stat`);
}

/** utime + stime from a /proc stat file (a process's or a thread's), seconds; 0 when it is gone. */
function cpuSecondsIn(statPath: string): number {
  let stat: string;
  try {
    stat = readFileSync(statPath, "utf8");
  } catch {
    return 0;
  }
  // The fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS || 0;
}

/** This process's threads so far: each one's id, name (comm) and CPU seconds. */
export function ownThreads(): { tid: number; name: string; seconds: number }[] {
  const threads: { tid: number; name: string; seconds: number }[] = [];
  for (const tid of readdirSync("/proc/self/task")) {
    let name = "";
    try {
      name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
    } catch {
      continue; // a thread that ended meanwhile
    }
    threads.push({ tid: Number(tid), name, seconds: cpuSecondsIn(`/proc/self/task/${tid}/stat`) });
  }
  return threads;
}

export interface ProcessInfo {
  pid: number;
  /** The arguments, joined by spaces. */
  cmdline: string;
  /** The working directory; "" when it cannot be read. */
  cwd: string;
}

/** The processes `test` accepts, of those this user may read. */
export function processesWhere(test: (p: ProcessInfo) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {}
      if (test({ pid: Number(entry), cmdline, cwd })) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** The Kafka brokers' processes (the stack runs one plain and one SASL broker). */
export const kafkaBrokers = (): number[] => processesWhere((p) => p.cmdline.includes("kafka.Kafka"));

/** The machine's CPU seconds so far, busy and in all, summed over its cores (/proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are the cores' idle time.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/** The share of the machine's CPU time that was busy between two readings of machineCpuSeconds. */
export function busyShare(before: { busy: number; total: number }, after: { busy: number; total: number }): number {
  return (after.busy - before.busy) / Math.max(1e-9, after.total - before.total);
}

/**
 * The cores each named group of processes used between `start()` and `stop()`: CPU seconds over
 * wall seconds, so 0.30 is 30 % of one core. Groups are looked up at start.
 */
export function cpuShares(groups: Record<string, number[]>): {
  stop(): { shares: Record<string, number>; machineBusy: number };
} {
  const sum = (pids: number[]) => pids.reduce((s, pid) => s + cpuSecondsOf(pid), 0);
  const before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, sum(pids)]));
  const machineBefore = machineCpuSeconds();
  const began = performance.now();
  return {
    stop() {
      const wall = (performance.now() - began) / 1_000;
      const shares = Object.fromEntries(
        Object.entries(groups).map(([name, pids]) => [name, (sum(pids) - (before[name] ?? 0)) / wall]),
      );
      return { shares, machineBusy: busyShare(machineBefore, machineCpuSeconds()) };
    },
  };
}
