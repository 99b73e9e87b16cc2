import { describe, expect, it } from "vitest";
import { modelConfigToJson, parseModelConfig, ropeInvFreq } from "./config.js";
import { ModelConfigError, TensorMismatchError, UnsupportedArchitectureError } from "./errors.js";
import { tinyLlamaJson, tinyQwen2Json, tinyQwen3Json } from "./testing/fixtures.js";
import { checkTensorShapes, expectedTensorShapes } from "./weights.js";

// Published config.json values of Qwen2.5-0.5B-Instruct, Qwen3-0.6B and Llama-3.2-1B.
const qwen05b = {
  architectures: ["Qwen2ForCausalLM"], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645,
  hidden_act: "silu", hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864,
  max_position_embeddings: 32768, max_window_layers: 21, model_type: "qwen2", num_attention_heads: 14,
  num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0,
  sliding_window: 32768, tie_word_embeddings: true, torch_dtype: "bfloat16", transformers_version: "4.43.1",
  use_cache: true, use_sliding_window: false, vocab_size: 151936,
};
const qwen3_06b = {
  architectures: ["Qwen3ForCausalLM"], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643,
  eos_token_id: 151645, head_dim: 128, hidden_act: "silu", hidden_size: 1024, initializer_range: 0.02,
  intermediate_size: 3072, max_position_embeddings: 40960, max_window_layers: 28, model_type: "qwen3",
  num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null,
  rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: "bfloat16",
  transformers_version: "4.51.0", use_cache: true, use_sliding_window: false, vocab_size: 151936,
};
const llama1b = {
  architectures: ["LlamaForCausalLM"], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009], head_dim: 64, hidden_act: "silu", hidden_size: 2048,
  initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false,
  model_type: "llama", num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8,
  pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: "llama3" },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: "bfloat16", use_cache: true, vocab_size: 128256,
};

