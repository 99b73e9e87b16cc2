// Builds the addon with cmake-js. `rlvr doctor` reports what the binary holds.
// RLVR_CUDA=auto|on|off (default auto: CUDA kernels are compiled when nvcc is found).
// A CUDA compile error fails the build: CI has nvcc but no GPU, and must catch it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const mode = (process.env.RLVR_CUDA ?? "auto").toLowerCase();
if (!["auto", "on", "off"].includes(mode)) {
  console.error(`RLVR_CUDA must be auto, on or off (got "${process.env.RLVR_CUDA}")`);
  process.exit(2);
}

function findNvcc() {
  const candidates = [process.env.CUDACXX, "/usr/local/cuda/bin/nvcc"].filter(Boolean);
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", "command -v nvcc"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() : null;
}

const nvcc = mode === "off" ? null : findNvcc();
if (mode === "on" && !nvcc) {
  console.error("RLVR_CUDA=on but nvcc was not found: install the CUDA toolkit or set CUDACXX");
  process.exit(2);
}
const cmakeCuda = nvcc ? "ON" : "OFF";
const common = ["-d", root, "-O", join(root, "build"), "--CDRLVR_CUDA=" + cmakeCuda];
if (nvcc) common.push("--CDCMAKE_CUDA_COMPILER=" + nvcc);
if (process.env.RLVR_CUDA_ARCHS) common.push("--CDRLVR_CUDA_ARCHS=" + process.env.RLVR_CUDA_ARCHS);
const jobs = process.env.RLVR_BUILD_JOBS ?? "2";
console.log(`rlvr: building native addon (CUDA: ${nvcc ? nvcc : "off"})`);
// Configure every time (incremental and cheap) so a changed RLVR_CUDA takes effect.
for (const step of [["configure", ...common], ["build", ...common, "-p", jobs]]) {
  const r = spawnSync("npx", ["cmake-js", ...step], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`rlvr: native ${step[0]} failed (see the compiler output above)`);
    process.exit(r.status ?? 1);
  }
}
