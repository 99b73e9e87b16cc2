/**
 * policyLoss with bf16 dlogits for f32 logits (PolicyLossArgs::dlogits_dtype):
 * bit for bit the f32 dlogits rounded to nearest even; logp / entropy / stats
 * identical; in place (dlogits = logits) is a ValueError naming dlogits; other
 * mixed pairs are DTypeErrors.
 */
import { describe, expect, it } from "vitest";

import { DTypeError, Tensor, ValueError, callNative, loadAddon, policyLoss } from "../src/index.js";
import { f32ToBf16 } from "../src/reference/index.js";
import { f32, i32, logitsTensor, randomLogits, rng } from "./helpers.js";

function inputs(seed: number, n: number) {
  const r = rng(seed);
  const oldLogp = f32(Array.from({ length: n }, () => -2 + r())), refLogp = f32(Array.from({ length: n }, () => -2 - r()));
  const advantages = f32(Array.from({ length: n }, () => r() - 0.5));
  const weights = f32(Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 0 : 1 / n)));
  return { oldLogp, refLogp, advantages, weights };
}
const opts = { temperature: 0.7, pgCoef: 1, klCoef: 0.1, klType: "low_var_kl" as const, entropyCoeff: 0.01, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };

function raw(logits: Tensor, targets: Tensor, inp: ReturnType<typeof inputs>, dlogits: Tensor) {
  const n = logits.shape[0]!;
  const logp = Tensor.zeros([n]), entropy = Tensor.zeros([n]);
  const stats = callNative(() => loadAddon().policyLoss({ logits, targets, ...opts, ...inp, logp, entropy, dlogits }));
  return { stats, logp, entropy, dlogits };
}

describe("policyLoss bf16 dlogits for f32 logits", () => {
  for (const [n, v] of [[1, 1], [3, 17], [5, 2049], [4, 5000]] as const) {
    it(`n = ${n}, v = ${v}: bf16 dlogits = rne(f32 dlogits) bit for bit, same logp / entropy / stats`, () => {
      const { values, targets } = randomLogits(n * 1000 + v, n, v, 5, 0.05);
      const { t: logits } = logitsTensor(values, n, v, "f32");
      const tg = i32(targets), inp = inputs(v, n);
      const ref = policyLoss(logits, tg, inp, opts);
      const got = raw(logits, tg, inp, Tensor.zeros([n, v], "bf16"));
      const want = Uint16Array.from(ref.dlogits!.toArray() as Float32Array, (x) => f32ToBf16(x));
      expect(Array.from(got.dlogits.toArray())).toEqual(Array.from(want));
      expect(Array.from(got.logp.toArray())).toEqual(Array.from(ref.logp.toArray()));
      expect(Array.from(got.entropy.toArray())).toEqual(Array.from(ref.entropy.toArray()));
      expect(got.stats).toEqual(ref.stats);
    });
  }

  it("bf16 dlogits in place over f32 logits is a ValueError naming dlogits", () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const logits = Tensor.from(data, [2, 3], "f32"), tg = i32([0, 2]), inp = inputs(2, 2);
    // a bf16 [2, 3] view of the first half of the logits' own bytes: same start address
    const alias = { dtype: "bf16", shape: [2, 3], device: "cpu", data: new Uint16Array(data.buffer, 0, 6) } as unknown as Tensor;
    let err: unknown;
    try {
      raw(logits, tg, inp, alias);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValueError);
    expect((err as ValueError).argument).toBe("dlogits");
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6]);  // nothing written
  });

  it("other mixed pairs are DTypeErrors (bf16 logits with f32 dlogits, f32 logits with f16 dlogits)", () => {
    const tg = i32([0, 2]), inp = inputs(1, 2);
    const { t: bf } = logitsTensor([1, 2, 3, 4, 5, 6], 2, 3, "bf16");
    expect(() => raw(bf, tg, inp, Tensor.zeros([2, 3], "f32"))).toThrow(DTypeError);
    expect(() => raw(f32([1, 2, 3, 4, 5, 6], [2, 3]), tg, inp, Tensor.zeros([2, 3], "f16"))).toThrow(DTypeError);
    let err: unknown;
    try {
      raw(bf, tg, inp, Tensor.zeros([2, 3], "f32"));
    } catch (e) {
      err = e;
    }
    expect((err as DTypeError).argument).toBe("dlogits");
  });
});
