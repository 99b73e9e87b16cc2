import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { Engine } from "@rlvr/engine";
import { loadModelDir, ModelTokenizer, parseModelConfig } from "@rlvr/model";

import {
  Rng,
  buildTokenizerFiles,
  crossEntropyForwardBackward,
  initWeights,
  packBatch,
  pretrain,
  promptIds,
  randomProblem,
  tinyQwen2ConfigJson,
} from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "rlvr-pretrain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = buildTokenizerFiles();
const tok = new ModelTokenizer(files.tokenizerJson, files.tokenizerConfig);
const micro = { hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositionEmbeddings: 256 };

describe("pretraining objective", () => {
  it("crossEntropyForwardBackward is the mean NLL of the response tokens (== −mean score logp)", async () => {
    const config = parseModelConfig(tinyQwen2ConfigJson(tok, micro));
    const engine = Engine.fromWeights(config, initWeights(config, 2));
    const r = new Rng(1);
    const imEnd = tok.tokenToId("<|im_end|>")!;
    const seqs = Array.from({ length: 3 }, () => {
      const p = randomProblem(r);
      return { prompt: promptIds(tok, p), response: [...tok.encode(p.solution), imEnd] };
    });
    const b = packBatch(seqs, tok.tokenToId("<|endoftext|>")!);
    const scoreMask = Float32Array.from(b.weights, (w) => (w > 0 ? 1 : 0));
    const { logp } = await engine.score({ ...b, scoreMask });
    let nll = 0;
    logp.forEach((l, i) => (nll -= b.weights[i]! * l));
    expect(scoreMask.reduce((a, x) => a + x, 0)).toBe(b.tokens);
    const res = await crossEntropyForwardBackward(engine, b);
    expect(res.total).toBeCloseTo(nll, 5);
    expect(res.total).toBeGreaterThan(Math.log(config.vocabSize) * 0.9); // untrained: about log V
    expect(engine.gradNorm()).toBeGreaterThan(0);
  });

  it("a micro run trains, evaluates and saves a loadable F32 checkpoint with its provenance", async () => {
    const out = join(dir, "micro");
    const lines: string[] = [];
    const res = await pretrain({
      out, seed: 3, maxSteps: 6, batchSize: 4, lr: 0.01, warmupSteps: 1, evalEvery: 3, evalSize: 4, maxNewTokens: 6, shape: micro,
      targetAccuracy: 1, log: (l) => lines.push(l),
    });
    expect(res.steps).toBe(6);
    expect(res.stoppedAt).toBe("max-steps");
    expect(res.history.map((h) => h.step)).toEqual([3, 6]);
    expect(res.history[1]!.loss).toBeLessThan(Math.log(tok.vocabSize));
    expect(lines.some((l) => l.startsWith("step 1/6"))).toBe(true);
    const m = await loadModelDir(out);
    expect(m.config.hiddenSize).toBe(16);
    expect(m.config.torchDtype).toBe("float32");
    expect(m.tokenizer.vocabSize).toBe(tok.vocabSize);
    const prov = JSON.parse(readFileSync(join(out, "rlvr_pretrain.json"), "utf8"));
    expect(prov.options.seed).toBe(3);
    expect(prov.result.steps).toBe(6);
  });
});
