// CPU engine throughput vs PyTorch on the same shapes, in the same run.
//
//   pnpm --filter @rlvr/engine bench            (or `pnpm bench` at the root)
//   node --expose-gc dist/bench/engineBench.js [--only tiny|qwen0.5b] [--no-torch] [--no-write]
//
// For each shape (a tiny d=256 model and a Qwen2.5-0.5B-shaped one, random
// weights, fp32) it measures
//   train:  tokens/s of forwardBackward (the fused policy loss at the LM head)
//           + optimizerStep (grad-norm clip + AdamW), steady state after one
//           warm-up step;
//   decode: greedy KV-cache decode tokens/s (B rows x S steps after a prefill),
// for rlvr and for PyTorch CPU (bench/torch_engine.py: the model of
// fixtures/make_golden.py, F.linear + matmul attention + torch.optim.AdamW),
// both on RLVR_NUM_THREADS (default 2) threads, and writes
// bench/results/engine-cpu-<date>-<CPU path>.json at the repository root with the
// tokens/s, the ratios rlvr / torch, and a human summary. Progress goes to stderr.
//
// PyTorch runs under Debian's /usr/bin/python3 (RLVR_TORCH_PYTHON overrides).
// Debian's python3-torch calls the generic libblas.so.3; when OpenBLAS
// (libopenblas0-pthread) is installed its libblas is put first on the peer's
// LD_LIBRARY_PATH, because the reference BLAS (~2.5 GFLOP/s) would make any
// ratio meaningless. The JSON records which BLAS the peer loaded. The peer
// runs with OMP_WAIT_POLICY=PASSIVE (see runTorch), its best setting here.
// RLVR_CPU_ISA=avx512|avx2|neon|generic runs rlvr on another instruction-set
// path (e.g. the AVX2 one on an AVX-512 machine); the JSON names the path.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";

import { expectedTensorShapes, parseModelConfig, type TensorData } from "@rlvr/model";
import { cpuIsa } from "@rlvr/native";
import { repoRoot } from "@rlvr/testing/repoRoot";

import { Engine } from "../engine.js";

interface Shape {
  name: string;
  hf: Record<string, unknown>;
  train: { batch: number; seq: number; steps: number };
  decode: { batch: number; prompt: number; steps: number };
}

const qwen2 = (o: Record<string, unknown>) => ({
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", hidden_act: "silu", rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, rope_scaling: null, max_position_embeddings: 32768, tie_word_embeddings: true,
  use_sliding_window: false, torch_dtype: "float32", ...o,
});

const SHAPES: Shape[] = [
  {
    name: "tiny",
    hf: qwen2({ vocab_size: 8192, hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 4,
      num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64 }),
    train: { batch: 4, seq: 256, steps: 3 },
    decode: { batch: 8, prompt: 32, steps: 64 },
  },
  {
    name: "qwen0.5b",
    hf: qwen2({ vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
      num_attention_heads: 14, num_key_value_heads: 2, head_dim: 64 }),
    train: { batch: 1, seq: 128, steps: 3 },
    decode: { batch: 4, prompt: 16, steps: 16 },
  },
];

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const threads = Number(process.env.RLVR_NUM_THREADS ?? 2);
process.env.RLVR_NUM_THREADS = String(threads);
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

const now = () => performance.now() / 1000;
/** CPU seconds of this process, all threads (robust to other load on the machine). */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function argmaxRows(logits: Float32Array, rows: number, v: number): Int32Array {
  const out = new Int32Array(rows);
  for (let b = 0; b < rows; b++) {
    let best = 0;
    const o = b * v;
    for (let j = 1; j < v; j++) if (logits[o + j]! > logits[o + best]!) best = j;
    out[b] = best;
  }
  return out;
}

interface Side {
  train: { tokensPerS: number; tokensPerCpuS: number; stepS: number[]; stepCpuS: number[] };
  decode: { tokensPerS: number; tokensPerCpuS: number; prefillS: number; decodeS: number; decodeCpuS: number };
}

