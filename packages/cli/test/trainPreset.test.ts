import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const cli = resolve(fileURLToPath(import.meta.url), "../../dist/cli.js");
const mathworld = resolve(fileURLToPath(import.meta.url), "../../../mathworld");
const run = promisify(execFile);

describe("rlvr train with no arguments (built-in preset)", () => {
  it("--print-config resolves mathworld-1shot from any working directory: committed base, pi_1, test split", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "rlvr-preset-"));
    const { stdout } = await run("node", [cli, "train", "--print-config"], { cwd });
    const line = (re: RegExp) => stdout.match(re)?.[1];
    expect(line(/^preset: (.*)$/m)).toBe("mathworld-1shot");
    expect(line(/^model:\n {2}path: (.*)$/m)).toBe(join(mathworld, "base"));
    expect(line(/^data:\n {2}train: (.*)$/m)).toBe(join(mathworld, "data", "pi1.jsonl"));
    expect(line(/^ {4}mathworld: (.*)$/m)).toBe(join(mathworld, "data", "test.jsonl"));
    expect(stdout).toMatch(/^eval:\n {2}benchmarks:\n {4}- mathworld$/m);
    // the default run folder is a fresh runs/mathworld-1shot-<time> under the working directory
    expect(line(/^ {2}outDir: (.*)$/m)?.startsWith(join(cwd, "runs", "mathworld-1shot-"))).toBe(true);
    // --set still applies on top of the preset; a config file or --preset switches it off
    const { stdout: withSet } = await run("node", [cli, "train", "--print-config", "--set", "trainer.totalSteps=3"], { cwd });
    expect(withSet).toMatch(/^ {2}totalSteps: 3$/m);
  });
});
