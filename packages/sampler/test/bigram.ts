// A bigram "model" for the sampler tests: next-token logits depend only on the last token (a
// fixed random table), and `calls` records how many rows each begin / step call got.
import { Tensor } from "@rlvr/native";

import type { StepModel } from "../src/index.js";

export function bigram(v: number, seed = 1, maxSequenceLength = 64): StepModel & { calls: number[] } {
  let s = seed;
  const table = Float32Array.from({ length: v * v }, () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 6);
  let last: number[] = [];
  const rowsOf = (tokens: number[]) => {
    const out = new Float32Array(tokens.length * v);
    tokens.forEach((t, i) => out.set(table.subarray(t * v, (t + 1) * v), i * v));
    return Tensor.from(out, [tokens.length, v]);
  };
  return {
    vocabSize: v, maxSequenceLength, calls: [],
    begin(prompts) { last = prompts.map((p) => p[p.length - 1]!); this.calls.push(prompts.length); return rowsOf(last); },
    step(rows, tokens) { rows.forEach((r, k) => (last[r] = tokens[k]!)); this.calls.push(rows.length); return rowsOf(Array.from(rows, (r) => last[r]!)); },
    end() {},
  };
}
