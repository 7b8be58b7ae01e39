/**
 * Process statistics from /proc (Linux only) for the benchmark: CPU seconds
 * and memory of one process or of a whole process tree.
 *
 * Contract:
 * - `cpuOfTree(root)` returns the CPU seconds (user+sys) consumed so far by
 *   `root` and every live descendant, PLUS the children they have already
 *   reaped (`cutime`/`cstime` of /proc/PID/stat, proc(5)). For a daemon
 *   family like Postfix, whose master reaps every service process it forks,
 *   the difference of two readings is therefore the CPU the whole instance
 *   spent in between, including processes that started and exited meanwhile.
 *   (A process that dies between the /proc scan and the read of its file is
 *   missed in that one reading; the master's cutime picks it up in the next.)
 * - `rssOfTree(root)` sums VmRSS (bytes) over the tree now, `pssOfTree`
 *   sums PSS (shared pages divided among their users); `peakRss(pid)` is
 *   VmHWM of one process (its high-water mark since it started).
 * - `machineStealSeconds()` is the CPU time the hypervisor has given to
 *   other guests while this machine's CPUs wanted to run (the `steal`
 *   column of /proc/stat, proc(5)), summed over CPUs since boot: NaN where
 *   the kernel does not report it. On a shared VM this is time in which
 *   every process here stalled, whatever it was doing.
 * - Unreadable or vanished processes count as zero; nothing throws except a
 *   missing /proc (not Linux), which is a bad environment for this bench.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcCpu {
  /** clock ticks */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  ppid: number;
}

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The `steal` column (8th number) of the `cpu` line of /proc/stat, in ticks; NaN if absent. */
export function parseSteal(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  const steal = line?.trim().split(/\s+/)[8];
  return steal === undefined ? NaN : Number(steal);
}

export function machineStealSeconds(): number {
  try {
    return parseSteal(readFileSync('/proc/stat', 'utf8')) / clockTicks();
  } catch {
    return NaN;
  }
}

/** Parses /proc/PID/stat; the command name may contain spaces and parentheses. */
export function parseStat(text: string): ProcCpu | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields after "(comm)": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
  const f = text.slice(close + 2).trim().split(/\s+/);
  const num = (fieldNo: number): number => Number(f[fieldNo - 3] ?? 0);
  return { ppid: num(4), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17) };
}

export function readStat(pid: number): ProcCpu | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every live pid whose parent chain reaches `root` (root included, if alive). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) parent.set(Number(name), st.ppid);
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    for (let hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
      p = parent.get(p);
    }
  }
  return out;
}

/** CPU seconds so far of `root`'s tree, reaped children included (see header). */
export function cpuOfTree(root: number): number {
  let ticks = 0;
  for (const pid of descendants(root)) {
    const st = readStat(pid);
    if (st) ticks += st.utime + st.stime + st.cutime + st.cstime;
  }
  return ticks / clockTicks();
}

/** CPU seconds so far of one process (user+sys, its own threads). */
export function cpuOfProcess(pid: number): number {
  const st = readStat(pid);
  return st ? (st.utime + st.stime) / clockTicks() : 0;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** VmHWM (peak resident set) of one process, bytes. */
export function peakRss(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Sum of VmRSS over `root`'s tree, bytes. */
export function rssOfTree(root: number): number {
  let sum = 0;
  for (const pid of descendants(root)) sum += statusField(pid, 'VmRSS');
  return sum;
}

/**
 * Sum of PSS (proportional set size, /proc/PID/smaps_rollup) over `root`'s
 * tree, bytes: shared pages (libraries, shared memory) are divided among the
 * processes that map them, so a many-process daemon is not counted many
 * times over, as a sum of RSS would.
 */
export function pssOfTree(root: number): number {
  let sum = 0;
  for (const pid of descendants(root)) {
    try {
      const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      sum += m ? Number(m[1]) * 1024 : 0;
    } catch {
      /* gone */
    }
  }
  return sum;
}

/** Samples `pssOfTree(root)` every `everyMs` until stopped; `stop()` returns the maximum seen. */
export function sampleTreePss(root: number, everyMs = 500): { stop(): number } {
  let max = pssOfTree(root);
  let stopped = false;
  const timer = setInterval(() => {
    max = Math.max(max, pssOfTree(root));
  }, everyMs);
  timer.unref();
  return {
    stop() {
      if (!stopped) max = Math.max(max, pssOfTree(root));
      stopped = true;
      clearInterval(timer);
      return max;
    },
  };
}
