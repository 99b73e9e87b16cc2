// Building blocks of the model engine, one interface with a CPU reference
// (native/src/ops/ref/ref_ops.cpp), the fast CPU ops (native/src/ops/cpu, cpu_ops.h) and a
// CUDA implementation (native/src/ops/cuda/*.cu).
// OpsModel (ops_model.h) assembles them into the model over a CPU or CUDA
// backend; it is built into the standalone harness (native/test:
// rlvr_cuda_engine_check / _bench, rlvr_ops_model_cpu_check,
// rlvr_cuda_ops_model_check / _bench) and into the addon (the Engine's
// backends "cpu", "ops-cpu" and "cuda"; the *_cuda ops are stubs returning
// Code::Device in a build without nvcc, native/src/kernels/cuda_stub.cpp).
//
// Conventions (as kernels/kernels.h):
//  - array pointers live on the device of the implementation called (host
//    memory for *_cpu, device memory for *_cuda); scalar outputs are HOST
//    pointers for both;
//  - row-major; n = rows (tokens), h = hidden, fp32 activations/parameters,
//    ids / positions i32, masks f32 0/1; bf16 only as GEMM inputs;
//  - *_cuda run on the legacy default stream and return without syncing
//    (except where a host scalar is produced);
//  - no argument validation beyond what only the op can know: the caller
//    (the Model) owns shapes.
#pragma once
#include <cstdint>

#include "kernels/kernels.h"

namespace rlvr::engine::ops {

// ---- GEMM -------------------------------------------------------------------
//   C[i, j] (= | +=) sum_{p<k} A(i, p) * B(p, j) (+ bias[j])        i < m, j < n
//   A(i, p) = trans_a ? a[p * lda + i] : a[i * lda + p]
//   B(p, j) = trans_b ? b[j * ldb + p] : b[p * ldb + j]
// a and b have `dtype` (F32 or BF16); C and bias are fp32; accumulation is
// fp32. As engine/gemm.h: the sum is formed first, then bias is added, then
// (accumulate) C. No split-K: results are deterministic run to run. F32 uses a
// SIMT tiled kernel; BF16 uses tensor cores (WMMA m16n16k16, fp32 accumulate).
// c16 (instead of c): C written as bf16 (uint16 bits), the fp32 result rounded
// to nearest even, for outputs only bf16 consumers read (OpsModel's bf16 mode:
// the gate / up projections and dL/dh); not with bias or accumulate.
struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int64_t lda = 0;
  bool trans_a = false;
  const void* b = nullptr;
  int64_t ldb = 0;
  bool trans_b = false;
  DType dtype = DType::F32;
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;  // [n] or null
  bool accumulate = false;
  void* c16 = nullptr;  // bf16 C (then c is null)
  // b in the backend's prepared layout (Backend::prepare_b of the same matrix; trans_b, fp32):
  // backends that prepare read it instead of b, the others ignore it.
  const void* bp = nullptr;
};
// g with its result written as bf16 into c16 (same ldc).
inline GemmArgs bf16_out(GemmArgs g, void* c16) {
  g.c = nullptr;
  g.c16 = c16;
  return g;
}
Status gemm_cpu(const GemmArgs& g);
Status gemm_cuda(const GemmArgs& g);

// The three linear-layer products (W is [out, in] as in Hugging Face):
// y[M, N] (+)= x[M, K] W[N, K]^T (+ bias)
inline GemmArgs linear_fwd(int64_t M, int64_t N, int64_t K, const void* x, const void* W, const float* bias, float* y,
                           bool accumulate = false, DType dt = DType::F32) {
  GemmArgs g;
  g.m = M; g.n = N; g.k = K; g.a = x; g.lda = K; g.b = W; g.ldb = K; g.trans_b = true;
  g.dtype = dt; g.c = y; g.ldc = N; g.bias = bias; g.accumulate = accumulate;
  return g;
}
// dx[M, K] (+)= dy[M, N] W[N, K]
inline GemmArgs linear_bwd_input(int64_t M, int64_t N, int64_t K, const void* dy, const void* W, float* dx,
                                 bool accumulate, DType dt = DType::F32) {
  GemmArgs g;
  g.m = M; g.n = K; g.k = N; g.a = dy; g.lda = N; g.b = W; g.ldb = K;
  g.dtype = dt; g.c = dx; g.ldc = K; g.accumulate = accumulate;
  return g;
}
// dW[N, K] += dy[M, N]^T x[M, K]
inline GemmArgs linear_bwd_weight(int64_t M, int64_t N, int64_t K, const void* dy, const void* x, float* dW,
                                  DType dt = DType::F32) {
  GemmArgs g;
  g.m = N; g.n = K; g.k = M; g.a = dy; g.lda = N; g.trans_a = true; g.b = x; g.ldb = K;
  g.dtype = dt; g.c = dW; g.ldc = K; g.accumulate = true;
  return g;
}

