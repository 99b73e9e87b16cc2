import { describe, expect, it } from "vitest";
import { CASES, responseOf } from "./cases/index.js";
import { verifySync } from "./verify.js";

const total = Object.values(CASES).reduce((n, cs) => n + cs.length, 0);

describe("case table", () => {
  it("has at least 300 cases", () => expect(total).toBeGreaterThanOrEqual(300));
  for (const [category, cases] of Object.entries(CASES)) {
    if (category === "pathological") continue; // run through the worker pool in pool.test.ts
    describe(category, () => {
      it.each(cases.map((c) => [c.why, c] as const))("%s", (_why, c) => {
        const result = verifySync(responseOf(c), c.gold);
        expect({ verdict: result.correct, reason: result.reason, extracted: result.extracted }).toMatchObject({ verdict: c.correct });
      });
    });
  }
});
