// rlvr init: a random-weight model directory from a config.json, loadable by the engine, with a
// tokenizer that decodes every id of the vocabulary (a random model samples from all of them).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "@rlvr/testing/repoRoot";

import { Engine } from "@rlvr/engine";
import { loadModelDir, ModelTokenizer, parseModelConfig } from "@rlvr/model";

import { initModel } from "../src/init/initModel.js";
import { syntheticTokenizer } from "../src/init/syntheticTokenizer.js";

const root = repoRoot();
const dir = mkdtempSync(join(tmpdir(), "rlvr-init-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = {
  architectures: ["Qwen2ForCausalLM"], bos_token_id: 500, eos_token_id: 500, hidden_act: "silu", hidden_size: 32,
  initializer_range: 0.05, intermediate_size: 64, max_position_embeddings: 128, model_type: "qwen2", num_attention_heads: 4,
  num_hidden_layers: 2, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: true,
  torch_dtype: "float32", vocab_size: 1000, sliding_window: 128, use_sliding_window: false,
};

describe("rlvr init", () => {
  it("writes a model the engine loads: seeded weights with the config's initializer_range, norms 1, biases 0", async () => {
    const config = join(dir, "tiny.json");
    writeFileSync(config, JSON.stringify(tiny));
    const a = await initModel({ config, out: join(dir, "a"), seed: 3 });
    await initModel({ config, out: join(dir, "b"), seed: 3 });
    await initModel({ config, out: join(dir, "c"), seed: 4 });
    const bytes = (d: string) => readFileSync(join(dir, d, "model.safetensors"));
    expect(bytes("a").equals(bytes("b"))).toBe(true);
    expect(bytes("a").equals(bytes("c"))).toBe(false);
    const m = await loadModelDir(join(dir, "a"));
    expect(a.parameters).toBe([...m.weights!.values()].reduce((s, t) => s + t.data.length, 0));
    const emb = m.weights!.get("model.embed_tokens.weight")!.data;
    const sd = Math.sqrt(emb.reduce((s, x) => s + x * x, 0) / emb.length);
    expect(sd).toBeGreaterThan(0.045); // 32,000 draws of N(0, 0.05): the sample sd is within 1 % of 0.05
    expect(sd).toBeLessThan(0.055);
    expect([...m.weights!.get("model.norm.weight")!.data].every((x) => x === 1)).toBe(true);
    expect([...m.weights!.get("model.layers.0.self_attn.q_proj.bias")!.data].every((x) => x === 0)).toBe(true);
    // the tokenizer: the whole vocabulary, the special tokens at the config's eos id and after it
    expect(m.tokenizer.vocabSize).toBe(1000);
    expect(m.tokenizer.encode("<|endoftext|>")).toEqual([500]);
    const engine = Engine.fromWeights(m.config, m.weights!);
    expect(engine.config.vocabSize).toBe(1000);
    await expect(initModel({ config, out: join(dir, "a"), seed: 3 })).rejects.toThrow(/already exists/);
  });

  it("a synthetic tokenizer of Qwen2.5's 151,936 ids decodes every id and round-trips text", async () => {
    const t = syntheticTokenizer(151_936, { firstSpecialId: 151_643 });
    expect(t.special).toEqual({ "<|endoftext|>": 151_643, "<|im_start|>": 151_644, "<|im_end|>": 151_645 });
    const tdir = join(dir, "tok");
    mkdirSync(tdir);
    for (const [name, text] of Object.entries(t.files)) writeFileSync(join(tdir, name), text);
    const tok = await ModelTokenizer.load(tdir);
    expect(tok.vocabSize).toBe(151_936);
    const ids = Array.from({ length: 151_936 }, (_, i) => i);
    for (let i = 0; i < ids.length; i += 4096) expect(typeof tok.decode(ids.slice(i, i + 4096))).toBe("string");
    const text = "Let's think step by step: 12 + 30 = 42, so \\boxed{42}. ✓";
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(() => syntheticTokenizer(100)).toThrow(/at least 259 ids/);
  });

  it("the shipped Qwen2.5-Math-1.5B config parses to the paper model's shapes", () => {
    const c = parseModelConfig(JSON.parse(readFileSync(join(root, "examples/qwen2.5-math-1.5b/config.json"), "utf8")));
    expect(c).toMatchObject({ vocabSize: 151_936, numLayers: 28, hiddenSize: 1536, numHeads: 12, numKvHeads: 2, intermediateSize: 8960, tieWordEmbeddings: true });
  });

  it("the CLI names a bad --config", async () => {
    const cli = join(root, "packages/cli/dist/cli.js");
    if (!existsSync(cli)) return;
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const r = await promisify(execFile)(process.execPath, [cli, "init", "--config", bad, "--out", join(dir, "x")]).catch((e: { stderr: string; code: number }) => e);
    expect("code" in r ? r.code : 0).not.toBe(0);
    expect((r as { stderr: string }).stderr).toMatch(/--config .*bad\.json: invalid JSON/);
  });
});
