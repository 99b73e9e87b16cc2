/**
 * The event-loop guard's limit (loopGuard.ts): a base stated in the time of a reference machine,
 * scaled by how slow this machine runs plain JavaScript right now, so that a loaded machine does
 * not fail the guard by itself.
 */
import { availableParallelism, loadavg } from "node:os";

/** Longest block a test file may hold its worker's event loop, on the reference machine. */
export const BASE_LIMIT_MS = 3000;
/** The scaled limit never grows past this many times the base (10 x 3 s is half of vitest's 60 s). */
export const MAX_SLOWDOWN = 10;

// Median time of calibrationLoop() on the reference machine (AMD EPYC, AVX-512, 2 cores, idle).
const REFERENCE_LOOP_MS = 2.5;

function calibrationLoop(): number {
  let x = 1;
  for (let i = 0; i < 2_000_000; i++) x = (Math.imul(x, 1664525) + 1013904223) | 0;
  return x;
}

/** How many times slower than the reference machine this one runs plain JavaScript now (median of 7). */
export function slowdown(): number {
  calibrationLoop(); // let the JIT compile it
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = process.hrtime.bigint();
    calibrationLoop();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[3]! / REFERENCE_LOOP_MS;
}

/**
 * How oversubscribed the cores are: the 1-minute load average per core. A lone JavaScript loop
 * (slowdown()) still gets a whole core beside one busy process on a 2-core machine, while the
 * native kernels' threads (a pool as wide as the machine) share them: this catches that.
 */
export function coreContention(): number {
  const cores = availableParallelism();
  return cores > 0 ? loadavg()[0]! / cores : 1;
}

/** The limit in ms for a measured slowdown; RLVR_LOOP_GUARD_MS replaces the base (the guard's own test sets it). */
export function limitMs(slow: number, base = Number(process.env.RLVR_LOOP_GUARD_MS ?? BASE_LIMIT_MS)): number {
  if (!Number.isFinite(base) || base <= 0) {
    throw new Error(`RLVR_LOOP_GUARD_MS must be a positive number of milliseconds (got "${process.env.RLVR_LOOP_GUARD_MS}")`);
  }
  return base * Math.min(Math.max(slow, 1), MAX_SLOWDOWN);
}
