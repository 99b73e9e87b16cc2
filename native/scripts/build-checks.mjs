// Builds the native C++ checks that the tests run (today: rlvr_ops_model_cpu_check, OpsModel on
// its CPU backend vs the CPU engine) into build/checks/, as part of the addon's build step, so that
// no test has to run cmake itself (a synchronous build inside a test blocks vitest's worker).
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tools = join(root, "test");
const out = join(root, "build", "checks");
const jobs = process.env.RLVR_BUILD_JOBS ?? "2";
// A build folder configured from another source folder (the checks lived in cuda/tools before
// native/test) makes cmake refuse to configure: start it afresh.
try {
  const home = /^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m.exec(readFileSync(join(out, "CMakeCache.txt"), "utf8"));
  if (home && home[1] !== tools) rmSync(out, { recursive: true, force: true });
} catch {
  // no cache yet
}
const steps = [
  ["-S", tools, "-B", out, "-DCMAKE_BUILD_TYPE=Release", "-DRLVR_TOOLS_CPU_ONLY=ON"],
  ["--build", out, "-j", jobs, "--target", "rlvr_ops_model_cpu_check"],
];
console.log("rlvr: building the native checks (rlvr_ops_model_cpu_check)");
for (const args of steps) {
  const r = spawnSync("cmake", args, { stdio: "inherit" });
  if (r.error || r.status !== 0) {
    console.error(`rlvr: cmake ${args[0]} of the native checks (native/test) failed${r.error ? `: ${r.error.message}` : " (see above)"}`);
    process.exit(r.status || 1);
  }
}
