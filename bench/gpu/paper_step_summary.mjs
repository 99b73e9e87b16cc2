#!/usr/bin/env node
// Summarizes `rlvr train` runs of the paper's step (run_paper_step.sh) into paper-step.json:
// per step, rollout seconds and tokens/s, reference and old log-prob seconds, update seconds
// and MFU, peak device memory and the host's share, with issue #18's targets beside them.
// Usage: node paper_step_summary.mjs --model DIR --device NAME --commit SHA [--peak-tflops 989]
//          MODE=RUN_DIR [MODE=RUN_DIR ...]
// (run from the repository root after `pnpm build`: it reads the model's parameter count with
// @rlvr/engine's parameterCount)
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { parameterCount } from "../../packages/engine/dist/memory.js";
import { parseModelConfig } from "../../packages/model/dist/index.js";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const modelDir = opt("model", "");
const device = opt("device", "unknown");
const commit = opt("commit", "unknown");
// bf16 dense peak of an H100 SXM (the figure the C++ bench's MFU uses); an H200 has the same
const peakFlops = Number(opt("peak-tflops", "989")) * 1e12;
if (!modelDir || args.length === 0) {
  console.error("usage: node paper_step_summary.mjs --model DIR --device NAME --commit SHA MODE=RUN_DIR ...");
  process.exit(2);
}
const params = parameterCount(parseModelConfig(JSON.parse(readFileSync(join(modelDir, "config.json"), "utf8"))));

const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const modes = {};
for (const a of args) {
  const [mode, dir] = a.split("=");
  let lines;
  try {
    lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch (e) {
    modes[mode] = { error: `no metrics: ${e.message}` };
    continue;
  }
  modes[mode] = {
    steps: lines.map((m, i) => {
      const p = m.phase_s;
      const device_s = p.rollout + p.old_logp + p.ref_logp + p.update + (p.values ?? 0) + (p.critic ?? 0);
      const step_s = m.step_s ?? device_s + p.reward;
      const peaks = m.device_peak_gib ?? {};
      return {
        step: m.step,
        first: i === 0,
        step_s: round(step_s),
        rollout_s: round(p.rollout),
        responses_tokens: m.generated_tokens,
        rollout_tokens_per_s: round(m.tokens_per_s, 0),
        old_logp_s: round(p.old_logp),
        ref_logp_s: round(p.ref_logp),
        reward_wait_s: round(p.reward),
        update_s: round(p.update),
        update_tokens: m.trained_tokens,
        // 6 x params FLOPs a trained token (forward + backward), as the C++ bench counts it
        update_mfu: p.update > 0 && m.trained_tokens ? round((6 * params * m.trained_tokens) / p.update / peakFlops, 4) : null,
        peak_device_gib: Object.keys(peaks).length ? round(Math.max(...Object.values(peaks)), 2) : null,
        peak_device_gib_by_phase: peaks,
        // the step outside the device phases (reward wait, advantages, metrics, checkpoint); the
        // host's per-token work inside the rollout is part of rollout_s
        host_s: round(Math.max(0, step_s - device_s)),
        host_share: round(Math.max(0, step_s - device_s) / step_s, 4),
        response_length_mean: round(m.response_length_mean, 1),
        optimizer_steps: m.optimizer_steps,
      };
    }),
  };
}

console.log(
  JSON.stringify(
    {
      bench: "paper-step",
      device,
      commit,
      model: "Qwen2.5-Math-1.5B shapes, random weights (rlvr init)",
      params,
      peak_flops: peakFlops,
      targets: { worst_case_step_s: 240, rollout_tokens_per_s: 25000, update_mfu: 0.4, peak_device_gib: 75, host_share: 0.05 },
      modes,
    },
    null,
    2,
  ),
);
