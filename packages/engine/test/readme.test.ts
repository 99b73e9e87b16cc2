// The README's example, run as written on the built-in math-world model: score, one policy-gradient
// update that raises the scored tokens' log-probs, decoding and a checkpoint.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisedOutput, readmeBlock, runReadmeExample } from "@rlvr/testing/readmeExample";
import { expect, it } from "vitest";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

it("README example prints what its closing comment says", async () => {
  const promised = promisedOutput(readmeBlock(pkg));
  expect(promised).toHaveLength(1);
  // the example runs one folder deeper (a temp folder inside the package)
  const lines = await runReadmeExample(pkg, { replace: [['"../mathworld/base"', '"../../mathworld/base"']] });
  expect(lines).toEqual(promised);
});
