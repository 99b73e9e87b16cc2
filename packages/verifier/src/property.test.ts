import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeAnswer } from "./normalize.js";
import { verifySync } from "./verify.js";

describe("properties", () => {
  it("normalization is idempotent", () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => normalizeAnswer(normalizeAnswer(s)) === normalizeAnswer(s)), { numRuns: 500 });
  });

  it("normalization is idempotent on LaTeX-like strings", () => {
    const piece = fc.constantFrom("\\frac{1}{2}", "\\dfrac12", "\\sqrt3", "x", "=", "+", "-", " ", "\\left(", "\\right)", "\\text{ cm}", "^\\circ", "\\%", "\\$", "{,}", "7", "0.5", "\\pi", ",", "\\{", "\\}", "(", ")", "[", "]");
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
      const s = parts.join("");
      return normalizeAnswer(normalizeAnswer(s)) === normalizeAnswer(s);
    }), { numRuns: 500, examples: [[["7", "\\frac{1}{2}", "7", "\\frac{1}{2}"]]] }); // a chain of mixed numbers (found by a CI run)
  });

  it("an integer equals itself and not its neighbour", () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (n) => {
      return verifySync(`\\boxed{${n}}`, String(n)).correct && !verifySync(`\\boxed{${n + 1n}}`, String(n)).correct;
    }), { numRuns: 300 });
  });

  it("a fraction equals its reduced and scaled forms", () => {
    fc.assert(fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 2, max: 50 }), (p, q, k) => {
      return verifySync(`\\boxed{\\frac{${p * k}}{${q * k}}}`, `\\frac{${p}}{${q}}`).correct;
    }), { numRuns: 200 });
  });

  it("never throws on random strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 40 }), (response, gold) => {
      verifySync(response, gold);
      verifySync(`\\boxed{${response}}`, gold);
      return true;
    }), { numRuns: 500 });
  });

  it("never throws on random LaTeX soup", () => {
    const token = fc.constantFrom("\\frac", "{", "}", "\\sqrt", "^", "_", "!", "(", ")", "[", "]", "\\{", "\\}", "1", "2", "x", "=", "<", ",", "\\pm", "\\cup", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "\\text{", "\\infty", "9", "\\left", "\\right");
    fc.assert(fc.property(fc.array(token, { maxLength: 30 }), fc.array(token, { maxLength: 10 }), (r, g) => {
      verifySync(`\\boxed{${r.join("")}}`, g.join(""));
      return true;
    }), { numRuns: 500 });
  });
});
