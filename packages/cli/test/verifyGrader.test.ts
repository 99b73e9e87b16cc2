import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = resolve(dirname(fileURLToPath(import.meta.url)), "../dist/cli.js");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("rlvr verify --grader", () => {
  it("boxed by default; qwen-math reads an unboxed answer; an unknown name is refused naming the flag", async () => {
    const one = async (...extra: string[]) =>
      JSON.parse((await run(process.execPath, [cli, "verify", "--response", "So the answer is 42.", "--gold", "42", ...extra])).stdout) as { correct: boolean; reason: string };
    expect(await one()).toMatchObject({ correct: false, reason: "no-answer" });
    expect(await one("--grader", "boxed")).toMatchObject({ correct: false });
    expect(await one("--grader", "qwen-math")).toMatchObject({ correct: true });
    await expect(run(process.execPath, [cli, "verify", "--response", "1", "--gold", "1", "--grader", "qwen"])).rejects.toMatchObject({
      stderr: expect.stringMatching(/--grader: unknown grader "qwen"; use one of "boxed", "qwen-math"/),
    });
  });

  it("grades a JSONL file with the grader given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rlvr-verify-"));
    dirs.push(dir);
    const input = join(dir, "in.jsonl");
    const output = join(dir, "out.jsonl");
    const rows = [
      { response: "\\boxed{0.3333}", gold: "\\frac{1}{3}" },
      { response: "The final answer is 12.", gold: "12" },
      { response: "\\boxed{13}", gold: "12" },
    ];
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    await run(process.execPath, [cli, "verify", "--input", input, "--output", output, "--grader", "qwen-math", "--workers", "1"]);
    const got = readFileSync(output, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { correct: boolean }).correct);
    expect(got).toEqual([true, true, false]);
  });
});
