import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

import { readVerlDataset } from "@rlvr/data";

const cli = resolve(fileURLToPath(import.meta.url), "../../dist/cli.js");
const base = resolve(fileURLToPath(import.meta.url), "../../../mathworld/base");
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "rlvr-cli-mathworld-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rlvr mathworld export (built CLI)", () => {
  it("writes seeded verl splits as parquet and JSONL", async () => {
    const out = join(dir, "world");
    const { stdout } = await run("node", [cli, "mathworld", "export", "--out", out, "--seed", "3", "--train-size", "40", "--test-size", "10"]);
    expect(stdout).toContain("40 train, 10 test rows");
    const train = await readVerlDataset(join(out, "train.parquet"));
    const test = await readVerlDataset(join(out, "test.jsonl"));
    expect(train).toHaveLength(40);
    expect(test).toHaveLength(10);
    expect(train[0]!.data_source).toBe("mathworld");
    expect(test.map((r) => r.extra_info.index)).toEqual([...Array(10).keys()]);
  });

  it("rlvr pretrain --help lists its options", async () => {
    const { stdout } = await run("node", [cli, "pretrain", "--help"]);
    for (const flag of ["--out", "--seed", "--steps", "--target-accuracy", "--format-noise", "--slip-rate", "--recheck-rate"]) expect(stdout).toContain(flag);
  });

  it("rlvr mathworld eval --split val --samples grades strict and format-blind and reports the samples", async () => {
    const { stdout } = await run("node", [cli, "mathworld", "eval", "--model", base, "--split", "val", "--size", "6", "--samples", "4", "--json"]);
    const r = JSON.parse(stdout);
    expect(r.split).toBe("val");
    expect(r.total).toBe(6);
    expect(r.lenientAccuracy).toBeGreaterThanOrEqual(r.accuracy);
    expect(Object.values(r.bySlipSites as Record<string, { total: number }>).reduce((a, t) => a + t.total, 0)).toBe(6);
    expect(r.sampled.n).toBe(4);
    expect(r.sampled.temperature).toBe(0.6);
    expect(r.sampled.pass1).toBeLessThanOrEqual(r.sampled.passN);
    expect(r.sampled.distinctShare).toBeGreaterThan(0);
    expect(r.sampled.distinctShare).toBeLessThanOrEqual(1);
  });
});
