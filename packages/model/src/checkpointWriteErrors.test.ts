// saveCheckpoint's fs failures name the checkpoint and the fix (ENOSPC used to name no path).
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it, vi } from "vitest";

// copyFile (the tokenizer files copied from a model folder) fails as on a full disk
vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  return { ...fs, copyFile: async () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, copyfile"), { code: "ENOSPC" })) };
});

const { saveCheckpoint } = await import("./checkpoint.js");
const { ModelFileError } = await import("./errors.js");
const { randomWeights, tempDir, tinyQwen2, tinyTokenizerFileMap } = await import("./testing/fixtures.js");

describe("saveCheckpoint write errors", () => {
  it("ENOSPC names the checkpoint folder and the fix, keeps the code, and leaves no temp folder", async () => {
    const config = tinyQwen2();
    const src = join(await tempDir(), "src");
    await saveCheckpoint(src, config, randomWeights(config, 1), tinyTokenizerFileMap(), { dtype: "F32" }); // file map: no copyFile
    const dir = join(await tempDir(), "ckpt");
    const e = await saveCheckpoint(dir, config, randomWeights(config, 1), src).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ModelFileError);
    expect((e as Error).message).toBe(`${dir}: cannot write the checkpoint: no space left on the device (ENOSPC); free some space or save elsewhere`);
    expect((e as { code?: string }).code).toBe("ENOSPC");
    expect(await readdir(dirname(dir))).toEqual([]);
  });
});
