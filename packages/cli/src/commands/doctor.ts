import { Command } from "commander";
import os from "node:os";

import { bf16GemmImpl, buildInfo, cpuFeatures, cpuIsa, devices, loadAddon } from "@rlvr/native";

export interface DoctorReport {
  node: string;
  platform: string;
  cpu: { model: string; cores: number; features: Record<string, boolean>; isa: ReturnType<typeof cpuIsa>; isaNote: string };
  build: ReturnType<typeof buildInfo>;
  cuda: { compiled: boolean; devices: ReturnType<typeof devices>; bf16Gemm: string; note: string };
}

/** Collects what rlvr can use on this machine. */
export function doctorReport(): DoctorReport {
  loadAddon();
  const build = buildInfo();
  const isa = cpuIsa();
  const gpus = devices();
  const note = !build.cudaCompiled
    ? "CUDA kernels were not compiled (nvcc not found at build time, or RLVR_CUDA=off); CPU kernels are used"
    : gpus.length === 0
      ? "CUDA kernels are compiled, but no CUDA device or driver was found; CPU kernels are used"
      : `CUDA kernels ready on ${gpus.length} device(s)`;
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: { model: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, features: cpuFeatures(), isa, isaNote: isaNote(isa) },
    build,
    cuda: { compiled: build.cudaCompiled, devices: gpus, bf16Gemm: bf16GemmImpl(), note },
  };
}

/** What the CPU path means for speed: the README's CPU timings were measured on AVX-512. */
function isaNote(isa: ReturnType<typeof cpuIsa>): string {
  switch (isa.active) {
    case "avx512": return "16-wide fp32 vectors (the path of the README's CPU timings)";
    case "avx2": return "8-wide fp32 vectors: GEMMs at about half the AVX-512 path's rate, so a CPU training step takes up to ~2x the README's timings";
    case "neon": return "4-wide fp32 vectors (ARM64): slower per core than AVX-512, so expect longer runs than the README's CPU timings";
    default: return "portable 4-wide code without FMA on x86: several times slower than AVX2 / AVX-512";
  }
}

function formatReport(r: DoctorReport): string {
  const feats = Object.entries(r.cpu.features).filter(([, v]) => v).map(([k]) => k).join(" ") || "baseline";
  const lines = [
    `node        ${r.node} (${r.platform})`,
    `cpu         ${r.cpu.model}, ${r.cpu.cores} cores, kernel threads ${r.build.cpuThreads}, SIMD: ${feats}`,
    `cpu path    ${r.cpu.isa.active} (RLVR_CPU_ISA=${r.cpu.isa.requested}; runs here: ${r.cpu.isa.supported.join(", ")}): ${r.cpu.isaNote}`,
    ...(r.cpu.isa.warning ? [`warning     ${r.cpu.isa.warning}`] : []),
    `addon       ${r.build.cxxCompiler}, ${r.build.buildType}, N-API ${r.build.napiVersion}, malloc tuning ${r.build.mallocTuning.applied ? `on (heap blocks <= ${r.build.mallocTuning.mmapThreshold / 2 ** 20} MiB, keeps ${r.build.mallocTuning.trimThreshold / 2 ** 20} MiB)` : "off"}`,
    `cuda        ${r.build.cudaCompiled ? `compiled (nvcc ${r.build.cudaCompilerVersion}, archs ${r.build.cudaArchs}, runtime ${r.build.cudaRuntimeVersion})` : "not compiled"}`,
    ...r.cuda.devices.map((d) => `gpu ${d.index}       ${d.name}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB (${(d.freeMemory / 2 ** 30).toFixed(1)} free), sm ${d.computeCapability}, ${d.multiprocessors} SMs, bf16 GEMMs on ${r.cuda.bf16Gemm}`),
    `status      ${r.cuda.note}`,
  ];
  return lines.join("\n");
}

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("show build info, CPU features, whether CUDA was compiled, and the GPUs found")
    .option("--json", "print the report as JSON")
    .action((opts: { json?: boolean }) => {
      const r = doctorReport();
      console.log(opts.json ? JSON.stringify(r, null, 2) : formatReport(r));
    });
}
