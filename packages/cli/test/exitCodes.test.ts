// Exit codes of the built CLI: 2 for usage errors (a bad option, argument or config key), 1 for
// other failures, 0 for help; the message names what to fix.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cli = join(resolve(dirname(fileURLToPath(import.meta.url)), "../dist/cli.js"));

function rlvr(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!existsSync(cli))("rlvr exit codes (built CLI)", () => {
  it("2 for usage errors, with commander's or the config's message", async () => {
    const unknownOption = await rlvr(["generate", "--model", "x", "--prompt", "hi", "--no-such-option"]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/unknown option '--no-such-option'/);
    const missing = await rlvr(["generate", "--prompt", "hi"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--model <dir>' not specified/);
    const badValue = await rlvr(["generate", "--model", "x", "--prompt", "hi", "--temperature", "-1"]);
    expect(badValue.code).toBe(2);
    const badKey = await rlvr(["train", "--set", "actor.lrr=1e-6", "--print-config"]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/did you mean "actor\.lr"\?/);
  }, 240_000);

  it("0 for --help, 1 for a failure that is not the command line's", async () => {
    expect((await rlvr(["--help"])).code).toBe(0);
    expect((await rlvr(["train", "--help"])).code).toBe(0);
    const missingModel = await rlvr(["generate", "--model", "/nonexistent/model", "--prompt", "hi"]);
    expect(missingModel.code).toBe(1);
    expect(missingModel.stderr).toMatch(/^rlvr: .*\/nonexistent\/model/m);
  }, 240_000);
});

describe.skipIf(!existsSync(cli))("option names (built CLI)", () => {
  it("--max-new-tokens and --timeout-ms are the names in --help; the old spellings still work", async () => {
    for (const cmd of ["generate", "eval"]) {
      const help = (await rlvr([cmd, "--help"])).stdout;
      expect(help).toContain("--max-new-tokens <m>");
      expect(help).not.toContain("--max-tokens");
    }
    const verifyHelp = (await rlvr(["verify", "--help"])).stdout;
    expect(verifyHelp).toContain("--timeout-ms <ms>");
    expect(verifyHelp).not.toMatch(/--timeout </);
    for (const flag of ["--timeout-ms", "--timeout"]) {
      const r = await rlvr(["verify", "--response", "\\boxed{2}", "--gold", "2", flag, "3000000000"]);
      expect(r.code, flag).toBe(1);
      expect(r.stderr).toMatch(/--timeout-ms must be/);
      expect((await rlvr(["verify", "--response", "\\boxed{2}", "--gold", "2", flag, "4000"])).code, flag).toBe(0);
    }
  }, 240_000);
});
