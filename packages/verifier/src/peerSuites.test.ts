// The held-out peer-suite cases: well-formed records, and the bench's report over them.
import { describe, expect, it } from "vitest";
import { peerSuiteAgreement } from "./bench/agreement.js";
import { PEER_CASES } from "./cases/peerSuites.js";

describe("peer-suite cases", () => {
  it("every record names its source and a kind that matches its verdict and framing", () => {
    expect(PEER_CASES.length).toBeGreaterThan(100);
    for (const c of PEER_CASES) {
      expect(c.source).toMatch(/^[\w.-]+\/[\w.-]+ \S+/);
      expect(c.gold.length).toBeGreaterThan(0);
      if (!c.expected) expect(c.kind).toBe("negative");
      else expect(c.kind).toBe(c.response.includes("\\boxed") ? "boxed" : "free-text");
    }
  });

  it("the report counts every case once per grader", async () => {
    const r = await peerSuiteAgreement();
    const total = r.cases.boxed + r.cases["free-text"] + r.cases.negative;
    expect(total).toBe(PEER_CASES.length);
    for (const g of ["boxed", "qwen-math"] as const) {
      const k = r.graders[g].byKind;
      expect(k.boxed.cases + k["free-text"].cases + k.negative.cases).toBe(total);
      expect(r.graders[g].falseAccepts).toBe(k.negative.cases - k.negative.agree);
    }
  });
});
