/**
 * Reading another process's CPU time and memory from /proc (Linux). The steadiest figure on a shared
 * machine is the proxy's own CPU time per request: wall-clock rates move with whatever else runs, CPU
 * time spent per request mostly does not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Kernel clock ticks per second (utime/stime unit), usually 100. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      // getconf missing: Linux has used USER_HZ = 100 on every common architecture for decades.
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function statMicros(path: string): number {
  const stat = readFileSync(path, 'latin1');
  // "PID (comm) STATE ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) of proc(5); index 0 here is field 3 (state).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicks();
}

/** User + system CPU time of a process (all its threads) in microseconds, from /proc/PID/stat. */
export function cpuMicros(pid: number): number {
  return statMicros(`/proc/${pid}/stat`);
}

/**
 * CPU time of the process's main thread alone (the JavaScript event loop). The rest of
 * `cpuMicros` went to other threads: V8's garbage collector and compiler, libuv's pool (file
 * writes, crypto). Node names them all "node", so only main vs others can be told apart.
 */
export function mainThreadCpuMicros(pid: number): number {
  return statMicros(`/proc/${pid}/task/${pid}/stat`);
}

/** Resident set size of a process in bytes, from /proc/PID/status (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** This process's own CPU time (all threads) in microseconds. */
export function selfCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** A CPU meter over a window: `const stop = cpuWindow(read); …; const usedMicros = stop();`. */
export function cpuWindow(read: () => number): () => number {
  const start = read();
  return () => read() - start;
}