describe("parseModelConfig", () => {
  it("normalizes a Qwen2 config", () => {
    const c = parseModelConfig(qwen05b);
    expect(c).toMatchObject({
      architecture: "Qwen2ForCausalLM", vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864,
      numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, rmsNormEps: 1e-6, ropeTheta: 1e6,
      ropeScaling: null, maxPositionEmbeddings: 32768, tieWordEmbeddings: true, attentionBias: true,
      torchDtype: "bfloat16", bosTokenId: 151643, eosTokenIds: [151645],
    });
    // embed + 24 layers × (2 norms, q/k/v/o, 3 biases, 3 MLP) + final norm; lm_head tied.
    expect(expectedTensorShapes(c).size).toBe(1 + 24 * 12 + 1);
    expect(expectedTensorShapes(c).get("model.layers.3.self_attn.k_proj.weight")).toEqual([128, 896]);
  });

  it("normalizes a Qwen3 config: q/k norm, no q/k/v bias, head_dim from the config", () => {
    const c = parseModelConfig(qwen3_06b);
    expect(c).toMatchObject({
      architecture: "Qwen3ForCausalLM", hiddenSize: 1024, numHeads: 16, numKvHeads: 8, headDim: 128,
      attentionBias: false, qkNorm: true, tieWordEmbeddings: true, ropeTheta: 1e6,
    });
    // embed + 28 layers × (2 norms, q/k/v/o, q_norm, k_norm, 3 MLP) + final norm; lm_head tied.
    const shapes = expectedTensorShapes(c);
    expect(shapes.size).toBe(1 + 28 * 11 + 1);
    expect(shapes.get("model.layers.5.self_attn.q_norm.weight")).toEqual([128]);
    expect(shapes.get("model.layers.5.self_attn.k_norm.weight")).toEqual([128]);
    expect(shapes.get("model.layers.5.self_attn.q_proj.weight")).toEqual([16 * 128, 1024]);
    expect(shapes.get("model.layers.5.self_attn.o_proj.weight")).toEqual([1024, 16 * 128]);
    expect(shapes.has("model.layers.0.self_attn.q_proj.bias")).toBe(false);
    expect(parseModelConfig(qwen05b).qkNorm).toBe(false);
    expect(parseModelConfig(llama1b).qkNorm).toBe(false);
  });

  it("checks Qwen3's q_norm / k_norm tensors: missing, wrongly shaped, or Qwen2's biases instead", () => {
    const c = parseModelConfig(tinyQwen3Json());
    const good = expectedTensorShapes(c);
    expect(() => checkTensorShapes("m", good, c)).not.toThrow();
    const bad = new Map(good);
    bad.delete("model.layers.1.self_attn.k_norm.weight");
    bad.set("model.layers.0.self_attn.q_norm.weight", [24]);
    bad.set("model.layers.0.self_attn.q_proj.bias", [32]);
    try {
      checkTensorShapes("m", bad, c);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TensorMismatchError);
      const err = e as TensorMismatchError;
      expect(err.missing).toEqual(["model.layers.1.self_attn.k_norm.weight"]);
      expect(err.unexpected).toEqual(["model.layers.0.self_attn.q_proj.bias"]);
      expect(err.wrongShape).toEqual([{ name: "model.layers.0.self_attn.q_norm.weight", expected: [8], actual: [24] }]);
    }
  });

  it.each([
    [{ use_sliding_window: true }, "use_sliding_window", /sliding-window attention is not supported/],
    [{ attention_bias: true }, "attention_bias", /only false is supported for Qwen3ForCausalLM/],
    [{ model_type: "qwen2" }, "model_type", /must be "qwen3"/],
  ])("rejects Qwen3 %j naming field %s", (override, field, message) => {
    try {
      parseModelConfig(tinyQwen3Json(override), "q3/config.json");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelConfigError);
      const err = e as ModelConfigError;
      expect(err.issues.map((i) => i.field)).toEqual([field]);
      expect(err.message).toMatch(message);
    }
  });

  it("normalizes a Llama 3.2 config with llama3 RoPE scaling", () => {
    const c = parseModelConfig(llama1b);
    expect(c).toMatchObject({
      architecture: "LlamaForCausalLM", headDim: 64, numKvHeads: 8, attentionBias: false, tieWordEmbeddings: true,
      ropeScaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
      eosTokenIds: [128001, 128008, 128009],
    });
    expect(expectedTensorShapes(c).has("model.layers.0.self_attn.q_proj.bias")).toBe(false);
  });

  it("applies defaults: kv heads = heads, head_dim = hidden/heads, theta 10000, untied, f32", () => {
    const json = tinyLlamaJson();
    for (const k of ["num_key_value_heads", "head_dim", "rope_theta", "rope_scaling", "tie_word_embeddings", "torch_dtype"]) delete json[k];
    expect(parseModelConfig(json)).toMatchObject({
      numKvHeads: 4, headDim: 8, ropeTheta: 10000, ropeScaling: null, tieWordEmbeddings: false, torchDtype: "float32",
    });
  });

  it("reads transformers v5 rope_parameters and dtype", () => {
    const json = tinyLlamaJson({ rope_scaling: undefined, rope_theta: undefined, torch_dtype: undefined, dtype: "float16" });
    json.rope_parameters = { rope_type: "llama3", rope_theta: 1234, factor: 2, low_freq_factor: 1, high_freq_factor: 2, original_max_position_embeddings: 16 };
    const c = parseModelConfig(json);
    expect(c.ropeTheta).toBe(1234);
    expect(c.ropeScaling?.factor).toBe(2);
    expect(c.torchDtype).toBe("float16");
  });

  it("rejects unsupported architectures, naming them", () => {
    const err = (() => { try { parseModelConfig(tinyLlamaJson({ architectures: ["MistralForCausalLM"] }), "/m/config.json"); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(UnsupportedArchitectureError);
    expect((err as Error).message).toMatch(/\/m\/config\.json.*"architectures".*MistralForCausalLM.*Qwen2ForCausalLM, Qwen3ForCausalLM, LlamaForCausalLM/);
  });

  it.each([
    [{ hidden_size: "16" }, "hidden_size", /expected number/],
    [{ num_hidden_layers: 0 }, "num_hidden_layers", /expected number to be >0/],
    [{ vocab_size: undefined }, "vocab_size", /expected number/],
    [{ num_key_value_heads: 3 }, "num_key_value_heads", /must divide num_attention_heads \(4\), got 3/],
    [{ torch_dtype: "int8" }, "torch_dtype", /"float32"\|"bfloat16"\|"float16"/],
    [{ hidden_act: "gelu" }, "hidden_act", /silu/],
    [{ model_type: "mistral" }, "model_type", /must be "llama"/],
    [{ attention_bias: true }, "attention_bias", /only false/],
    [{ head_dim: 7 }, "head_dim", /even/],
    [{ rope_scaling: { rope_type: "yarn", factor: 4 } }, "rope_scaling.rope_type", /unsupported RoPE scaling "yarn"/],
    [{ rope_scaling: { rope_type: "llama3", factor: 8 } }, "rope_scaling.low_freq_factor", /required/],
  ])("rejects %j naming field %s", (override, field, message) => {
    try {
      parseModelConfig(tinyLlamaJson(override), "x/config.json");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelConfigError);
      const err = e as ModelConfigError;
      expect(err.issues.map((i) => i.field)).toContain(field);
      expect(err.message).toContain("x/config.json");
      expect(err.message).toMatch(message);
    }
  });

  it("rejects Qwen2 sliding-window attention", () => {
    expect(() => parseModelConfig(tinyQwen2Json({ use_sliding_window: true }))).toThrow(/use_sliding_window/);
  });
});

