/**
 * Event-loop guard, a vitest setup file that every package's config loads (vitest.shared.ts).
 *
 * A vitest worker answers the main process over RPC on its event loop, and the main process gives
 * up after 60 s ("Timeout calling onTaskUpdate"): a test file that holds the loop that long fails
 * the run although every test passed. CI machines are shared and can run 10-20x slower than a
 * developer's, so the guard fails a file whose longest block is over a limit far below 60 s
 * (60 / 20 = 3 s of an unloaded machine's time), which catches a synchronous child process or a
 * long native call on a developer's machine before it bites on a slow one.
 *
 * The limit is stated in the time of a reference machine and scaled by how slow this machine is
 * right now (slowdown(), measured when the file starts and when it ends, the larger kept), so the
 * guard itself does not fail because a machine is loaded: limit = base x clamp(slowdown, 1, 10),
 * the slowdown being the larger of a JavaScript loop's and the cores' load per core.
 * It also gives the loop a turn after every test, so a block is one test's, never a whole file's.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, afterEach, expect } from "vitest";

import { coreContention, limitMs, slowdown } from "./loopLimit.js";

const startSlowdown = slowdown();
// resolution 10 ms: the sampling timer itself costs next to nothing, and blocks that matter are seconds long
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

// Vitest runs one synchronous test after another without a turn of the event loop, so a file of
// many short synchronous tests (native calls) held the loop as long as the whole file: give the
// loop a turn after each test, so that only one test at a time can block it.
// The turn also records each test's own block, so the report can name the test that held it.
let worstTest = { ms: 0, name: "(loading the file)" };
let lastMax = 0;
afterEach(async () => {
  const name = expect.getState().currentTestName ?? "(unnamed test)";
  await new Promise<void>((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 11)); // one sampling tick: the block just ended is recorded
  const max = delay.max / 1e6;
  if (max > lastMax) {
    if (max > worstTest.ms) worstTest = { ms: max, name };
    lastMax = max;
  }
});

afterAll(async () => {
  // a block just before this hook is recorded only when the sampling timer next fires
  await new Promise((r) => setTimeout(r, 30));
  delay.disable();
  const worstMs = delay.max / 1e6;
  const slow = Math.max(startSlowdown, slowdown(), coreContention());
  const limit = limitMs(slow);
  const where = worstMs > worstTest.ms ? "(loading the file or a hook)" : `in "${worstTest.name}"`;
  const line = `longest event-loop block ${worstMs.toFixed(0)} ms ${where} (limit ${limit.toFixed(0)} ms at slowdown ${slow.toFixed(2)})`;
  if (process.env.RLVR_LOOP_GUARD_LOG) console.log(`[loop guard] ${line}`);
  if (worstMs > limit) {
    throw new Error(
      `[loop guard] this test file blocked its worker's event loop too long: ${line}. Vitest's RPC gives up after 60 s and ` +
        `CI machines can be 20x slower: run child processes with async spawn/execFile, and split long synchronous work ` +
        `(see packages/testing/README.md)`,
    );
  }
});
