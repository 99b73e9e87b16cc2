// The rollouts' view of the committed base: samples at the preset's temperature.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { Engine } from "@rlvr/engine";
import { loadModelDir } from "@rlvr/model";

import { evaluateGreedy, generateSplits, sampleStats } from "../src/index.js";

const base = resolve(fileURLToPath(import.meta.url), "../../base");

describe("sampleStats on the committed base (the validation split)", () => {
  it("is deterministic per seed, and its rates are consistent", async () => {
    const engine = await Engine.fromModelDir(base);
    const m = await loadModelDir(base, { weights: false });
    const problems = generateSplits().val.slice(0, 16);
    const a = await sampleStats(engine, m.tokenizer, problems, { n: 4, eosIds: m.eosTokenIds });
    const b = await sampleStats(engine, m.tokenizer, problems, { n: 4, eosIds: m.eosTokenIds });
    expect(b).toEqual(a);
    const c = await sampleStats(engine, m.tokenizer, problems, { n: 4, eosIds: m.eosTokenIds, seed: 1 });
    expect(c).not.toEqual(a);
    for (const s of [a, c]) {
      expect(s.pass1).toBeLessThanOrEqual(s.passN);
      expect(s.pass1).toBeLessThanOrEqual(s.pass1Lenient);
      expect(s.passN).toBeLessThanOrEqual(s.passNLenient);
      expect(s.distinctShare).toBeGreaterThanOrEqual(1 / 4);
      expect(s.distinctShare).toBeLessThanOrEqual(1);
    }
  });

  it("samples diverse responses and solves at pass@8 what greedy decoding misses", async () => {
    const engine = await Engine.fromModelDir(base);
    const m = await loadModelDir(base, { weights: false });
    const problems = generateSplits().val;
    const s = await sampleStats(engine, m.tokenizer, problems, { n: 8, eosIds: m.eosTokenIds });
    // the exploration criterion: at temperature 0.6 at least half of a group's responses differ
    expect(s.distinctShare).toBeGreaterThanOrEqual(0.5);
    const greedy = await evaluateGreedy(engine, m.tokenizer, problems, { eosIds: m.eosTokenIds });
    expect(s.passN).toBeGreaterThan(greedy.accuracy + 0.1);
  });
});
