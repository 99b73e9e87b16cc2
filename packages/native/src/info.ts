import type { BuildInfo, DeviceInfo } from "./addonTypes.js";
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
