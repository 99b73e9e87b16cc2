// The run folder's lock: one trainer owns a run folder at a time. The lock is a file created
// with O_EXCL holding the owner's pid, host and start time. A lock left by a crashed trainer
// (same host, pid no longer running) is taken over; one held by a live process, or by a process
// on another host (which cannot be checked from here), is an error naming the holder.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

import { RunFileError, fsErrorMessage } from "./runFiles.js";

export const LOCK_FILE = "rlvr.lock";

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** Random per acquisition: release removes only the lock it created. */
  token: string;
}

/** The run folder is owned by another trainer. */
export class RunLockedError extends Error {
  override name = "RunLockedError";
  constructor(
    message: string,
    readonly path: string,
    readonly holder: LockInfo | null,
  ) {
    super(message);
  }
}

export interface RunLock {
  path: string;
  info: LockInfo;
  /** The stale lock this one replaced, if any. */
  tookOver: LockInfo | null;
  release(): void;
}

/** Whether a process with this pid runs on this machine. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as LockInfo;
    return Number.isInteger(v.pid) && typeof v.host === "string" ? v : null;
  } catch {
    return null;
  }
}

function createExclusive(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new RunFileError(fsErrorMessage(e, path, "create the run lock"), path, (e as NodeJS.ErrnoException).code);
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

const describe = (h: LockInfo) => `pid ${h.pid} on host ${h.host} (since ${h.startedAt})`;

/**
 * Takes the lock of `runDir` or throws RunLockedError. A lock file that cannot be parsed (a crash
 * between its creation and its write) counts as stale once it is older than a minute.
 */
export function acquireRunLock(runDir: string): RunLock {
  const path = join(runDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: randomBytes(8).toString("hex") };
  let tookOver: LockInfo | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, info)) return makeLock(path, info, tookOver);
    const holder = readLock(path);
    const stale = holder
      ? holder.host === info.host && !pidAlive(holder.pid)
      : ageSeconds(path) > 60;
    if (!stale) {
      const who = holder ? describe(holder) : "a trainer that is starting";
      const fix = holder && holder.host !== info.host
        ? `if that process is no longer running, delete ${path}`
        : holder
          ? `wait for it to finish or stop it (kill ${holder.pid}), or choose another --out; if pid ${holder.pid} is not an rlvr trainer (a crash left the lock and the pid was reused), delete ${path}`
          : `wait a moment and retry, or choose another --out`;
      throw new RunLockedError(`run folder ${runDir} is in use by ${who}: ${fix}`, path, holder);
    }
    // a stale lock: move it aside atomically (only one contender's rename succeeds), then check
    // that what was moved is the stale lock we read and not a fresh one that replaced it
    const aside = join(runDir, `.${LOCK_FILE}.stale-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it; try again
    }
    const moved = readLock(aside);
    if (holder && moved?.token !== holder.token) {
      // we moved a live lock that replaced the stale one in between: put it back and give up
      try {
        renameSync(aside, path);
      } catch {
        // leave it aside; its owner still holds the folder in its own view
      }
      throw new RunLockedError(`run folder ${runDir} is in use by ${moved ? describe(moved) : "another trainer"}: wait for it to finish or choose another --out`, path, moved);
    }
    rmSync(aside, { force: true });
    tookOver = holder;
  }
  throw new RunLockedError(`run folder ${runDir}: could not take the lock ${path} (other trainers keep taking it); choose another --out`, path, null);
}

function ageSeconds(path: string): number {
  try {
    return (Date.now() - statSync(path).mtimeMs) / 1000;
  } catch {
    return Infinity;
  }
}

function makeLock(path: string, info: LockInfo, tookOver: LockInfo | null): RunLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    // remove only our own lock (never one another trainer took over after a mistake)
    if (readLock(path)?.token === info.token) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  // a process.exit() (a second Ctrl-C) still releases the folder
  process.on("exit", release);
  return { path, info, tookOver, release };
}
