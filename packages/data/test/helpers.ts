import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { VerlRow } from "../src/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "rlvr-data-"));
  dirs.push(d);
  return d;
}

export function row(index: number, gold = String(index), extra: Record<string, unknown> = {}): VerlRow {
  return {
    data_source: "synthetic",
    prompt: [{ role: "user", content: `Problem ${index}. Let's think step by step and output the final answer within \\boxed{}.` }],
    ability: "math",
    reward_model: { ground_truth: gold, style: "rule" },
    extra_info: { index, split: "train", ...extra },
  };
}
