// What runs the CUDA engine's bf16 GEMMs (native/src/ops/cuda/cublas_gemm.cu): cuBLAS when it loads at
// run time, else rlvr's WMMA kernel, with the reason. The loader reads RLVR_CUBLAS /
// RLVR_CUBLAS_PATH once per process, so each setting is checked in a child process; none of
// this needs a GPU (the loader answers before any device is touched).
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { bf16GemmImpl, buildInfo } from "../src/index.js";

const addonPath =
  process.env.RLVR_ADDON_PATH ?? join(dirname(createRequire(import.meta.url).resolve("@rlvr/addon/package.json")), "build", "Release", "rlvr_native.node");
const execFileAsync = promisify(execFile);
// asynchronous, so the worker's event loop stays free while the child loads the addon
const childImpl = async (env: Record<string, string>) =>
  (
    await execFileAsync(process.execPath, ["-e", `console.log(require(${JSON.stringify(addonPath)}).bf16GemmImpl())`], {
      env: { ...process.env, RLVR_CUBLAS: "", RLVR_CUBLAS_PATH: "", ...env }, encoding: "utf8",
    })
  ).stdout.trim();

describe.runIf(!buildInfo().cudaCompiled)("bf16 GEMM implementation, build without CUDA", () => {
  it("says so", () => expect(bf16GemmImpl()).toBe("none (built without CUDA)"));
});

describe.runIf(buildInfo().cudaCompiled)("bf16 GEMM implementation, CUDA build", () => {
  it("is cuBLAS or the WMMA kernel, with the library or the reason", async () => {
    expect(bf16GemmImpl()).toMatch(/^(cublas|wmma) \(.+\)$/);
    expect(await childImpl({})).toMatch(/^(cublas \(.*libcublas\.so.*\)|wmma \(no libcublas\.so\.13 \/ \.so\.12 found \(set RLVR_CUBLAS_PATH\)\))$/);
  });
  it("RLVR_CUBLAS=0 turns cuBLAS off", async () => expect(await childImpl({ RLVR_CUBLAS: "0" })).toBe("wmma (RLVR_CUBLAS=0)"));
  it("a RLVR_CUBLAS_PATH that does not load is named, with the loader's error (no silent fallback to another copy)", async () => {
    const got = await childImpl({ RLVR_CUBLAS_PATH: "/nonexistent/libcublas.so.99" });
    expect(got.startsWith("wmma (RLVR_CUBLAS_PATH=/nonexistent/libcublas.so.99 did not load: ")).toBe(true);
    expect(got).toMatch(/No such file/);
  });
});