async function runRlvr(s: Shape): Promise<Side & { parameters: number }> {
  const config = parseModelConfig(s.hf);
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;
  const t0 = now();
  let weights: Map<string, TensorData> | undefined = new Map();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = name.endsWith("norm.weight") ? 1 : rand();
    weights.set(name, { shape, data });
  }
  const e = Engine.fromWeights(config, weights);
  weights = undefined;
  (globalThis as { gc?: () => void }).gc?.(); // drop the JS copy (2 GB for the 0.5B shape) before training
  log(`rlvr ${s.name}: ${(e.numParameters / 1e6).toFixed(1)}M parameters (${(now() - t0).toFixed(1)} s)`);
  const V = config.vocabSize;
  const { batch: B, seq: T, steps } = s.train;
  const n = B * T;
  const inputIds = Int32Array.from({ length: n }, (_, i) => (i * 7919) % V);
  const targets = Int32Array.from({ length: n }, (_, i) => (i * 104729) % V);
  const x = {
    batch: B, length: T, inputIds, attentionMask: new Float32Array(n).fill(1), targets,
    weights: new Float32Array(n).fill(1 / n), oldLogp: new Float32Array(n), advantages: new Float32Array(n).fill(1),
  };
  const stepS: number[] = [], stepCpuS: number[] = [];
  for (let k = 0; k <= steps; k++) {
    const t = now(), c = cpuNow();
    await e.forwardBackward(x);
    await e.optimizerStep({ lr: 1e-5, maxGradNorm: 1 });
    stepS.push(now() - t);
    stepCpuS.push(cpuNow() - c);
    log(`rlvr ${s.name}: train step ${k}${k === 0 ? " (warm-up)" : ""}: ${stepS[k]!.toFixed(2)} s (cpu ${stepCpuS[k]!.toFixed(2)} s)`);
  }
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const train = {
    tokensPerS: (n * steps) / sum(stepS.slice(1)), tokensPerCpuS: (n * steps) / sum(stepCpuS.slice(1)), stepS, stepCpuS,
  };

  const { batch: Bd, prompt: P, steps: S } = s.decode;
  const prompt = {
    batch: Bd, length: P, inputIds: Int32Array.from({ length: Bd * P }, (_, i) => (i * 7919) % V),
    attentionMask: new Float32Array(Bd * P).fill(1), capacity: P + S,
  };
  const runDecode = async () => {
    let t = now();
    let logits = await e.decode.prefill(prompt);
    const prefillS = now() - t;
    t = now();
    const c = cpuNow();
    for (let k = 0; k < S; k++) logits = await e.decode.step(argmaxRows(logits, Bd, V));
    return { prefillS, decodeS: now() - t, decodeCpuS: cpuNow() - c };
  };
  if (e.numParameters < 5e7) await runDecode(); // warm-up (cheap models only; the peer does the same)
  const d = await runDecode();
  log(`rlvr ${s.name}: prefill ${d.prefillS.toFixed(2)} s; decode ${S} steps x ${Bd} rows: ${d.decodeS.toFixed(2)} s (cpu ${d.decodeCpuS.toFixed(2)} s)`);
  return {
    parameters: e.numParameters, train,
    decode: { tokensPerS: (Bd * S) / d.decodeS, tokensPerCpuS: (Bd * S) / d.decodeCpuS, ...d },
  };
}

interface TorchOut {
  torch: string; threads: number; blas: string[]; parameters: number;
  train: { step_s: number[]; step_cpu_s: number[]; tokens_per_s: number; tokens_per_cpu_s: number };
  decode: { tokens_per_s: number; tokens_per_cpu_s: number; prefill_s: number; decode_s: number; decode_cpu_s: number };
}