describe("modelConfigToJson", () => {
  it.each([
    ["qwen2", tinyQwen2Json()], ["qwen3", tinyQwen3Json()], ["llama", tinyLlamaJson()], ["llama-3.2", llama1b],
    ["qwen-0.5b", qwen05b], ["qwen3-0.6b", qwen3_06b],
  ])(
    "round-trips %s and keeps unknown base fields",
    (_, json) => {
      const c = parseModelConfig(json);
      const out = modelConfigToJson(c, json as Record<string, unknown>);
      expect(parseModelConfig(out)).toEqual(c);
      for (const [k, v] of Object.entries(json)) if (v !== undefined) expect(out[k], k).toBeDefined();
    },
  );
});

describe("ropeInvFreq", () => {
  it("is theta^(-2i/d) without scaling", () => {
    const c = parseModelConfig(tinyQwen2Json());
    const f = ropeInvFreq(c);
    expect(f.length).toBe(2);
    expect(f[0]).toBe(1);
    expect(f[1]).toBeCloseTo(Math.pow(1e6, -2 / 4), 12);
  });

  it("applies llama3 scaling: high frequencies kept, low ones divided by factor, smooth between", () => {
    const c = parseModelConfig(llama1b);
    const base = ropeInvFreq({ ...c, ropeScaling: null });
    const scaled = ropeInvFreq(c);
    const lowWavelen = 8192 / 1;
    const highWavelen = 8192 / 4;
    let kept = 0, divided = 0, smoothed = 0;
    for (let i = 0; i < base.length; i++) {
      const wavelen = (2 * Math.PI) / base[i]!;
      if (wavelen < highWavelen) { expect(scaled[i]).toBe(base[i]); kept++; }
      else if (wavelen > lowWavelen) { expect(scaled[i]).toBeCloseTo(base[i]! / 32, 15); divided++; }
      else {
        const s = (8192 / wavelen - 1) / (4 - 1);
        expect(scaled[i]).toBeCloseTo((1 - s) * base[i]! / 32 + s * base[i]!, 15);
        expect(scaled[i]!).toBeLessThan(base[i]!);
        expect(scaled[i]!).toBeGreaterThan(base[i]! / 32);
        smoothed++;
      }
      if (i > 0) expect(scaled[i]!).toBeLessThan(scaled[i - 1]!);
    }
    expect([kept > 0, divided > 0, smoothed > 0]).toEqual([true, true, true]);
  });
});
