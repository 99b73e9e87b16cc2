/** Engine.fromModelDir / exportWeights round trip through @rlvr/model's checkpoint I/O. */
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { saveCheckpoint } from "@rlvr/model";

// test-only helpers of @rlvr/model (a tiny byte-level tokenizer, temp dirs)
import { tempDir, tinyQwen2, tinyTokenizerFileMap } from "../../model/src/testing/fixtures.js";
import { Engine } from "../src/index.js";
import { paddedBatch, randomWeights } from "./helpers.js";

describe("model directories", () => {
  it("saveCheckpoint(exportWeights()) then fromModelDir gives the same model", async () => {
    const config = { ...tinyQwen2(), torchDtype: "float32" as const };
    const a = Engine.fromWeights(config, randomWeights(config, 4));
    await a.optimizerStep({ lr: 0 }); // no-op step: exportWeights after an optimizer step still works
    const dir = join(await tempDir(), "ckpt");
    await saveCheckpoint(dir, config, a.exportWeights(), tinyTokenizerFileMap());
    const b = await Engine.fromModelDir(dir);
    expect(b.config.vocabSize).toBe(config.vocabSize);
    for (const [name, t] of a.exportWeights()) expect(b.parameter(name)).toEqual(t.data);
    const p = paddedBatch(config.vocabSize, 3, 6, 2);
    expect((await b.score(p)).logp).toEqual((await a.score(p)).logp);
  });
});
