// The README's library example, run as written from the repository root (as it says): two steps of
// the built-in 1-shot run, ending with a checkpoint.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisedOutput, readmeBlock, runReadmeExample } from "@rlvr/testing/readmeExample";
import { afterAll, expect, it } from "vitest";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const cwd = process.cwd();
afterAll(() => process.chdir(cwd));

it("README example prints what its closing comment says", async () => {
  const promised = promisedOutput(readmeBlock(pkg));
  expect(promised).toHaveLength(1);
  process.chdir(join(pkg, "..", ".."));
  expect(await runReadmeExample(pkg)).toEqual(promised);
});
