// The README's example, run as written (@rlvr/testing/readmeExample: the block is imported from a
// temporary folder inside this package, so workspace imports resolve as they would for a user).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@rlvr/testing/readmeExample";
import { describe, expect, it } from "vitest";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("README example", () => {
  it("runs and prints four samples with a finish reason each", async () => {
    // the block addresses the model relative to packages/: keep that true from the temp folder
    const lines = await runReadmeExample(pkg, {
      replace: [['new URL("../mathworld/base", import.meta.url)', 'new URL("../../mathworld/base", import.meta.url)']],
    });
    expect(lines).toHaveLength(4);
    for (const [i, l] of lines.entries()) expect(l).toMatch(new RegExp(`^${i} (eos|stop|length|context) ".*"$`));
  }, 60_000);
});
