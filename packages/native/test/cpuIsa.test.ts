/**
 * The CPU kernels' instruction-set paths (native/src/kernels/cpu/isa.h): every path this machine
 * runs is run here. The fused paths (avx512, avx2, neon; generic on ARM64) give bit-identical
 * results; x86 generic (no FMA in the x86-64 baseline) agrees within rounding. A bad
 * RLVR_CPU_ISA never reaches an instruction the CPU lacks: it is reported and the best path runs.
 * The GEMM is checked element by element against a scalar reference on each path by the
 * standalone rlvr_cpu_kernel_check (native/test/cpu_kernel_check.cpp), run here too.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { arch } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

import { afterAll, describe, expect, it } from "vitest";

import { RlvrError, Tensor, ValueError, cpuFeatures, cpuIsa, setCpuIsa, tokenLogprobs, tokenLogprobsBackward } from "../src/index.js";
import type { CpuIsaName } from "../src/index.js";
import { i32, rng, thrown } from "./helpers.js";

const release = process.env.RLVR_ADDON_PATH
  ? dirname(process.env.RLVR_ADDON_PATH)
  : join(dirname(createRequire(import.meta.url).resolve("@rlvr/addon/package.json")), "build", "Release");
const addonPath = process.env.RLVR_ADDON_PATH ?? join(release, "rlvr_native.node");
const execFileAsync = promisify(execFile);
// Children run asynchronously, so the worker's event loop stays free while they load the addon.
interface ChildOut { status: number | null; signal: string | null; stdout: string; stderr: string }
async function child(file: string, args: string[], env: Record<string, string>): Promise<ChildOut> {
  try {
    const r = await execFileAsync(file, args, { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
    return { status: 0, signal: null, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; signal?: string; stdout?: string; stderr?: string };
    return { status: typeof x.code === "number" ? x.code : null, signal: x.signal ?? null, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}
const childIsa = async (value: string) => {
  const r = await child(process.execPath, ["-e", `console.log(JSON.stringify(require(${JSON.stringify(addonPath)}).cpuIsa()))`], { RLVR_CPU_ISA: value });
  return { ...r, info: JSON.parse(r.stdout.trim()) as ReturnType<typeof cpuIsa> };
};
const fused = (isa: CpuIsaName) => isa !== "generic" || arch() === "arm64";
const start = cpuIsa().active;
afterAll(() => { setCpuIsa(start); });

describe("which paths run here", () => {
  it("the active path is one this machine runs; generic always runs", () => {
    const info = cpuIsa();
    expect(info.supported).toContain(info.active);
    expect(info.supported).toContain("generic");
    expect(info.supported.at(-1)).toBe("generic");
  });
  it.runIf(arch() === "x64")("x86: avx512 / avx2 are listed exactly when the CPU has them", () => {
    const f = cpuFeatures();
    expect(cpuIsa().supported.includes("avx2")).toBe(Boolean(f.avx2 && f.fma));
    if (cpuIsa().supported.includes("avx512")) expect(f.avx512f && f.avx512bw).toBe(true);
    expect(cpuIsa().supported).not.toContain("neon");
  });
  it.runIf(arch() === "arm64")("ARM64: neon first, no x86 path", () => {
    expect(cpuIsa().supported).toEqual(["neon", "generic"]);
  });
});

describe("RLVR_CPU_ISA", () => {
  it("names the path to run (each supported one, in a child process)", async () => {
    for (const isa of cpuIsa().supported) {
      const c = await childIsa(isa);
      expect(c.status).toBe(0);
      expect(c.info.active).toBe(isa);
      expect(c.info.warning).toBe("");
    }
  });
  it("an unknown value: a warning naming it (stderr and cpuIsa().warning), the best path runs, no crash", async () => {
    const c = await childIsa("avx1024");
    expect(c.signal).toBeNull();
    expect(c.status).toBe(0);
    expect(c.info.active).toBe(cpuIsa().supported[0]);
    expect(c.info.warning).toMatch(/RLVR_CPU_ISA=avx1024: "avx1024" is not a CPU path \(expected auto, avx512, avx2, neon or generic\)/);
    expect(c.stderr).toContain(c.info.warning);
  });
  it("a path this CPU cannot run: a warning with the ones it can, the best path runs (never SIGILL)", async () => {
    const missing = arch() === "arm64" ? "avx512" : "neon";
    const c = await childIsa(missing);
    expect(c.signal).toBeNull();
    expect(c.status).toBe(0);
    expect(c.info.active).toBe(cpuIsa().supported[0]);
    expect(c.info.warning).toContain(`"${missing}" cannot run on this CPU or build (supported here: ${cpuIsa().supported.join(", ")})`);
  });
  it("auto and upper case are accepted", async () => {
    expect((await childIsa("auto")).info).toMatchObject({ active: cpuIsa().supported[0], warning: "" });
    expect((await childIsa(cpuIsa().supported[0]!.toUpperCase())).info.warning).toBe("");
  });
});

describe("setCpuIsa", () => {
  it("an unknown or unsupported name is a ValueError naming isa, and the path is unchanged", () => {
    const before = cpuIsa().active;
    for (const bad of ["sse9", arch() === "arm64" ? "avx2" : "neon"]) {
      const e = thrown(() => setCpuIsa(bad as CpuIsaName));
      expect(e).toBeInstanceOf(ValueError);
      expect((e as RlvrError).argument).toBe("isa");
      expect(cpuIsa().active).toBe(before);
    }
  });
  it("switches the path and returns it", () => {
    for (const isa of cpuIsa().supported) {
      expect(setCpuIsa(isa)).toBe(isa);
      expect(cpuIsa().active).toBe(isa);
    }
    expect(setCpuIsa("auto")).toBe(cpuIsa().supported[0]);
  });
});

describe("the row softmax kernels (fused log-prob + entropy, forward and backward) on every path", () => {
  // 6 rows of 5000: several 2048-element blocks, a ragged tail, a row with -inf entries
  const n = 6, v = 5000;
  const r = rng(7);
  const logits = Float32Array.from({ length: n * v }, () => (r() * 2 - 1) * 8);
  for (let j = 0; j < v; j += 3) logits[5 * v + j] = -Infinity;
  const targets = Array.from({ length: n }, (_, k) => (k * 997) % v);
  const run = (isa: CpuIsaName) => {
    setCpuIsa(isa);
    const z = Tensor.from(logits.slice(), [n, v]);
    const f = tokenLogprobs(z, i32(targets), { temperature: 0.7 });
    const g = tokenLogprobsBackward(z, i32(targets), f, { dlogp: Tensor.from(new Float32Array(n).fill(0.5), [n]), dentropy: Tensor.from(new Float32Array(n).fill(-0.25), [n]) }, { temperature: 0.7 });
    return [f.logp, f.entropy, f.lse, g].map((t) => Float32Array.from(t.data as Float32Array));
  };
  const results = new Map(cpuIsa().supported.map((isa) => [isa, run(isa)] as const));
  const fusedPaths = [...results.keys()].filter(fused);

  it("fused paths: bit-identical", () => {
    const [first, ...rest] = fusedPaths;
    for (const isa of rest)
      results.get(isa)!.forEach((a, k) => expect(Buffer.from(a.buffer).equals(Buffer.from(results.get(first!)![k]!.buffer)), `${isa} vs ${first}, output ${k}`).toBe(true));
  });
  it("x86 generic: within 1e-5 of the fused result (products rounded before the add)", () => {
    if (!results.has("generic") || fused("generic")) return;
    const ref = results.get(fusedPaths[0]!)!;
    results.get("generic")!.forEach((a, k) => {
      let worst = 0;
      a.forEach((x, i) => { worst = Math.max(worst, Math.abs(x - ref[k]![i]!) / (1 + Math.abs(ref[k]![i]!))); });
      expect(worst, `output ${k}`).toBeLessThanOrEqual(1e-5);
    });
  });
});

describe("rlvr_cpu_kernel_check (GEMM against a scalar reference, bitwise, on every path)", () => {
  const exe = join(release, "rlvr_cpu_kernel_check");
  it.runIf(existsSync(exe))("passes on every path this machine runs (3 pool threads: more than CI's cores)", async () => {
    const r = await child(exe, [], { RLVR_NUM_THREADS: "3" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.stdout;
    for (const isa of cpuIsa().supported) expect(out).toMatch(new RegExp(`^${isa}\\s+ok$`, "m"));
    expect(out).toMatch(/^pool\s+ok \(3 threads\)$/m);
    expect(out.trim().split("\n").at(-1)).toBe("all paths ok");
  });
});
