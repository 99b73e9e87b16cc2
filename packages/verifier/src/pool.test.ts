import { afterAll, describe, expect, it } from "vitest";
import { CASES, responseOf } from "./cases/index.js";
import { closeSharedPool, reward, verify, VerifierPool } from "./index.js";

describe("worker pool", () => {
  const pool = new VerifierPool({ size: 2, timeoutMs: 5_000 });
  afterAll(async () => {
    await pool.close();
    await closeSharedPool();
  });

  it("answers pathological inputs within their limit (≤ 6 s each)", async () => {
    const cases = CASES.pathological!;
    const timed = await Promise.all(
      cases.map(async (c) => {
        const start = performance.now();
        const result = await pool.verify(responseOf(c), c.gold);
        return { why: c.why, expected: c.correct, got: result.correct, reason: result.reason, ms: performance.now() - start };
      }),
    );
    for (const t of timed) {
      expect({ why: t.why, verdict: t.got }).toEqual({ why: t.why, verdict: t.expected });
      expect(t.ms).toBeLessThan(6_000);
    }
  });

  it("kills an overrunning verification, reports timeout and keeps serving", async () => {
    const slow = await pool.verify("\\boxed{\\frac{\\sqrt6-\\sqrt2}{4}}", "\\sin\\frac{\\pi}{12}", { timeoutMs: 1 });
    expect(slow).toMatchObject({ correct: false, reason: "timeout" });
    const next = await pool.verify("\\boxed{\\frac12}", "0.5");
    expect(next.correct).toBe(true);
  });

  it("verifies a batch in input order", async () => {
    const pairs = Array.from({ length: 200 }, (_, i) => ({ response: `\\boxed{${i}}`, gold: String(i % 2 === 0 ? i : i + 1) }));
    const results = await pool.verifyBatch(pairs);
    expect(results.map((r) => r.correct)).toEqual(pairs.map((_, i) => i % 2 === 0));
  });

  it("posts a batch to the workers up front: they grade it while the main thread is busy", async () => {
    const pairs = Array.from({ length: 40 }, (_, i) => ({ response: `\\boxed{${i}}`, gold: String(i % 3 === 0 ? i : i + 1) }));
    // the test above kills a worker (timeout): wait for its replacement to start, so the block
    // below only has to cover the grading (milliseconds), not a start-up
    await pool.whenReady();
    let settled = 0;
    const results = pairs.map((p) => pool.verify(p.response, p.gold).then((r) => (settled++, r)));
    // block the main thread (as the trainer's synchronous scoring does): with one task per
    // worker at a time, only the first two could be graded meanwhile, however long it blocks.
    // 1.5 s: far above the grading time, and below the event-loop guard's 3 s
    const until = Date.now() + 1_500;
    while (Date.now() < until);
    await new Promise((r) => setImmediate(r)); // one turn of the event loop: the answers are waiting
    expect(settled).toBe(40);
    expect((await Promise.all(results)).map((r) => r.correct)).toEqual(pairs.map((_, i) => i % 3 === 0));
  });

  it("an overrun fails only its own task; the ones queued behind it on that worker are re-sent", async () => {
    const one = new VerifierPool({ size: 1, timeoutMs: 5_000 });
    try {
      await one.verify("\\boxed{1}", "1"); // started
      const slow = one.verify("\\boxed{\\frac{\\sqrt6-\\sqrt2}{4}}", "\\sin\\frac{\\pi}{12}", { timeoutMs: 1 });
      const after = Array.from({ length: 5 }, (_, i) => one.verify(`\\boxed{${i}}`, String(i)));
      expect(await slow).toMatchObject({ correct: false, reason: "timeout" });
      for (const r of await Promise.all(after)) expect(r).toMatchObject({ correct: true });
    } finally {
      await one.close();
    }
  });

  it("gives up cleanly when workers cannot start (heap too small for the engine)", async () => {
    const tiny = new VerifierPool({ size: 1, maxHeapMb: 8, timeoutMs: 5_000 });
    try {
      const results = await Promise.all([tiny.verify("\\boxed{1}", "1"), tiny.verify("\\boxed{2}", "2")]);
      for (const r of results) expect(r.reason).toBe("worker-error");
      await expect(tiny.verify("\\boxed{1}", "1")).rejects.toThrow(/failed to start/);
    } finally {
      await tiny.close();
    }
  });

  it("verify() and reward() use the shared pool with the paper's values", async () => {
    expect((await verify("\\boxed{12.8}", "\\frac{64}{5}")).correct).toBe(true);
    expect(await reward("\\boxed{12.8}", "\\frac{64}{5}")).toBe(1);
    expect(await reward("\\boxed{13}", "\\frac{64}{5}")).toBe(0);
    expect(await reward("no box", "5", { formatReward: 0.1 })).toBe(0);
    expect(await reward("\\boxed{4}", "5", { formatReward: 0.1 })).toBe(0.1);
  });

  it("rejects work after close", async () => {
    const p = new VerifierPool({ size: 1 });
    await p.close();
    await expect(p.verify("\\boxed{1}", "1")).rejects.toThrow(/closed/);
  });
});
