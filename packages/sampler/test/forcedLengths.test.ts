// generate's benchmark option forcedLengths: every sample ends at its given length with finish
// "eos", whatever tokens (EOS ids included) it produced; the tokens up to there are the ones an
// unforced run samples (same counter RNG).
import { ValueError } from "@rlvr/native";
import { describe, expect, it } from "vitest";

import { generate } from "../src/index.js";
import { bigram } from "./bigram.js";

const prompts = [Int32Array.from([1, 2]), Int32Array.from([3])];

describe("generate forcedLengths (benchmarks)", () => {
  it("ends each sample at its length with finish eos, EOS ids ignored, tokens as unforced", async () => {
    const lengths = Int32Array.from([5, 40, 1, 17, 60, 9]); // 60 > maxNewTokens: ends at the limit
    const opts = { n: 3, maxNewTokens: 50, seed: 4, temperature: 1, eosIds: [0, 1, 2] };
    const forced = await generate(bigram(6, 5, 256), prompts, { ...opts, forcedLengths: lengths, maxBatch: 4 });
    // half the vocabulary is EOS: unforced samples stop within a few tokens
    const free = await generate(bigram(6, 5, 256), prompts, { ...opts, eosIds: [], maxNewTokens: 60 });
    expect(forced.map((s) => s.tokens.length)).toEqual([5, 40, 1, 17, 50, 9]);
    expect(forced.map((s) => s.finishReason)).toEqual(["eos", "eos", "eos", "eos", "length", "eos"]);
    forced.forEach((s, i) => expect(Array.from(s.tokens)).toEqual(Array.from(free[i]!.tokens.subarray(0, s.tokens.length))));
    expect(forced.some((s) => Array.from(s.tokens.subarray(0, -1)).some((t) => t <= 2))).toBe(true); // an EOS id was sampled and ignored
  });

  it("needs one length >= 1 per sample row", async () => {
    await expect(generate(bigram(6, 5, 256), prompts, { n: 2, maxNewTokens: 5, forcedLengths: Int32Array.from([3, 3, 3]) })).rejects.toThrow(/forcedLengths: expected one length per sample row \(4\)/);
    await expect(generate(bigram(6, 5, 256), prompts, { n: 2, maxNewTokens: 5, forcedLengths: Int32Array.from([3, 0, 3, 3]) })).rejects.toThrow(ValueError);
  });
});
