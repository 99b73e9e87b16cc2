import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "@rlvr/testing/repoRoot";
import { readVerlDataset, readVerlParquet, sharedPath, writeVerlDataset, type VerlRow } from "@rlvr/data";
import { formatRanking, runSelect } from "../src/commands/select.js";

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "rlvr-cli-"));
  dirs.push(d);
  return d;
}

function row(index: number): VerlRow {
  return {
    data_source: "synthetic",
    prompt: [{ role: "user", content: `Problem ${index}.` }],
    ability: "math",
    reward_model: { ground_truth: String(index * 2), style: "rule" },
    extra_info: { index, split: "train" },
  };
}

/** Keys out of numeric order; 7 and 2 tie, as do 30, 12 and 5. */
const HISTORY = '{"30": [0, 0], "7": [0, 1], "12": [1, 1], "2": [1, 0], "5": [0.5, 0.5]}';

function fixture(): { dir: string; history: string; pool: string } {
  const dir = tempDir();
  const history = join(dir, "acc.json");
  writeFileSync(history, HISTORY);
  const pool = join(dir, "pool.jsonl");
  writeVerlDataset(pool, [30, 7, 12, 2, 5].map(row));
  return { dir, history, pool };
}

describe("runSelect", () => {
  it("ranks by historical variance, ties in file order", async () => {
    const { history } = fixture();
    const { ranking } = await runSelect({ history, method: "std" });
    expect(ranking.map((r) => r.index)).toEqual([7, 2, 30, 12, 5]);
    expect((await runSelect({ history, method: "std", top: "2" })).ranking).toEqual([
      { index: 7, score: 0.5 },
      { index: 2, score: 0.5 },
    ]);
    expect(formatRanking(ranking).split("\n")[0]).toMatch(/^\s+1\s+7\s+0\.500000$/);
  });

  it("random is seeded", async () => {
    const { history } = fixture();
    const a = await runSelect({ history, method: "random", seed: "3" });
    expect((await runSelect({ history, method: "random", seed: "3" })).ranking).toEqual(a.ranking);
    expect(a.ranking.map((r) => r.index).sort((x, y) => x - y)).toEqual([2, 5, 7, 12, 30]);
  });

  it("writes the top K repeated R times, as JSONL or parquet", async () => {
    const { dir, history, pool } = fixture();
    for (const ext of ["jsonl", "parquet"]) {
      const output = join(dir, `train.${ext}`);
      const result = await runSelect({ history, method: "std", top: "2", dataset: pool, repeat: "3", output });
      expect(result.written).toEqual({ path: output, rows: 6, indices: [7, 2] });
      expect((await readVerlDataset(output)).map((r) => r.extra_info.index)).toEqual([7, 7, 7, 2, 2, 2]);
    }
  });

  it("rejects bad flag combinations", async () => {
    const { dir, history, pool } = fixture();
    await expect(runSelect({ history, method: "variance" })).rejects.toThrow(/--method must be std or random/);
    await expect(runSelect({ history, method: "std", top: "0" })).rejects.toThrow(/--top must be a positive integer/);
    await expect(runSelect({ history, method: "std", top: "1", dataset: pool })).rejects.toThrow(/go together/);
    await expect(runSelect({ history, method: "std", dataset: pool, repeat: "2", output: join(dir, "o.jsonl") })).rejects.toThrow(/needs --top/);
    await expect(runSelect({ history, method: "std", top: "1", dataset: pool, repeat: "2", output: join(dir, "o.csv") })).rejects.toThrow(
      /expected a \.parquet or \.jsonl/,
    );
    await expect(runSelect({ history: join(dir, "none.json"), method: "std" })).rejects.toThrow(/none\.json/);
  });
});

const root = repoRoot();
const cli = join(root, "packages/cli/dist/cli.js");
const built = ["packages/cli/dist/commands/select.js", "packages/data/dist/index.js", "packages/report/dist/index.js"].every((p) =>
  existsSync(join(root, p)),
);

describe.skipIf(!built)("rlvr select (built CLI, end to end)", () => {
  it("prints the ranking as JSON and writes a training set", async () => {
    const { dir, history, pool } = fixture();
    const out = await run(process.execPath, [cli, "select", "--history", history, "--method", "std", "--top", "3", "--json"]);
    expect(JSON.parse(out.stdout)).toEqual([
      { index: 7, score: 0.5 },
      { index: 2, score: 0.5 },
      { index: 30, score: 0 },
    ]);
    const output = join(dir, "t.parquet");
    const w = await run(process.execPath, [cli, "select", "--history", history, "--method", "std", "--top", "1", "--dataset", pool, "--repeat", "4", "--output", output]);
    expect(w.stderr).toContain(`wrote 4 rows (examples 7) to ${output}`);
    expect(w.stdout.split("\n")[1]).toMatch(/^\s+1\s+7\s+0\.500000$/);
    await expect(run(process.execPath, [cli, "select", "--history", history, "--method", "nope"])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("rlvr: --method must be std or random"),
    });
  });

  const oneShot = sharedPath("datasets", "one-shot-rlvr");
  it.skipIf(!oneShot)("reproduces pi1_r128.parquet from acc_step_500.json and dsr_sub.parquet (skipped without shared data)", async () => {
    const output = join(tempDir(), "pi1.parquet");
    const args = ["select", "--history", join(oneShot!, "acc_step_500.json"), "--method", "std", "--top", "1", "--json"];
    const out = await run(process.execPath, [cli, ...args, "--dataset", join(oneShot!, "train", "dsr_sub.parquet"), "--repeat", "128", "--output", output]);
    expect(JSON.parse(out.stdout)[0].index).toBe(124);
    expect(await readVerlParquet(output)).toEqual(await readVerlParquet(join(oneShot!, "train", "pi1_r128.parquet")));
    expect(readFileSync(output).subarray(0, 4).toString()).toBe("PAR1");
  });
});

if (!built) {
  describe("rlvr select (built CLI)", () => {
    it.skip("skipped: build first (pnpm build) to run the end-to-end test of dist/cli.js", () => {});
  });
}
