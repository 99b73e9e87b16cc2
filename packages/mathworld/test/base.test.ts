// The committed base model (packages/mathworld/base/, made by `rlvr pretrain`; see README.md).
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { Engine } from "@rlvr/engine";
import { loadModelDir } from "@rlvr/model";
import { verifySync } from "@rlvr/verifier";

import { buildTokenizerFiles, evaluateGreedy, generateSplits, tokenizerFileMap } from "../src/index.js";

const base = resolve(fileURLToPath(import.meta.url), "../../base");

describe("committed base checkpoint", () => {
  it("is a Hugging Face directory under 20 MB whose tokenizer is the one the code builds", () => {
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "rlvr_pretrain.json"]) {
      expect(statSync(join(base, f)).isFile()).toBe(true);
    }
    expect(statSync(join(base, "model.safetensors")).size).toBeLessThan(20 * 1024 * 1024);
    // If this fails, the generator or tokenizer changed: re-run the pretrain command in README.md.
    const built = tokenizerFileMap(buildTokenizerFiles());
    expect(JSON.parse(readFileSync(join(base, "tokenizer.json"), "utf8"))).toEqual(JSON.parse(built["tokenizer.json"]!));
  });

  it("loads with Engine.fromModelDir and greedily answers some test problems with a boxed answer", async () => {
    const engine = await Engine.fromModelDir(base);
    const m = await loadModelDir(base, { weights: false });
    const test = generateSplits().test.slice(0, 24);
    const r = await evaluateGreedy(engine, m.tokenizer, test, { maxNewTokens: 80, eosIds: m.eosTokenIds });
    const boxed = r.responses.filter((t, i) => verifySync(t, test[i]!.answer).extracted !== null);
    expect(boxed.length).toBeGreaterThan(0);
    expect(r.correct).toBeGreaterThan(0); // a base model that sometimes solves problems
    expect(r.correct).toBeLessThan(test.length); // ...and sometimes does not
  });
});
