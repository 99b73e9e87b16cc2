// A pool of worker threads that verifies many pairs concurrently. Each verification has a
// hard wall-clock limit: a worker that overruns is terminated and replaced, and the
// verification counts as incorrect with reason "timeout". A worker that dies (out of
// memory, crash) is replaced the same way. Idle workers do not keep the process alive.
//
// Tasks are posted to the workers up front (each answers its own in order), not one per
// worker at a time: handing out the next task needs the main thread's event loop, and the
// trainer keeps that thread busy (synchronous log-prob scoring) right after handing over a
// batch, so with one task per worker only the first two were graded during that time.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { TaskMessage, WorkerMessage } from "./protocol.js";
import { checkTimeLimitMs } from "./timeLimit.js";
import type { VerifyOptions, VerifyResult } from "./verify.js";

export const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_FAILED_STARTS = 3;
/** Tasks posted to one worker and not yet answered, at most. */
const MAX_IN_FLIGHT = 512;

export interface PoolOptions {
  /** Worker threads (default: min(2, available cores)). */
  size?: number;
  /** Default hard limit per verification, ms (default 5000); VerifyOptions.timeoutMs overrides it. */
  timeoutMs?: number;
  /** Heap limit of each worker, MiB (default 512): a hostile input can exhaust only that. */
  maxHeapMb?: number;
}

export interface Pair {
  response: string;
  gold: string;
}

interface Task extends TaskMessage {
  resolve: (r: VerifyResult) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Tasks posted to this worker, in the order it answers them (the first is the one it is on). */
  inFlight: Task[];
  /** The first in-flight task's time limit. */
  timer: NodeJS.Timeout | null;
}

/**
 * Running from TypeScript sources (vitest), the worker must still be JavaScript: it is
 * taken from the package's dist/, which `pnpm build` produces (turbo builds before test).
 */
export function workerFile(): string {
  const here = import.meta.url;
  const url = here.endsWith(".ts") ? new URL("../dist/worker.js", here) : new URL("./worker.js", here);
  const file = fileURLToPath(url);
  if (!existsSync(file)) {
    throw new Error(`verifier worker not found at ${file}: run \`pnpm --filter @rlvr/verifier build\` first`);
  }
  return file;
}

/**
 * The result of a task its worker did not answer (time-out, dead worker, closed pool). It is
 * made on the main thread, so it does no verifier work at all: normalizing the gold here had
 * no time limit, and a long gold made a 1 s limit take minutes. goldParsed is empty.
 */
function failure(reason: VerifyResult["reason"]): VerifyResult {
  return { correct: false, extracted: null, goldParsed: "", reason };
}

/** The parent's node flags without the ones that make no sense for a worker: --input-type, and -e/-p with their code. */
export function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--input-type")) continue;
    if (a === "-e" || a === "--eval" || a === "-p" || a === "--print") {
      i++; // its code
      continue;
    }
    if (/^--(eval|print)=/.test(a)) continue;
    out.push(a);
  }
  return out;
}

