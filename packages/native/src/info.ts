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
