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
