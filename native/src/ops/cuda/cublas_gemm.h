// Optional cuBLAS for the bf16 GEMMs (ops.h GemmArgs with dtype BF16).
//
// cuBLAS is loaded at run time (dlopen), never linked: the addon and the tools
// build where the toolkit has no cuBLAS (CI's), and run on machines without it,
// with gemm.cu's WMMA kernel as the fallback. That kernel stays the reference
// the checks hold cuBLAS to (same bf16 operands, fp32 accumulation; only the
// summation order differs). cuBLAS results are deterministic run to run on one
// GPU model (its documented guarantee, single stream), which the keep-vs-
// recompute checks rely on.
//
// Environment: RLVR_CUBLAS=0 turns it off; RLVR_CUBLAS_PATH names the library
// (default: libcublas.so.13, .so.12, .so, then /usr/local/cuda/lib64/...).
#pragma once

#include <string>

#include "ops/ops.h"

namespace rlvr::engine::ops {

// Runs g (dtype BF16) on cuBLAS and returns true, with *st its status; returns
// false (st untouched) when cuBLAS is off, missing, or g has a shape it does
// not take here (bias with accumulate, a dimension >= 2^31): the caller then
// runs the WMMA kernel.
bool cublas_gemm_bf16(const GemmArgs& g, Status* st);

// "cublas (<library>)" or "wmma (<why not cuBLAS>)": what the bf16 GEMMs run
// on. Loads the library on first use.
std::string bf16_gemm_impl();

// Tools (benchmarks, checks) switch cuBLAS off and on to compare the two;
// the default is on when the library loads and RLVR_CUBLAS is not 0.
void set_cublas_enabled(bool on);

}  // namespace rlvr::engine::ops