function runTorch(s: Shape): (Side & { info: Omit<TorchOut, "train" | "decode"> }) | { error: string } {
  const py = process.env.RLVR_TORCH_PYTHON ?? "/usr/bin/python3";
  const script = join(repoRoot(), "packages", "engine", "bench", "torch_engine.py");
  const openblas = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
  // PASSIVE: torch's OpenMP workers must not spin while OpenBLAS's own threads
  // run a GEMM (spinning halves torch's training and cuts decode ~5x on 2 cores).
  const env: NodeJS.ProcessEnv = {
    ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: "PASSIVE",
  };
  if (existsSync(join(openblas, "libblas.so.3")))
    env.LD_LIBRARY_PATH = [openblas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  const r = spawnSync(
    py,
    [script, "--config", JSON.stringify(s.hf), "--threads", String(threads),
      "--train-batch", String(s.train.batch), "--train-seq", String(s.train.seq), "--train-steps", String(s.train.steps),
      "--decode-batch", String(s.decode.batch), "--prompt", String(s.decode.prompt), "--decode-steps", String(s.decode.steps)],
    { env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) return { error: `${py} torch_engine.py exited ${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ""}` };
  const o = JSON.parse(r.stdout.trim().split("\n").pop()!) as TorchOut;
  const { train, decode, ...info } = o;
  return {
    info,
    train: { tokensPerS: train.tokens_per_s, tokensPerCpuS: train.tokens_per_cpu_s, stepS: train.step_s, stepCpuS: train.step_cpu_s },
    decode: {
      tokensPerS: decode.tokens_per_s, tokensPerCpuS: decode.tokens_per_cpu_s, prefillS: decode.prefill_s,
      decodeS: decode.decode_s, decodeCpuS: decode.decode_cpu_s,
    },
  };
}

const TARGETS = { train: 1.0, decode: 1.5 };
const t0 = now();
const results: Record<string, unknown>[] = [];
const lines: string[] = [];
for (const s of SHAPES) {
  if (only && s.name !== only) continue;
  // 1-minute load average before each side: above ~0 means other processes
  // competed for the cores (the per-CPU-second ratio is the robust one then).
  const load: Record<string, number> = {};
  log(`${s.name}: torch peer... (load ${loadavg()[0]!.toFixed(2)})`);
  load.torch = loadavg()[0]!;
  const torch = flag("--no-torch") ? { error: "skipped (--no-torch)" } : runTorch(s);
  if ("error" in torch) log(`${s.name}: torch: ${torch.error}`);
  log(`${s.name}: rlvr... (load ${loadavg()[0]!.toFixed(2)})`);
  load.rlvr = loadavg()[0]!;
  const rlvr = await runRlvr(s);
  // ratio: wall-clock tokens/s (the target); ratioCpu: tokens per CPU-second
  // (what each side gets out of the cores it actually ran on).
  const ratio = "error" in torch ? null : {
    train: rlvr.train.tokensPerS / torch.train.tokensPerS,
    decode: rlvr.decode.tokensPerS / torch.decode.tokensPerS,
  };
  const ratioCpu = "error" in torch ? null : {
    train: rlvr.train.tokensPerCpuS / torch.train.tokensPerCpuS,
    decode: rlvr.decode.tokensPerCpuS / torch.decode.tokensPerCpuS,
  };
  results.push({
    shape: s.name, config: s.hf, parameters: rlvr.parameters, train: s.train, decode: s.decode,
    rlvr: { train: rlvr.train, decode: rlvr.decode },
    torch: "error" in torch ? torch : { ...torch.info, train: torch.train, decode: torch.decode },
    ratio, ratioCpu, loadBefore: load,
  });
  const f = (v: number) => v.toFixed(v < 100 ? 1 : 0);
  const tr = "error" in torch ? "n/a" : f(torch.train.tokensPerS), td = "error" in torch ? "n/a" : f(torch.decode.tokensPerS);
  const rr = (v: number | undefined, t: number) => (v === undefined ? "n/a" : `${v.toFixed(2)}x${v >= t ? "" : " (below target)"}`);
  const rc = (v: number | undefined) => (v === undefined ? "" : `; per CPU-second ${v.toFixed(2)}x`);
  lines.push(
    `${s.name.padEnd(9)} train  (${s.train.batch}x${s.train.seq} tokens/step): rlvr ${f(rlvr.train.tokensPerS)} tok/s, torch ${tr} tok/s, ratio ${rr(ratio?.train, TARGETS.train)}${rc(ratioCpu?.train)}`,
    `${s.name.padEnd(9)} decode (batch ${s.decode.batch}, ${s.decode.steps} steps):      rlvr ${f(rlvr.decode.tokensPerS)} tok/s, torch ${td} tok/s, ratio ${rr(ratio?.decode, TARGETS.decode)}${rc(ratioCpu?.decode)}`,
  );
}
// The CPU kernels' instruction-set path (RLVR_CPU_ISA=avx512|avx2|neon|generic picks another).
const isa = cpuIsa();
if (isa.warning) log(isa.warning);
const summary = [`engine CPU bench, ${threads} threads, ${cpus()[0]?.model ?? "cpu"}, CPU path ${isa.active} (targets: train >= ${TARGETS.train}x, decode >= ${TARGETS.decode}x PyTorch)`, ...lines];
const report = {
  date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cpuIsa: isa.active,
  cpuIsaSupported: isa.supported, threads, targets: TARGETS,
  seconds: Number((now() - t0).toFixed(1)), results, summary,
};
console.log(summary.join("\n"));
if (!flag("--no-write")) {
  const dir = join(repoRoot(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `engine-cpu-${report.date.slice(0, 10)}-${isa.active}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${file} (${report.seconds} s)`);
}