// y[i] = bf16(x[i]) (round to nearest even), y is uint16 bits.
Status cast_bf16_cpu(const float* x, void* y, int64_t count);
Status cast_bf16_cuda(const float* x, void* y, int64_t count);

// db[j] += sum_r dy[r, j]  (fp64 sums, fixed order)
Status bias_bwd_cpu(const float* dy, float* db, int64_t n, int64_t d);
Status bias_bwd_cuda(const float* dy, float* db, int64_t n, int64_t d);

// ---- RMSNorm (HF Qwen2RMSNorm / LlamaRMSNorm) ---------------------------------
// y = w * (x * inv), inv = 1 / sqrt(mean(x^2) + eps); inv [n] optional.
// y16: the same values rounded to bf16 (uint16 bits, RNE; bitwise cast_bf16 of
// y), for OpsModel's bf16 mode, where the norm's output only feeds GEMMs; y
// may then be null (not written).
struct RmsNormFwdArgs {
  const float* x = nullptr;  // [n, h]
  const float* w = nullptr;  // [h]
  float* y = nullptr;        // [n, h] or null (y16 given)
  float* inv = nullptr;      // [n] or null
  int64_t n = 0, h = 0;
  float eps = 1e-6f;
  void* y16 = nullptr;  // [n, h] or null
};
Status rmsnorm_fwd_cpu(const RmsNormFwdArgs& a);
Status rmsnorm_fwd_cuda(const RmsNormFwdArgs& a);

// dx (= | +=) d/dx given dy (may not alias dx); dw += sum_rows dy * xhat.
// dx16: the resulting dx (after the accumulation) also rounded to bf16 (RNE),
// for the GEMMs it feeds in OpsModel's bf16 mode; null: not written.
struct RmsNormBwdArgs {
  const float* x = nullptr;
  const float* w = nullptr;
  const float* inv = nullptr;  // [n] from the forward
  const float* dy = nullptr;
  float* dx = nullptr;
  float* dw = nullptr;  // [h], accumulated
  int64_t n = 0, h = 0;
  bool accumulate = false;
  void* dx16 = nullptr;  // [n, h] or null
};
Status rmsnorm_bwd_cpu(const RmsNormBwdArgs& a);
Status rmsnorm_bwd_cuda(const RmsNormBwdArgs& a);

// ---- positions and RoPE --------------------------------------------------------
// HF position ids: pos[b, t] = (cumsum(mask[b, :t+1]) - 1) for real tokens, 1 for padding.
Status positions_cpu(const float* mask, int64_t b, int64_t t, int32_t* pos);
Status positions_cuda(const float* mask, int64_t b, int64_t t, int32_t* pos);

// cs[r] = [cos(ang_0..half-1), sin(ang_0..half-1)], ang_i = float(pos[r]) * inv_freq[i]
// (fp32 product, then cos/sin in double rounded to float).
Status rope_table_cpu(const int32_t* pos, int64_t n, const float* inv_freq, int64_t head_dim, float* cs);
Status rope_table_cuda(const int32_t* pos, int64_t n, const float* inv_freq, int64_t head_dim, float* cs);

// In place on x [n, heads, head_dim] (rotate_half convention); inverse = the backward.
Status rope_apply_cpu(float* x, int64_t n, int64_t heads, int64_t head_dim, const float* cs, bool inverse);
Status rope_apply_cuda(float* x, int64_t n, int64_t heads, int64_t head_dim, const float* cs, bool inverse);
// The same, also writing the result rounded to bf16 into y16 (uint16 bits, RNE; bitwise
// cast_bf16 of x after the op): OpsModel's bf16 mode, where the rotated q / k (forward) and
// dq / dk (backward) feed bf16 consumers next, without a separate cast pass.
Status rope_apply_bf16_cpu(float* x, int64_t n, int64_t heads, int64_t head_dim, const float* cs, bool inverse,
                           void* y16);
Status rope_apply_bf16_cuda(float* x, int64_t n, int64_t heads, int64_t head_dim, const float* cs, bool inverse,
                            void* y16);

