// The CPU backend's ops ("cpu", backend.cpp): the ops of ops.h as the fast CPU engine computes
// them -- multi-threaded (kernels/cpu/parallel.h), SIMD per instruction-set path
// (kernels/cpu/isa.h), the packed-panel GEMM of gemm.h -- with the bitwise contract the
// engine rests on: every output element's arithmetic depends only on its own row's inputs
// (never on the row count, the chunking or the thread count), so decode == score bit for bit.
// Differences from the reference ops (ref/ref_ops.cpp) are in the last bits only: fp32 GEMM
// accumulation (fp64 there), FMA where the path has it, and attention's dot products as 16
// strided partial sums summed in a fixed tree. The bf16 variants (OpsModel's bf16_gemm mode:
// bf16 GEMM operands or outputs, AttnFwdArgs::bf16, y16 / dx16 / param16 twins) run the
// reference math (ref_ops.cpp), single-threaded.
#pragma once
#include <cstdint>

#include "ops/ops.h"

namespace rlvr::engine::cpuops {

// GemmArgs with fp32 operands: gemm.h's sgemm; a transposed B (the linear layers' forward) runs
// sgemm_bpacked on g.bp when given (prepare_b's panels of b), else packs b first.
Status gemm(const ops::GemmArgs& g);
// The prepared form of a weight W [n, k] (row-major) as linear_fwd's B: pack_weight_panels.
int64_t prepared_b_bytes(int64_t n, int64_t k);
Status prepare_b(const float* w, int64_t n, int64_t k, void* out);

Status bias_bwd(const float* dy, float* db, int64_t n, int64_t d);
Status rmsnorm_fwd(const ops::RmsNormFwdArgs& a);
Status rmsnorm_bwd(const ops::RmsNormBwdArgs& a);
Status rope_apply(float* x, int64_t n, int64_t heads, int64_t head_dim, const float* cs, bool inverse);
Status swiglu_fwd(const float* g, const float* u, float* h, int64_t count);
Status swiglu_bwd(const float* g, const float* u, const float* dh, float* dg, float* du, int64_t count);
Status embed_bwd(const int32_t* ids, const float* dx, int64_t n, int64_t h, float* dtable);
Status attention_fwd(const ops::AttnFwdArgs& a);
Status attention_bwd(const ops::AttnBwdArgs& a);
Status grad_norm(const float* g, int64_t count, double* norm);
Status adamw(const ops::AdamWArgs& a);

// One query head against its visible keys (attention_fwd's unit): keys j =
// 0..slot with mask[j] != 0 at kbase + j * kv_stride (values likewise); p: scratch of slot + 1
// floats, left holding the probabilities (0 where masked); out [hd]; lse (optional): the log of
// the softmax denominator (+inf without a visible key). Returns false (out = 0) without one.
bool attend_one(const float* q, const float* kbase, const float* vbase, int64_t kv_stride, const float* mask,
                int64_t slot, int64_t hd, float scale, float* p, float* out, float* lse);

}  // namespace rlvr::engine::cpuops
