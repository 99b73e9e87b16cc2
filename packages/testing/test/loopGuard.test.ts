/**
 * The event-loop guard (src/loopGuard.ts) on two fixtures run by a child vitest, with the base limit
 * lowered to 200 ms: a file that holds the loop for 2.5 s at a stretch must fail with the guard's
 * message, and a file that spends the same time in 10 ms slices must pass. 2.5 s is above the
 * largest limit the guard can scale to here (200 ms x MAX_SLOWDOWN 10), so a loaded machine cannot
 * make the first file pass; the slices stay far under 200 ms however slow the machine.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { limitMs, MAX_SLOWDOWN, slowdown } from "../src/loopLimit.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const vitestBin = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

interface JsonReport {
  testResults: { name: string; status: string; message: string }[];
}

function runFixtures(): Promise<JsonReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [vitestBin, "run", "--root", fixtures, "--reporter=json"],
      { env: { ...process.env, RLVR_LOOP_GUARD_MS: "200", FIXTURE_BLOCK_MS: "2500", RLVR_LOOP_GUARD_LOG: "" }, maxBuffer: 16 << 20 },
      // vitest exits 1 when a file fails, which is what this test expects: read the report either way
      (err, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as JsonReport);
        } catch {
          reject(new Error(`child vitest printed no JSON report (${err?.message ?? "exit 0"}):\n${stderr.slice(-2000)}`));
        }
      },
    );
  });
}

describe("event-loop guard", () => {
  it("fails a file that holds the loop past the limit, and passes one that does the same work in slices", async () => {
    const report = await runFixtures();
    const byFile = Object.fromEntries(report.testResults.map((r) => [r.name.split("/").at(-1), r]));
    expect(byFile["blocks.fixture.ts"]?.status).toBe("failed");
    expect(byFile["blocks.fixture.ts"]?.message).toMatch(/^\[loop guard\] this test file blocked its worker's event loop too long: longest event-loop block \d+ ms/);
    expect(byFile["yields.fixture.ts"]?.status, byFile["yields.fixture.ts"]?.message).toBe("passed");
  }, 120_000);

  it("scales the base limit by the measured slowdown, between 1x and MAX_SLOWDOWN", () => {
    expect(limitMs(0.5, 3000)).toBe(3000);
    expect(limitMs(2.5, 3000)).toBe(7500);
    expect(limitMs(1e6, 3000)).toBe(3000 * MAX_SLOWDOWN);
    expect(() => limitMs(1, Number.NaN)).toThrow(/RLVR_LOOP_GUARD_MS/);
    const s = slowdown();
    expect(s).toBeGreaterThan(0);
    expect(Number.isFinite(s)).toBe(true);
  });
});
