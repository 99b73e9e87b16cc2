import { describe, expect, it } from "vitest";

import { canonicalKey, suggestKey, VERL_KEY_ALIASES } from "../src/configAliases.js";
import { allowedKeys } from "../src/config.js";

/** Every dotted key of the schema (sections and leaves). */
function schemaKeys(prefix: string[] = []): string[] {
  const keys = allowedKeys(prefix) ?? [];
  return keys.flatMap((k) => [[...prefix, k].join("."), ...schemaKeys([...prefix, k])]);
}
const known = schemaKeys();
const isKey = (k: string) => known.includes(k);

describe("config key aliases and suggestions", () => {
  it("every verl alias names a key of the schema", () => {
    const missing = Object.values(VERL_KEY_ALIASES).filter((k) => !isKey(k));
    // trainer.loggers / project / experiment arrive with the loggers; the rest must exist
    expect(missing.filter((k) => !["trainer.loggers", "trainer.project", "trainer.experiment"].includes(k))).toEqual([]);
  });

  it("maps verl keys and snake_case spellings, leaves known keys alone", () => {
    expect(canonicalKey("actor_rollout_ref.actor.optim.lr", isKey)).toBe("actor.lr");
    expect(canonicalKey("data.train_batch_size", isKey)).toBe("data.trainBatchSize");
    expect(canonicalKey("actor.ppo_mini_batch_size", isKey)).toBe("actor.ppoMiniBatchSize");
    expect(canonicalKey("actor.lr", isKey)).toBeNull();
    expect(canonicalKey("actor.no_such_key", isKey)).toBeNull();
  });

  it("suggests the key that was meant, and nothing for a key far from every known one", () => {
    expect(suggestKey("actor.lrr", known)).toBe("actor.lr");
    expect(suggestKey("actor.entropyCoef", known)).toBe("actor.entropyCoeff");
    expect(suggestKey("rollout.temprature", known)).toBe("rollout.temperature");
    expect(suggestKey("data.trainBatchsize", known)).toBe("data.trainBatchSize");
    expect(suggestKey("actor.zzzzzzzz", known)).toBeNull();
  });
});

describe("resolveConfig with verl keys and typos", () => {
  it("takes verl's Hydra keys, nested as in a verl YAML or dotted in --set, and snake_case spellings", async () => {
    const { resolveConfig } = await import("../src/config.js");
    const c = resolveConfig({
      file: {
        actor_rollout_ref: { model: { path: "/m" }, actor: { optim: { lr: 2e-6 }, ppo_mini_batch_size: 64 }, rollout: { n: 4 } },
        data: { train_files: "/d.parquet", train_batch_size: 128 },
      },
      sets: ["trainer.save_freq=5", "algorithm.norm_adv_by_std_in_grpo=false", "trainer.logger=[console,tensorboard]", "eval.files.minerva_math=/x.jsonl"],
    });
    expect(c.actor.lr).toBe(2e-6);
    expect(c.actor.ppoMiniBatchSize).toBe(64);
    expect(c.rollout.n).toBe(4);
    expect(c.data.trainBatchSize).toBe(128);
    expect([c.model.path, c.data.train]).toEqual(["/m", "/d.parquet"]);
    expect(c.trainer.saveFreq).toBe(5);
    expect(c.algorithm.normStd).toBe(false);
    expect(c.trainer.loggers).toEqual(["console", "tensorboard"]);
    expect(c.eval.files).toEqual({ minerva_math: "/x.jsonl" }); // record keys are data, never renamed
  });

  it("a mistyped key gets the right suggestion in the error", async () => {
    const { resolveConfig } = await import("../src/config.js");
    expect(() => resolveConfig({ sets: ["actor.lrr=1e-6"] })).toThrow(/unknown config key "actor\.lrr"; "actor\.lrr": did you mean "actor\.lr"\?/);
    expect(() => resolveConfig({ sets: ["rollout.temprature=0.6"] })).toThrow(/did you mean "rollout\.temperature"\?/);
    expect(() => resolveConfig({ sets: ["actor.qqqqqqqq=1"] })).not.toThrow(/did you mean/);
  });
});
