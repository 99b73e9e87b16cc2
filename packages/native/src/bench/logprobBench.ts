/**
 * CPU benchmark of the fused log-prob + entropy kernels (issue: N = 4096,
 * V = 151,936, fp32). Reports GB/s of logits traffic and ratios to the plain
 * TypeScript reference, to a memory-copy bandwidth measured in the same run,
 * and to PyTorch CPU when Debian's python3-torch is installed. Writes JSON to
 * bench/results/kernels-cpu-<date>.json at the repository root; machine.cpuIsa
 * names the CPU path (RLVR_CPU_ISA picks another).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { buildInfo, cpuFeatures, cpuIsa } from "../info.js";
import { aggregationWeights, policyLoss, tokenLogprobs, tokenLogprobsBackward } from "../kernels.js";
import { tokenLogprobsRef } from "../reference/logprob.js";
import { Tensor } from "../tensor.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../../..");
const N = Number(process.env.RLVR_BENCH_N ?? 4096);
const V = Number(process.env.RLVR_BENCH_V ?? 151936);
const REPS = Number(process.env.RLVR_BENCH_REPS ?? 5);
const REF_ROWS = Math.min(N, 64); // the TS reference is timed on a row subset and scaled per row

function best(reps: number, fn: () => void): number {
  let b = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    b = Math.min(b, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return b;
}

function log(msg: string): void {
  console.error(`[bench] ${msg}`);
}

function main(): void {
  const bytes = N * V * 4;
  log(`allocating logits ${N} x ${V} f32 (${(bytes / 2 ** 30).toFixed(2)} GiB)`);
  const logits = new Float32Array(N * V);
  let seed = 12345;
  for (let i = 0; i < logits.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    logits[i] = ((seed >>> 8) / 16777216 - 0.5) * 12;
  }
  const targets = new Int32Array(N).map((_, i) => (i * 7919) % V);
  const L = Tensor.from(logits, [N, V]);
  const T = Tensor.from(targets, [N]);

  log("memory copy bandwidth");
  const copyDst = new Float32Array(N * V);
  const copyMs = best(REPS, () => copyDst.set(logits));
  // a copy reads and writes every byte: count both, as the GPU bench (and bandwidthTest) does,
  // so the fraction compares memory traffic with memory traffic
  const copyGBs = (2 * bytes) / copyMs / 1e6;

  log("native forward");
  let saved = tokenLogprobs(L, T);
  const fwdMs = best(REPS, () => (saved = tokenLogprobs(L, T)));

  log("native forward + backward (in place over a scratch copy)");
  const scratch = Tensor.from(copyDst, [N, V]);
  const fwdBwdMs = best(REPS, () => {
    copyDst.set(logits);
    const s = tokenLogprobs(scratch, T);
    tokenLogprobsBackward(scratch, T, s, { dlogp: s.logp, dentropy: s.entropy }, { inPlace: true });
  }) - copyMs; // the refill copy is not part of the kernels' work

  log("native fused policy loss (forward + backward, in place)");
  const mask = Tensor.from(new Float32Array(N).fill(1), [1, N]);
  const weights = aggregationWeights(mask).reshape([N]);
  const adv = Tensor.from(new Float32Array(N).map((_, i) => (i % 3) - 1), [N]);
  const policyMs = best(REPS, () => {
    copyDst.set(logits);
    policyLoss(scratch, T, { weights, oldLogp: saved.logp, refLogp: saved.logp, advantages: adv }, { klCoef: 0.001, entropyCoeff: 0.001, inPlace: true });
  }) - copyMs;

  log(`TS reference forward on ${REF_ROWS} rows`);
  const sub = logits.subarray(0, REF_ROWS * V);
  const refMs = best(1, () => tokenLogprobsRef(sub, REF_ROWS, V, targets)) * (N / REF_ROWS);

  let torch: Record<string, unknown> | null = null;
  const py = "/usr/bin/python3";
  const script = join(here, "../../bench/torch_logprob.py");
  if (existsSync(py) && spawnSync(py, ["-c", "import torch"]).status === 0) {
    log("PyTorch CPU peer");
    const r = spawnSync(py, [script, String(N), String(V), String(os.cpus().length), String(Math.min(REPS, 3))], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status === 0) torch = JSON.parse(r.stdout.trim().split("\n").pop()!);
    else log(`PyTorch run failed: ${r.stderr.slice(-500)}`);
  } else {
    log("PyTorch not found (apt-get install python3-torch to add the comparison)");
  }

  const gbs = (ms: number, traffic: number) => traffic / ms / 1e6;
  const fwdGBs = gbs(fwdMs, bytes);
  const result = {
    benchmark: "fused token log-prob + entropy (CPU)",
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, features: cpuFeatures(), cpuIsa: cpuIsa().active, kernelThreads: buildInfo().cpuThreads },
    shape: { n: N, v: V, dtype: "f32" },
    copy: { ms: copyMs, gbPerS: copyGBs, note: "Float32Array.set of the logits buffer; (bytes read + bytes written) / time" },
    forward: {
      ms: fwdMs, gbPerS: fwdGBs, fractionOfCopyBandwidth: fwdGBs / copyGBs,
      msPerMillionTokens: (fwdMs * 1e6) / N,
      speedupVsTsReference: refMs / fwdMs,
      speedupVsTorch: torch ? (torch.forward_ms as number) / fwdMs : null,
    },
    forwardBackward: {
      ms: fwdBwdMs, gbPerS: gbs(fwdBwdMs, 3 * bytes), note: "logits read twice, gradient written once (in place)",
      speedupVsTorch: torch ? (torch.forward_backward_ms as number) / fwdBwdMs : null,
    },
    policyLossFused: { ms: policyMs, gbPerS: gbs(policyMs, 3 * bytes) },
    tsReference: { forwardMsScaled: refMs, measuredRows: REF_ROWS },
    torch,
    targets: { forwardFractionOfCopy: 0.6, forwardSpeedupVsTorch: 3 },
  };
  const outDir = join(repo, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `kernels-cpu-${result.date.slice(0, 10)}.json`);
  writeFileSync(file + ".tmp", JSON.stringify(result, null, 2) + "\n");
  renameSync(file + ".tmp", file);
  console.log(
    [
      `fused log-prob + entropy, N=${N} V=${V} f32, ${result.machine.kernelThreads} threads`,
      `  copy bandwidth        ${copyGBs.toFixed(2)} GB/s`,
      `  forward               ${fwdMs.toFixed(1)} ms  ${fwdGBs.toFixed(2)} GB/s  ${(100 * result.forward.fractionOfCopyBandwidth).toFixed(0)}% of copy  ${result.forward.speedupVsTsReference.toFixed(1)}x TS ref  ${torch ? result.forward.speedupVsTorch!.toFixed(2) + "x torch" : "torch n/a"}`,
      `  forward + backward    ${fwdBwdMs.toFixed(1)} ms  ${result.forwardBackward.gbPerS.toFixed(2)} GB/s  ${torch ? result.forwardBackward.speedupVsTorch!.toFixed(2) + "x torch" : "torch n/a"}`,
      `  fused policy loss     ${policyMs.toFixed(1)} ms  ${result.policyLossFused.gbPerS.toFixed(2)} GB/s`,
      `  wrote ${file}`,
    ].join("\n"),
  );
}

main();