export class VerifierPool {
  readonly size: number;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly file: string;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;
  /** Workers that died before they were ready, in a row; past the limit the pool gives up. */
  private failedStarts = 0;
  private startError: string | null = null;

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? Math.min(2, availableParallelism()));
    this.timeoutMs = checkTimeLimitMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "VerifierPool option timeoutMs");
    this.maxHeapMb = options.maxHeapMb ?? 512;
    this.file = workerFile();
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  verify(response: string, gold: string, options: VerifyOptions = {}): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new Error("VerifierPool is closed"));
    if (this.startError) return Promise.reject(new Error(this.startError));
    if (options.timeoutMs !== undefined) {
      try {
        checkTimeLimitMs(options.timeoutMs, "verify option timeoutMs");
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, response: String(response ?? ""), gold: String(gold ?? ""), options, resolve });
      this.dispatch();
    });
  }

  /** Resolves once every worker has started (its grading engine loaded); rejects if they cannot start. */
  async whenReady(): Promise<void> {
    while (!this.slots.every((s) => s.ready)) {
      if (this.startError) throw new Error(this.startError);
      if (this.closed) throw new Error("VerifierPool is closed");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  verifyBatch(pairs: readonly Pair[], options: VerifyOptions = {}): Promise<VerifyResult[]> {
    return Promise.all(pairs.map((p) => this.verify(p.response, p.gold, options)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.resolve(failure("worker-error"));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.timer) clearTimeout(slot.timer);
        for (const task of slot.inFlight.splice(0)) task.resolve(failure("worker-error"));
        slot.worker.removeAllListeners("exit");
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const worker = new Worker(this.file, {
      // workers inherit the parent's flags; those of `node --input-type=module -e CODE` stop them starting
      execArgv: workerExecArgv(process.execArgv),
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
    });
    const slot: Slot = { worker, ready: false, inFlight: [], timer: null };
    if (this.queue.length === 0) worker.unref();
    worker.on("message", (msg: WorkerMessage) => this.onMessage(slot, msg));
    worker.on("error", (err) => {
      if (!slot.ready) this.startError = `verifier worker failed to start: ${err.message}`;
      this.replace(slot, "worker-error");
    });
    worker.on("exit", () => this.replace(slot, "worker-error"));
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    if ("ready" in msg) {
      slot.ready = true;
      this.failedStarts = 0;
      this.startError = null;
    } else if (slot.inFlight[0] && msg.id === slot.inFlight[0].id) {
      const task = slot.inFlight.shift()!;
      this.arm(slot);
      task.resolve("result" in msg ? msg.result : failure("worker-error"));
    }
    this.dispatch();
  }

  /**
   * Starts the time limit of the slot's first in-flight task (the one its worker is on), or
   * lets an idle worker go. The limit counts from when that task became first, as seen by the
   * main thread; when it fires, results that arrived meanwhile are handled first (setImmediate
   * runs after the event loop's poll phase), so a busy main thread does not turn a finished
   * verification into a timeout.
   */
  private arm(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const head = slot.inFlight[0];
    if (!head) return;
    const limit = head.options.timeoutMs ?? this.timeoutMs;
    slot.timer = setTimeout(() => setImmediate(() => {
      if (slot.inFlight[0] === head) this.replace(slot, "timeout");
    }), limit);
  }

  /** Ends a slot's worker (overrun or death) and puts a fresh one in its place. */
  private replace(slot: Slot, reason: VerifyResult["reason"]): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already replaced
    // the task it was on fails; the ones posted after it go back to the front of the queue
    const [task, ...waiting] = slot.inFlight.splice(0);
    this.queue.unshift(...waiting);
    this.arm(slot);
    this.slots.splice(index, 1);
    slot.worker.removeAllListeners("exit");
    slot.worker.on("error", () => {}); // late errors of a worker being terminated
    void slot.worker.terminate();
    task?.resolve(failure(reason));
    if (!slot.ready && ++this.failedStarts >= MAX_FAILED_STARTS) {
      // Respawning would loop forever (a heap too small for the engine, a broken install).
      this.startError ??= "verifier worker failed to start";
      this.startError += ` (${this.failedStarts} times in a row; giving up)`;
      for (const queued of this.queue.splice(0)) queued.resolve(failure("worker-error"));
      this.updateRefs();
      return;
    }
    if (!slot.ready) this.startError = null;
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.dispatch();
    }
  }

  /**
   * Workers keep the process alive exactly while the pool has work (queued, or in flight on
   * them), so a program that only verifies ends by itself when it is done. unref() at spawn alone
   * did not hold: Node refs a worker's port again once it delivers messages, and the idle pool
   * kept the process alive forever (the README's verify() example never exited).
   */
  private updateRefs(): void {
    const waiting = this.queue.length > 0;
    for (const slot of this.slots) {
      if (slot.inFlight.length > 0 || (waiting && !this.closed)) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  /** Posts queued tasks to ready workers, each to the one with the fewest in flight. */
  private dispatch(): void {
    const ready = this.slots.filter((s) => s.ready);
    while (this.queue.length > 0 && ready.length > 0) {
      const slot = ready.reduce((a, b) => (b.inFlight.length < a.inFlight.length ? b : a));
      if (slot.inFlight.length >= MAX_IN_FLIGHT) break;
      const task = this.queue.shift()!;
      slot.inFlight.push(task);
      if (slot.inFlight.length === 1) this.arm(slot);
      const { resolve: _resolve, ...message } = task;
      slot.worker.postMessage(message);
    }
    this.updateRefs();
  }
}

let shared: VerifierPool | null = null;

/** The process-wide pool behind verify() and reward(); created on first use. */
export function sharedPool(): VerifierPool {
  shared ??= new VerifierPool();
  return shared;
}

export async function closeSharedPool(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.close();
}
