// Issue #17 items 4 and 5: time limits always hold. A limit of 2^31 ms or more used to become
// 1 ms (setTimeout clamps it), and a time-out used to normalize the gold again on the main
// thread with no limit (quadratic in its length: a 50,000-digit gold took 27 s at 1 s).
import { afterAll, describe, expect, it } from "vitest";
import { checkTimeLimitMs, InvalidTimeLimitError, MAX_TIMEOUT_MS, normalizeAnswer, VerifierPool, verifySync } from "./index.js";

describe("time limits are checked (1 <= t < 2^31 ms)", () => {
  it("accepts whole ms in range, numbers or numeric strings", () => {
    expect(checkTimeLimitMs(1, "--timeout")).toBe(1);
    expect(checkTimeLimitMs(MAX_TIMEOUT_MS, "--timeout")).toBe(2 ** 31 - 1);
    expect(checkTimeLimitMs("5000", "--timeout")).toBe(5000);
  });

  it.each([2 ** 31, 3_000_000_000, 0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "", "abc", "1e99", null, undefined, {}])(
    "refuses %s with a typed error naming the option and the range",
    (value) => {
      let error: unknown;
      try {
        checkTimeLimitMs(value, "reward.timeoutMs");
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidTimeLimitError);
      expect((error as Error).message).toMatch(/^reward\.timeoutMs must be a whole number of milliseconds from 1 to 2147483647/);
      expect((error as InvalidTimeLimitError).option).toBe("reward.timeoutMs");
    },
  );

  it("the pool refuses a default limit setTimeout would turn into 1 ms", () => {
    expect(() => new VerifierPool({ size: 1, timeoutMs: 3_000_000_000 })).toThrow(InvalidTimeLimitError);
    expect(() => new VerifierPool({ size: 1, timeoutMs: 0 })).toThrow(/VerifierPool option timeoutMs/);
  });

  describe("on a pool", () => {
    const pool = new VerifierPool({ size: 1, timeoutMs: 30_000 });
    afterAll(() => pool.close());

    it("verify() rejects a per-call limit of 2^31 ms or more instead of timing out at once", async () => {
      await expect(pool.verify("\\boxed{1}", "1", { timeoutMs: 3_000_000_000 })).rejects.toThrow(/verify option timeoutMs must be/);
      // the largest limit is honoured: the answer is graded, not a time-out
      expect(await pool.verify("\\boxed{1}", "1", { timeoutMs: MAX_TIMEOUT_MS })).toMatchObject({ correct: true });
    });

    it("a time-out does no verifier work on the main thread (the gold is not normalized there)", async () => {
      // 100,000 digits took 90 s on the main thread after a 1 s time-out; the test times out long before
      const gold = "7".repeat(100_000);
      const slow = await pool.verify("\\boxed{\\frac{\\sqrt6-\\sqrt2}{4}}", "\\sin\\frac{\\pi}{12}", { timeoutMs: 1 });
      expect(slow).toEqual({ correct: false, extracted: null, goldParsed: "", reason: "timeout" });
      const long = await pool.verify(`\\boxed{${gold}}`, gold, { timeoutMs: 1 });
      expect(long.goldParsed).toBe("");
      expect(["timeout", "rejected:gold-too-long"]).toContain(long.reason);
    }, 20_000);
  });
});

describe("gold length is bounded before normalization", () => {
  it("refuses a gold answer over 8,000 characters, and a gold text over 200,000", () => {
    expect(verifySync("\\boxed{1}", "1".repeat(8_001))).toMatchObject({ correct: false, reason: "rejected:gold-too-long", goldParsed: "" });
    expect(verifySync("\\boxed{1}", `${"x".repeat(200_001)}\\boxed{1}`)).toMatchObject({ reason: "rejected:gold-too-long" });
    // a long solution whose boxed answer is short is still a gold
    expect(verifySync("\\boxed{12}", `${"solution text ".repeat(1_000)}\\boxed{12}`)).toMatchObject({ correct: true });
    expect(verifySync("\\boxed{1}", "1".repeat(8_000)).reason).toBe("not-equal");
  });

  it("normalizes a long run of digits in linear time (the mixed-number pattern was quadratic)", () => {
    // 200,000 digits: ~60 ms now, about 2 minutes with the quadratic pattern (the test's
    // limit is the hang guard); the result is still the digits
    const digits = "3".repeat(200_000);
    expect(normalizeAnswer(digits)).toBe(digits);
    expect(normalizeAnswer(`${digits}\\frac{1}{2}`)).toBe(`(${digits}+\\frac{1}{2})`);
    expect(normalizeAnswer("12\\frac{1}{2}")).toBe("(12+\\frac{1}{2})");
    expect(normalizeAnswer("x2\\frac{1}{2}")).toBe("x2\\frac{1}{2}");
  }, 20_000);
});
