/**
 * The native rollout's log-probs against score() (a full forward over prompt + response, no KV
 * cache) on the same engine: this checks the rollout's KV windows, positions, refills, moves
 * and shifts on any backend, where bit-equality with the JavaScript loop is not expected
 * ("cuda": other kernels, device sampling). "ops-cpu" always runs (|diff| at fp32 rounding);
 * "cuda" runs where cudaAvailable() (skipped, reason printed, elsewhere). Bounds: 0 on "ops-cpu"
 * (its decode and full forward compute each row alike, so they agree bit for bit); 1e-3 on a device
 * (fp32 kernels with other summation orders for decode and the full forward; not yet measured).
 */
import { cudaAvailable, cudaUnavailableReason } from "@rlvr/native";
import { type Engine, type EngineBackend, type RolloutOutput } from "@rlvr/engine";
import { describe, expect, it } from "vitest";

import { prompts, smallEngine } from "./rolloutModel.js";

const backends: [EngineBackend, number][] = [["ops-cpu", 0]];
if (cudaAvailable()) backends.push(["cuda", 1e-3]);
else console.log(`[rolloutScore.test.ts] "cuda" skipped: ${cudaUnavailableReason()}`);

/** Every row of a rollout scored by a full forward: the largest |rollout logp - score logp|. */
async function maxScoreDiff(e: Engine, ps: Int32Array[], n: number, r: RolloutOutput, temperature: number): Promise<number> {
  const rows = ps.length * n;
  const len = Math.max(...Array.from({ length: rows }, (_, i) => ps[Math.floor(i / n)]!.length + r.offsets[i + 1]! - r.offsets[i]!));
  const inputIds = new Int32Array(rows * len), attentionMask = new Float32Array(rows * len), targets = new Int32Array(rows * len);
  for (let i = 0; i < rows; i++) {
    const p = ps[Math.floor(i / n)]!, resp = r.tokens.subarray(r.offsets[i]!, r.offsets[i + 1]!);
    inputIds.set(p, i * len);
    inputIds.set(resp, i * len + p.length);
    attentionMask.fill(1, i * len, i * len + p.length + resp.length);
    // the log-prob of response token j is read at the position before it
    for (let j = 0; j < resp.length; j++) targets[i * len + p.length - 1 + j] = resp[j]!;
  }
  const s = await e.score({ batch: rows, length: len, inputIds, attentionMask, targets, temperature });
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    const pl = ps[Math.floor(i / n)]!.length;
    for (let j = 0; j < r.offsets[i + 1]! - r.offsets[i]!; j++) {
      worst = Math.max(worst, Math.abs(s.logp[i * len + pl - 1 + j]! - r.logprobs[r.offsets[i]! + j]!));
    }
  }
  return worst;
}

for (const [backend, tol] of backends) {
  describe(`native rollout on "${backend}": log-probs equal score()'s`, () => {
    const e = smallEngine({}, backend);
    const V = e.config.vocabSize;

    it("sampling, refills, moves and shifts (slots < rows), the context limit", async () => {
      const ps = prompts([5, 1, 9, 30], V, 12);
      const o = { prompts: ps, n: 3, temperature: 0.9, topP: 0.95, maxNewTokens: 16, eosIds: [5, 19], seed: 6, slots: 4 };
      const r = await e.decode.rollout(o);
      expect(new Set(r.finish)).toEqual(new Set(["eos", "length", "context"]));
      const d = await maxScoreDiff(e, ps, 3, r, 0.9);
      console.log(`[rolloutScore.test.ts] ${backend}: max |rollout - score| log-prob ${d.toExponential(2)} (bound ${tol})`);
      expect(d).toBeLessThanOrEqual(tol);
    });

    it("the 1-shot case: one prompt, many samples, few slots", async () => {
      const ps = prompts([11], V, 13);
      const r = await e.decode.rollout({ prompts: ps, n: 24, temperature: 1, maxNewTokens: 20, eosIds: [6], seed: 1, slots: 5 });
      expect(await maxScoreDiff(e, ps, 24, r, 1)).toBeLessThanOrEqual(tol);
    });
  });
}