// ---- attention -----------------------------------------------------------------
// Causal GQA attention with a key padding mask (the CPU backend's attend_one, cpu_ops.h):
// query row r = s * tq + i (sequence s) sits at slot slot0 + i and attends to
// key slots j <= slot with mask[s * mask_stride + j] != 0; key/value slot j of
// sequence s is row (s * seq_stride + j) of k / v (row length kv_heads *
// head_dim). Query head h uses kv head h / (heads / kv_heads). A query with
// no visible key gets 0 output (and lse = +inf).
//   training:  tq = t, slot0 = 0, seq_stride = mask_stride = t
//   prefill:   tq = t, slot0 = 0, k/v/mask = the cache (seq_stride = capacity)
//   decode:    tq = 1, slot0 = current slot, k/v/mask = the cache
// Packed sequences (first != null): query row r sees only key slots >= first[r]
// (the first slot of its segment).
struct AttnFwdArgs {
  int64_t b = 0, tq = 0, slot0 = 0;
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  const float* q = nullptr;  // [b * tq, heads * head_dim]
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t seq_stride = 0;
  const float* mask = nullptr;
  int64_t mask_stride = 0;
  float scale = 0.f;     // 0: 1 / sqrt(head_dim)
  float* out = nullptr;  // [b * tq, heads * head_dim]
  float* lse = nullptr;  // [b * tq, heads] (natural log of the softmax denominator, scaled scores) or null
  const int32_t* first = nullptr;  // [b * tq] packed sequences: the first visible key slot per query; null: 0
  bool bf16 = false;               // the bf16 math below; tq == 1 (decode) stays fp32
  // Optional bf16 copies of q, k, v (uint16 bits, RNE, the same layout; all three or none): the
  // bf16 CUDA kernels read them instead of rounding their own (OpsModel makes them once per layer
  // and hands them to the backward too). Ignored by the fp32 math and the CPU reference, which
  // round q, k, v themselves: the same values.
  const void* q16 = nullptr;
  const void* k16 = nullptr;
  const void* v16 = nullptr;
};
// bf16 attention (OpsModel's bf16_gemm mode; CUDA: tensor cores when head_dim
// <= 128 on sm_80+, else the fp32 kernels). The math, which attention_*_cpu
// with bf16 = true reproduces:
//  forward: q, k, v rounded to bf16 (RNE); s = (q . k) * scale in fp32; keys in
//    absolute slot tiles [64 c, 64 c + 64): per tile, m' = max(m, visible s of
//    the tile), alpha = exp(m - m'), p = exp(s - m') (0 when not visible),
//    l = l alpha + sum p (fp32 p), o = o alpha + sum bf16(p) v; out = o / l,
//    lse = m + log l (+inf and out 0 with no visible key).
//  backward: D = sum_d dout * out (fp32 inputs); p = exp(s - lse);
//    dp = bf16(dout) . v; ds = p (dp - D) * scale (fp32);
//    dq = sum_j bf16(ds) k_j, dk_j = sum_i bf16(ds) q_i, dv_j = sum_i bf16(p) bf16(dout_i)
//    (q, k, v rounded as in the forward; fp32 accumulation).
constexpr int64_t kAttnBf16Keys = 64;
Status attention_fwd_cpu(const AttnFwdArgs& a);
Status attention_fwd_cuda(const AttnFwdArgs& a);  // head_dim <= 256 (CUDA); tq == 1 uses the decode kernel

// Backward of the training layout (slot0 = 0, seq_stride = tq; k/v/mask as the
// forward). Recomputes the probabilities from lse. dq, dk, dv are written (not
// accumulated). CUDA: head_dim <= 128; deterministic (no atomics).
struct AttnBwdArgs {
  int64_t b = 0, t = 0;
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  const float* mask = nullptr;  // [b, t]
  const float* out = nullptr;   // forward output
  const float* lse = nullptr;   // forward lse
  const float* dout = nullptr;  // [b * t, heads * head_dim]
  float scale = 0.f;
  float* dq = nullptr;  // [b * t, heads * head_dim]
  float* dk = nullptr;  // [b * t, kv_heads * head_dim]
  float* dv = nullptr;
  const int32_t* first = nullptr;  // [b * t] as AttnFwdArgs::first (the forward's)
  bool bf16 = false;               // the bf16 math above, as the forward that made out / lse (t == 1: fp32, as that forward)
  const void* q16 = nullptr;       // optional bf16 copies of q, k, v, as AttnFwdArgs'
  const void* k16 = nullptr;
  const void* v16 = nullptr;
};
Status attention_bwd_cpu(const AttnBwdArgs& a);
Status attention_bwd_cuda(const AttnBwdArgs& a);

