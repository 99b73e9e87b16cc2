// A program that uses the verifier and does nothing else must end by itself: the shared pool's
// idle workers may not keep the process alive. Each case runs in a child process (the module's
// shared pool is per process); the child's time limit is only a hang guard, far above its run.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, it } from "vitest";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");
const tmp = mkdtempSync(join(tmpdir(), "rlvr-verifier-exit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function runChild(code: string): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  const file = join(tmp, `case${n++}.mjs`);
  writeFileSync(file, `import * as v from ${JSON.stringify(dist)};\n${code}\n`);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: 90_000, killSignal: "SIGKILL" }, (err, stdout) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e?.signal ?? null, stdout });
    });
  });
}

function runEval(code: string): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  const script = `import * as v from ${JSON.stringify(dist)};\n${code}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 90_000, killSignal: "SIGKILL" }, (err, stdout) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e?.signal ?? null, stdout });
    });
  });
}

describe("the process ends when the verifier is idle", () => {
  it.each([
    ["verify() and reward() on the shared pool (the README example)", `console.log((await v.verify("so \\\\boxed{\\\\frac12}", "0.5")).correct, await v.reward("\\\\boxed{2}", "2"));`],
    ["a pool of 2 workers left open", `const p = new v.VerifierPool({ size: 2 }); console.log((await p.verify("\\\\boxed{1}", "1")).correct);`],
    // flags a worker cannot take are not passed on to it
    ["under node --input-type=module (the flag is not inherited by the workers)", `console.log((await v.verify("\\\\boxed{3}", "3")).correct);`],
  ])("%s", async (name, code) => {
    const r = name.startsWith("under node --input-type") ? await runEval(code) : await runChild(code);
    expect(r.signal, "killed by the hang guard: the process did not exit by itself").toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout.trim().startsWith("true")).toBe(true);
  }, 120_000);
});
