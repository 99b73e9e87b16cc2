/**
 * The CPU engine gives bitwise the same results at every thread count (1 to 4, also more
 * threads than this machine's cores): each output element has one fixed reduction order, and
 * the thread pool (native/src/kernels/cpu/parallel.cpp: spinning workers, a seqlock'd region
 * hand-off; also with spinning off, RLVR_SPIN_US=0) runs each part of each parallel region exactly once even when a worker not needed
 * by one region lags into the next. Each count runs in a child process (the pool is sized when
 * the addon loads) over the same workload (test/child/threadsRun.mjs); a hash of every output's
 * bits is compared.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

const child = join(dirname(fileURLToPath(import.meta.url)), "child", "threadsRun.mjs");
const execFileAsync = promisify(execFile);
// asynchronous, so the worker's event loop stays free while the child runs
const run = async (threads: number, spinUs?: number) =>
  (JSON.parse(
    (
      await execFileAsync(process.execPath, [child], {
        env: { ...process.env, RLVR_NUM_THREADS: String(threads), ...(spinUs !== undefined ? { RLVR_SPIN_US: String(spinUs) } : {}) },
        encoding: "utf8",
      })
    ).stdout,
  ) as { hash: number }).hash;

describe("thread count does not change any result", () => {
  it("score, forwardBackward, gradients, AdamW and decode: the same bits with 1, 2, 3 and 4 threads", async () => {
    const hashes: number[] = [];
    for (const t of [1, 2, 3, 4]) hashes.push(await run(t));
    expect(hashes.every((x) => x === hashes[0]), `hashes by thread count: ${hashes.join(", ")}`).toBe(true);
    // and with the pool's threads sleeping at once (RLVR_SPIN_US=0: every hand-off through the condition variables)
    expect([await run(2, 0), await run(4, 0)]).toEqual([hashes[0], hashes[0]]);
  });
});
