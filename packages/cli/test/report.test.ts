import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "@rlvr/testing/repoRoot";

const run = promisify(execFile);
const root = repoRoot();
const cli = join(root, "packages/cli/dist/cli.js");
const built = ["packages/cli/dist/commands/report.js", "packages/report/dist/index.js"].every((p) => existsSync(join(root, p)));
const dir = mkdtempSync(join(tmpdir(), "rlvr-cli-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!built)("rlvr report (built CLI, end to end)", () => {
  it("writes report.html and the PNGs", async () => {
    const lines = [1, 2, 3].map((step) =>
      JSON.stringify({
        step,
        epoch: step,
        time: step * 10,
        reward_mean: step / 4,
        train_acc: step / 4,
        entropy: 0.5,
        response_length_mean: 400 + step,
        kl: 0,
        clip_frac: 0,
        pg_loss: 0,
        grad_norm: 1,
        lr: 1e-6,
        tokens_per_s: 1000,
        phase_s: { rollout: 5, reward: 1, old_logp: 1, ref_logp: 1, update: 2 },
      }),
    );
    writeFileSync(join(dir, "metrics.jsonl"), `${lines.join("\n")}\n`);
    const out = await run(process.execPath, [cli, "report", dir, "--png"]);
    expect(out.stdout.split("\n")[0]).toBe(join(dir, "report.html"));
    const charts = Number(/report of 3 steps, (\d+) charts/.exec(out.stderr)?.[1]);
    // reward, train_acc, entropy, length; kl, clip_frac, pg_loss, grad_norm, lr, tokens_per_s, time, epoch; the phases
    expect(charts).toBe(13);
    expect(readFileSync(join(dir, "report.html"), "utf8").match(/<svg[\s>]/g)?.length).toBe(charts);
    expect(existsSync(join(dir, "charts", "entropy.png"))).toBe(true);
  });

  it("overlays two runs into --out", async () => {
    const out = join(dir, "compare", "both.html");
    const r = await run(process.execPath, [cli, "report", dir, dir, "--out", out]);
    expect(r.stdout.split("\n")[0]).toBe(out);
    expect(r.stderr).toMatch(/^report of 2 runs, 6 steps, \d+ charts/m);
    expect(readFileSync(out, "utf8")).toContain("rlvr runs compared");
  });
});

if (!built) {
  describe("rlvr report (built CLI)", () => {
    it.skip("skipped: build first (pnpm build) to run the end-to-end test of dist/cli.js", () => {});
  });
}
