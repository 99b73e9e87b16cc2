import type { BuildInfo, CpuIsaInfo, CpuIsaName, DeviceInfo } from "./addonTypes.js";
import { callNative } from "./errors.js";
import { loadAddon } from "./load.js";

/** How the addon was built (CUDA compiled or not, compiler, CPU threads). */
export function buildInfo(): BuildInfo {
  return loadAddon().buildInfo();
}

/** CUDA devices visible to this process; empty without CUDA or a driver. */
export function devices(): DeviceInfo[] {
  return callNative(() => loadAddon().devices());
}

/**
 * Bytes rlvr holds on CUDA device `device` now (its engines' weights, states, workspaces, KV
 * caches) and at most since the last resetDeviceMemoryPeak(device): the run's own use, unlike
 * DeviceInfo.freeMemory, which other processes move too. DeviceError without that device.
 */
export function deviceMemory(device: number): { inUse: number; peak: number } {
  return callNative(() => loadAddon().deviceMemory(device));
}

/** Starts a new peak for deviceMemory(device).peak (e.g. at the start of a training step). */
export function resetDeviceMemoryPeak(device: number): void {
  callNative(() => loadAddon().resetDeviceMemoryPeak(device));
}

/**
 * What runs the CUDA engine's bf16 GEMMs: "cublas (<library>)" when cuBLAS loads at run time
 * (`RLVR_CUBLAS=0` turns it off, `RLVR_CUBLAS_PATH` names the library), "wmma (<why not>)"
 * otherwise, "none (built without CUDA)" in a build without nvcc. Read once per process.
 */
export function bf16GemmImpl(): string {
  return loadAddon().bf16GemmImpl();
}

/** x86 SIMD features the CPU kernels can use (picked at load time). */
export function cpuFeatures(): Record<string, boolean> {
  return loadAddon().cpuFeatures();
}

/**
 * The instruction-set path of the CPU kernels (AVX-512, AVX2, NEON or the portable generic one),
 * picked at load time as the best this CPU runs, or by RLVR_CPU_ISA=avx512|avx2|neon|generic|auto.
 * A value this CPU or build cannot run is not used: `warning` says so and the best path runs.
 */
export function cpuIsa(): CpuIsaInfo {
  return loadAddon().cpuIsa();
}

/**
 * Switches the CPU kernels to another path for the rest of the process (tests, benchmarks); "auto"
 * picks the best. Throws ValueError (argument "isa") for a path this CPU or build cannot run.
 * Not while kernels are running on another thread.
 */
export function setCpuIsa(name: CpuIsaName | "auto"): CpuIsaName {
  return callNative(() => loadAddon().setCpuIsa(name));
}

/** True when CUDA kernels were compiled and at least one device is present. */
export function cudaAvailable(): boolean {
  return buildInfo().cudaCompiled && devices().length > 0;
}

/** Why CUDA cannot run here ("" when cudaAvailable()): what a skipped GPU test prints. */
export function cudaUnavailableReason(): string {
  if (cudaAvailable()) return "";
  return buildInfo().cudaCompiled
    ? "rlvr was built with CUDA but no CUDA device is visible (devices() is empty)"
    : "rlvr was built without CUDA (buildInfo().cudaCompiled is false): rebuild with nvcc on a GPU machine";
}
