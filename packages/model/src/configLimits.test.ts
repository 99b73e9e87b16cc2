// Issue #17 items 9 and 11: config.json sizes are bounded before anything is allocated, and
// bad values are reported with the key, the file and the value found.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readModelConfig } from "./checkpoint.js";
import { CONFIG_LIMITS, parseModelConfig } from "./config.js";
import { ModelConfigError, ModelFileError } from "./errors.js";
import { tempDir, tinyLlamaJson, tinyQwen2Json } from "./testing/fixtures.js";

function configError(json: unknown): ModelConfigError {
  try {
    parseModelConfig(json, "/models/m/config.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ModelConfigError);
    return e as ModelConfigError;
  }
  return expect.unreachable("no error") as never;
}

describe("config.json size fields are bounded", () => {
  it("num_hidden_layers: 1e9 is refused at once, naming the field, the limit and the file", () => {
    // it used to build a 12e9-entry tensor list first (57 s, 2.3 GB, then "Map maximum size exceeded")
    const err = configError(tinyQwen2Json({ num_hidden_layers: 1e9 }));
    expect(err.field).toBe("num_hidden_layers");
    expect(err.message).toMatch(/\/models\/m\/config\.json: invalid config: field "num_hidden_layers": must be at most 1024 .*got 1000000000/);
  });

  it.each(Object.keys(CONFIG_LIMITS).filter((k) => k !== "original_max_position_embeddings"))("%s above its limit is refused", (key) => {
    const limit = CONFIG_LIMITS[key as keyof typeof CONFIG_LIMITS];
    const err = configError(tinyQwen2Json({ [key]: limit * 2 }));
    expect(err.issues.map((i) => i.field)).toContain(key);
  });

  it("sizes each within its limit but together too large are refused before any tensor list is built", () => {
    const err = configError(tinyQwen2Json({ vocab_size: 1 << 24, hidden_size: 1 << 16, num_attention_heads: 128, num_key_value_heads: 128 }));
    expect(err.message).toMatch(/describe 2\.\d+e\+12 parameters, more than the limit/);
  });

  it("real large models stay within the limits (Llama-3.1-405B sizes)", () => {
    const c = parseModelConfig(
      tinyLlamaJson({
        vocab_size: 128256, hidden_size: 16384, intermediate_size: 53248, num_hidden_layers: 126,
        num_attention_heads: 128, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 131072,
      }),
    );
    expect(c.numLayers).toBe(126);
  });
});

describe("non-finite and out-of-range values name the key and file", () => {
  it.each([
    ["rms_norm_eps", Number.POSITIVE_INFINITY],
    ["rope_theta", Number.NaN],
    ["hidden_size", Number.NEGATIVE_INFINITY],
  ])("%s = %s", (key, value) => {
    const err = configError(tinyQwen2Json({ [key]: value }));
    expect(err.issues[0]).toMatchObject({ field: key });
    expect(err.message).toContain("/models/m/config.json");
    expect(err.message).toMatch(new RegExp(`field "${key}": must be a finite number, got ${String(value)}`));
  });

  it("a null where a number belongs says so", () => {
    expect(configError(tinyQwen2Json({ rms_norm_eps: null })).message).toMatch(/field "rms_norm_eps": Invalid input: expected number, got null$/);
  });

  it("rope_theta 1e-300 names rope_theta (it used to fail later as 'invFreq: entries must be finite')", () => {
    const err = configError(tinyQwen2Json({ rope_theta: 1e-300 }));
    expect(err.field).toBe("rope_theta");
    expect(err.message).toMatch(/field "rope_theta": must be at least 1 .*got 1e-300/);
  });

  it("a rope_theta whose frequencies underflow f32 is refused", () => {
    const err = configError(tinyQwen2Json({ rope_theta: 1e300, head_dim: 64, hidden_size: 128, num_attention_heads: 2, num_key_value_heads: 1 }));
    expect(err.message).toMatch(/field "rope_theta": gives a RoPE inverse frequency of .* outside the f32 range/);
  });

  it.each(["NaN", "Infinity", "-Infinity"])("config.json with %s as Python writes it names the key and file", async (token) => {
    const dir = await tempDir();
    const text = JSON.stringify(tinyQwen2Json(), null, 2).replace(/"rope_theta": [^,\n]+/, `"rope_theta": ${token}`);
    expect(text).toContain(`"rope_theta": ${token}`);
    await writeFile(join(dir, "config.json"), text);
    const err = await readModelConfig(dir).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(
      `${join(dir, "config.json")}: invalid JSON: field "rope_theta" is ${token}, which JSON does not allow ` +
        `(Python's json.dump writes it for nan/inf): write a finite number`,
    );
  });
});