// KV cache append: cache_k[rows[r] * kv_dim ...] = k[r], same for v (rows: int64 [n]).
Status kv_append_cpu(const float* k, const float* v, int64_t n, int64_t kv_dim, const int64_t* rows, float* cache_k,
                     float* cache_v);
Status kv_append_cuda(const float* k, const float* v, int64_t n, int64_t kv_dim, const int64_t* rows, float* cache_k,
                      float* cache_v);

// ---- SwiGLU MLP activation --------------------------------------------------------
// h = silu(g) * u
Status swiglu_fwd_cpu(const float* g, const float* u, float* h, int64_t count);
Status swiglu_fwd_cuda(const float* g, const float* u, float* h, int64_t count);
// du = dh * silu(g); dg = dh * u * sg * (1 + g (1 - sg)). dg may alias dh.
Status swiglu_bwd_cpu(const float* g, const float* u, const float* dh, float* dg, float* du, int64_t count);
Status swiglu_bwd_cuda(const float* g, const float* u, const float* dh, float* dg, float* du, int64_t count);
// bf16 in and out (uint16 bits), OpsModel's bf16 mode, where g, u and dh are bf16
// GEMM outputs (GemmArgs::c16) and h, dg, du only feed GEMMs: the same formulas
// on the inputs widened to fp32, each result rounded to nearest even -- bitwise
// the fp32 op on the widened inputs followed by cast_bf16.
Status swiglu_fwd_bf16_cpu(const void* g, const void* u, void* h, int64_t count);
Status swiglu_fwd_bf16_cuda(const void* g, const void* u, void* h, int64_t count);
Status swiglu_bwd_bf16_cpu(const void* g, const void* u, const void* dh, void* dg, void* du, int64_t count);
Status swiglu_bwd_bf16_cuda(const void* g, const void* u, const void* dh, void* dg, void* du, int64_t count);

// ---- embedding ------------------------------------------------------------------
// x[r] = table[ids[r]]  (ids in [0, vocab), checked by the caller)
Status embed_fwd_cpu(const float* table, const int32_t* ids, int64_t n, int64_t h, float* x);
Status embed_fwd_cuda(const float* table, const int32_t* ids, int64_t n, int64_t h, float* x);
// dtable[ids[r]] += dx[r], rows with the same id added in ascending r (as the
// CPU): the CUDA version sorts (id, r) and is bitwise deterministic.
Status embed_bwd_cpu(const int32_t* ids, const float* dx, int64_t n, int64_t h, float* dtable);
Status embed_bwd_cuda(const int32_t* ids, const float* dx, int64_t n, int64_t h, float* dtable);

// ---- optimizer ------------------------------------------------------------------
// *norm = sqrt(sum g^2) (fp64 sums; CUDA: two-pass, fixed order). norm is a host pointer.
Status grad_norm_cpu(const float* g, int64_t count, double* norm);
Status grad_norm_cuda(const float* g, int64_t count, double* norm);

// One AdamW step (torch.optim.AdamW, foreach=False),
// given the clip factor and the step number (>= 1, already incremented):
//   g = grad * clip; p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//   p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps); grad = 0 (when zero_grad).
// param16: the updated parameters also rounded to bf16 (RNE), OpsModel's bf16
// GEMM weights, refreshed in the same pass; null: not written.
struct AdamWArgs {
  float* param = nullptr;
  void* param16 = nullptr;
  float* grad = nullptr;
  float* m = nullptr;
  float* v = nullptr;
  int64_t count = 0;
  float lr = 1e-6f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.01f;
  float clip = 1.f;
  int64_t step = 1;
  bool zero_grad = true;
};
// The clip factor of torch.nn.utils.clip_grad_norm_: min(1, max_norm / (norm + 1e-6)); 1 when max_norm <= 0.
inline float clip_factor(double norm, float max_norm) {
  if (!(max_norm > 0)) return 1.f;
  const double c = max_norm / (norm + 1e-6);
  return static_cast<float>(c < 1.0 ? c : 1.0);
}
Status adamw_cpu(const AdamWArgs& a);
Status adamw_cuda(const AdamWArgs& a);

}  // namespace rlvr::engine::ops
