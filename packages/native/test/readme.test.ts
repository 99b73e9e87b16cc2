// The README's example, run as written: the kernels on a toy batch whose numbers can be checked by hand.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisedOutput, readmeBlock, runReadmeExample } from "@rlvr/testing/readmeExample";
import { expect, it } from "vitest";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

it("README example prints what its closing comments say", async () => {
  const promised = promisedOutput(readmeBlock(pkg));
  expect(promised).toHaveLength(2);
  expect(await runReadmeExample(pkg)).toEqual(promised);
});
