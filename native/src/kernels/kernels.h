// The one kernel interface of rlvr. Every kernel is declared here once, with an
// argument struct that is the same for the CPU implementation (the reference,
// native/src/kernels/cpu/) and the CUDA implementation (cuda/). Kernels know
// nothing of Node-API: the binding layer (native/src/binding/) validates shapes,
// dtypes and devices, then calls dispatch (native/src/kernels/dispatch.cpp).
//
// Conventions:
//  - Array pointers live on the device of the implementation being called
//    (host memory for *_cpu, device memory for *_cuda).
//  - Scalar outputs (bad_row, stats) are HOST pointers for both implementations.
//  - All accumulation is fp32 (fp64 for whole-batch reductions); logits may be
//    f32, f16 or bf16; everything else is f32 (masks are f32 0/1, ids are i32).
//  - Row-major layouts; "n" = number of tokens, "v" = vocabulary size,
//    "b" = number of sequences, "t" = response length.
#pragma once
#include <cstdint>
#include <string>

namespace rlvr {

enum class DType : int { F32 = 0, F16 = 1, BF16 = 2, I32 = 3, U8 = 4 };

inline int64_t dtype_size(DType d) {
  return d == DType::U8 ? 1 : (d == DType::F32 || d == DType::I32 ? 4 : 2);
}

// Not a dtype: a field's default meaning "the dtype of the logits" (see
// PolicyLossArgs::dlogits_dtype). Outside the enumerators, so no real dtype
// can be mistaken for it.
constexpr DType kSameAsLogits = static_cast<DType>(-1);

// Error codes shared by kernels and bindings; the binding turns them into typed
// JavaScript errors (packages/native/src/errors.ts maps code -> class).
enum class Code : int {
  Ok = 0,
  Shape = 1,     // mismatched or invalid shape
  DType = 2,     // unsupported dtype
  Range = 3,     // index (token id, group size) out of range
  Value = 4,     // non-finite or otherwise invalid value
  Device = 5,    // wrong / unavailable device, or CUDA not compiled
  Internal = 6,  // CUDA runtime failure
  Memory = 7,    // an allocation failed (host or device): the caller lowers a batch or budget
};

struct Status {
  Code code = Code::Ok;
  std::string argument;  // which argument is at fault ("" when none)
  std::string message;
  bool ok() const { return code == Code::Ok; }
  static Status Ok() { return {}; }
  static Status Error(Code c, std::string arg, std::string msg) { return {c, std::move(arg), std::move(msg)}; }
};

// Returns the Status of expr from the enclosing function when it is an error.
#define RLVR_TRY(expr)          \
  do {                          \
    ::rlvr::Status s_ = (expr); \
    if (!s_.ok()) return s_;    \
  } while (0)

namespace kernels {

// (a) Fused token log-prob + entropy, one streaming pass over each row.
// z = logits[i, :] / temperature;  lse[i] = logsumexp(z)
// logp[i] = z[targets[i]] - lse[i];  entropy[i] = lse[i] - sum_j softmax(z)_j * z_j
// -inf logits are allowed (masked vocabulary); NaN, +inf and all -inf rows are
// not: *bad_row receives the first offending row index (or -1), and outputs of
// that row are unspecified.
struct LogprobFwdArgs {
  const void* logits = nullptr;  // [n, v] of logits_dtype
  DType logits_dtype = DType::F32;
  int64_t n = 0, v = 0;
  const int32_t* targets = nullptr;  // [n], each in [0, v) (checked by the binding)
  float temperature = 1.0f;
  float* logp = nullptr;     // [n]
  float* entropy = nullptr;  // [n]
  float* lse = nullptr;      // [n] saved for the backward
  int64_t* bad_row = nullptr;  // host scalar
};

// (b) Backward of (a): recomputes p = exp(z - lse) from the saved lse.
// dz_j = (dlogp[i] * (onehot_j - p_j) + dentropy[i] * (-p_j * (log p_j + H_i))) / temperature
// dlogp / dentropy may be null (treated as zero). dlogits may alias logits
// (in place); it has the logits dtype.
struct LogprobBwdArgs {
  const void* logits = nullptr;
  DType logits_dtype = DType::F32;
  int64_t n = 0, v = 0;
  const int32_t* targets = nullptr;
  float temperature = 1.0f;
  const float* lse = nullptr;      // [n] from the forward
  const float* entropy = nullptr;  // [n] from the forward
  const float* dlogp = nullptr;    // [n] or null
  const float* dentropy = nullptr; // [n] or null
  void* dlogits = nullptr;         // [n, v], logits_dtype
};

// (c) GRPO outcome advantage. Rows are grouped contiguously: group g holds rows
// [g*group_size, (g+1)*group_size). A = (s - mean) / (std + eps) with the
// unbiased std (n - 1); a group of size 1 uses mean 0, std 1. With norm_std
// false: A = s - mean. token_adv (optional, [b, t]) = A[row] * mask[row, :].
struct GrpoAdvantageArgs {
  const float* scores = nullptr;  // [b]
  int64_t b = 0, group_size = 1;
  bool norm_std = true;
  float eps = 1e-6f;
  float* advantages = nullptr;    // [b]
  const float* mask = nullptr;    // [b, t] or null
  int64_t t = 0;
  float* token_advantages = nullptr;  // [b, t] or null
};

// (d) PPO clipped policy-gradient loss, per token, and its gradient wrt logp.
// ratio = exp(logp - old_logp); l1 = -A*ratio; l2 = -A*clip(ratio, 1-clip_low, 1+clip_high)
// loss = max(l1, l2); dual clip (dual_clip > 1, A < 0): loss = min(loss, -A*dual_clip).
// Gradient: d loss/d logp = -A*ratio where the unclipped term is active, else 0.
struct PpoClipArgs {
  int64_t n = 0;
  const float* logp = nullptr;
  const float* old_logp = nullptr;
  const float* advantages = nullptr;
  float clip_low = 0.2f, clip_high = 0.2f;
  float dual_clip = 0.0f;  // 0 = off, else > 1
  float* loss = nullptr;       // [n] per-token loss
  float* dlogp = nullptr;      // [n] d loss / d logp (unweighted)
  uint8_t* clipped = nullptr;  // [n] 1 where l2 > l1 (clip fraction numerator), or null
  uint8_t* dual_clipped = nullptr;  // [n] 1 where the dual clip is active, or null
};

// (e) KL penalty against reference log-probs, per token, with d/d logp.
// delta = logp - ref: kl: delta; abs: |delta|; mse: delta^2 / 2;
// low_var_kl: exp(-delta) + delta - 1, clamped to [-10, 10] (zero gradient when clamped).
enum class KlType : int { K1 = 0, Abs = 1, Mse = 2, LowVarKl = 3 };
struct KlArgs {
  int64_t n = 0;
  const float* logp = nullptr;
  const float* ref_logp = nullptr;
  KlType type = KlType::LowVarKl;
  float* kl = nullptr;    // [n]
  float* dlogp = nullptr; // [n] or null
};

// (f) Loss aggregation as per-token weights, so every aggregate is sum(w * x).
// token-mean: w = mask / sum(mask); seq-mean-token-sum: w = mask / b;
// seq-mean-token-mean: w = mask / (len_row * b), len_row = sum of the row's mask
// (rows with len 0 get weight 0). A batch with sum(mask) = 0 gets all-zero weights.
enum class AggMode : int { TokenMean = 0, SeqMeanTokenSum = 1, SeqMeanTokenMean = 2 };
struct AggWeightsArgs {
  const float* mask = nullptr;  // [b, t]
  int64_t b = 0, t = 0;
  AggMode mode = AggMode::TokenMean;
  float* weights = nullptr;     // [b, t]
};

// (g) GAE over the response mask (positions with mask 0 are skipped: they carry
// the next value and advantage through and get advantage 0 and return 0).
// delta_t = r_t + gamma*V_next - V_t; A_t = delta_t + gamma*lambda*A_next; R = A + V.
// whiten: A <- (A - masked_mean) * rsqrt(masked_unbiased_var + 1e-8), then * mask.
struct GaeArgs {
  const float* rewards = nullptr;  // [b, t]
  const float* values = nullptr;   // [b, t]
  const float* mask = nullptr;     // [b, t]
  int64_t b = 0, t = 0;
  float gamma = 1.0f, lambda = 1.0f;
  bool whiten = true;
  float* advantages = nullptr;  // [b, t]
  float* returns = nullptr;     // [b, t]
};

// (h) Combined per-token objective and its gradient to the logits in one
// kernel: forward log-prob/entropy (a), the loss terms (d, e, entropy) weighted
// by w (f), then dlogits written by the backward of (a), never materializing
// the softmax.  total = sum_i w_i * (pg_coef * pg_i + kl_coef * kl_i - entropy_coeff * H_i)
struct PolicyLossStats {
  double total = 0, pg_loss = 0, kl_loss = 0, entropy = 0;  // sum(w * term)
  double clipfrac = 0, dual_clipfrac = 0, ppo_kl = 0;         // sum(w * x) / sum(w)
  double weight_sum = 0;
};
struct PolicyLossArgs {
  const void* logits = nullptr;     // [n, v]
  DType logits_dtype = DType::F32;
  int64_t n = 0, v = 0;
  const int32_t* targets = nullptr; // [n]
  float temperature = 1.0f;
  const float* old_logp = nullptr;  // [n] (required when pg_coef != 0)
  const float* ref_logp = nullptr;  // [n] (required when kl_coef != 0)
  const float* advantages = nullptr;// [n] token advantages (required when pg_coef != 0)
  const float* weights = nullptr;   // [n] aggregation weights (mask folded in)
  float pg_coef = 1.0f, kl_coef = 0.0f, entropy_coeff = 0.0f;
  float clip_low = 0.2f, clip_high = 0.2f, dual_clip = 0.0f;
  KlType kl_type = KlType::LowVarKl;
  float* logp = nullptr;     // [n] out
  float* entropy = nullptr;  // [n] out
  void* dlogits = nullptr;   // [n, v] out, of dlogits_dtype; null = forward only
  // The dtype dlogits is written in. kSameAsLogits (the default) keeps the
  // original contract, so callers that never set it are unchanged: dlogits has
  // the logits dtype and may alias logits (in place). A DType rather than a
  // bool names the output layout the same way logits_dtype names the input.
  // The one other pair supported is F32 logits -> BF16 dlogits (a bf16 GEMM
  // consumes the gradient directly): each element is the value the F32 path
  // writes, rounded to nearest even; dlogits must not alias logits then
  // (Code::Value). Any other pair is Code::DType (see check_policy_dlogits).
  DType dlogits_dtype = kSameAsLogits;
  PolicyLossStats* stats = nullptr;  // host
  int64_t* bad_row = nullptr;        // host
};

// The dtype policy_loss writes dlogits in.
inline DType policy_dlogits_dtype(const PolicyLossArgs& a) {
  return a.dlogits_dtype == kSameAsLogits ? a.logits_dtype : a.dlogits_dtype;
}

// Validates dlogits_dtype against logits_dtype (and the aliasing it rules out);
// both implementations call it first. Nothing to check without dlogits.
inline Status check_policy_dlogits(const PolicyLossArgs& a) {
  if (!a.dlogits) return Status::Ok();
  const DType d = policy_dlogits_dtype(a);
  if (d == a.logits_dtype) return Status::Ok();
  if (a.logits_dtype != DType::F32 || d != DType::BF16)
    return Status::Error(Code::DType, "dlogits",
                         "dlogits dtype must be the logits dtype, or bf16 with f32 logits (got logits " +
                             std::to_string(static_cast<int>(a.logits_dtype)) + ", dlogits " +
                             std::to_string(static_cast<int>(d)) + ")");
  if (a.dlogits == a.logits)
    return Status::Error(Code::Value, "dlogits",
                         "bf16 dlogits cannot be written in place over f32 logits (different element size)");
  return Status::Ok();
}

// (i) Token sampling from next-token logits [b, v] (one row per sequence).
// temperature 0 = greedy (argmax, lowest index on ties); otherwise
// z = logits / temperature, restricted to the top_k largest (top_k <= 0: all),
// then to the smallest set of highest-probability tokens whose mass reaches
// top_p of the remaining mass (top_p >= 1: all). The token is the first whose
// cumulative (fp64) mass exceeds uniforms[row] * total, scanning in vocabulary
// order when nothing is truncated, else in descending probability (ties by
// lower index), so a given uniform always picks the same token.
struct SampleArgs {
  const void* logits = nullptr;  // [b, v]
  DType logits_dtype = DType::F32;
  int64_t b = 0, v = 0;
  float temperature = 1.0f;
  float top_p = 1.0f;
  int64_t top_k = 0;
  const float* uniforms = nullptr;  // [b] in [0, 1), host or device like logits
  int32_t* tokens = nullptr;        // [b] out
  int64_t* bad_row = nullptr;       // host: first row with NaN/+inf or all -inf, else -1
};

// (j) PPO critic: clipped value loss per token and its gradient to the values.
// vc = clip(v, old_v - clip, old_v + clip); a = (v - R)^2; c = (vc - R)^2;
// term_i = 0.5 * max(a, c); total = sum_i w_i * term_i (w from (f): masked mean).
// dvalues_i = w_i * (v - R) where a >= c (ties take the unclipped branch; when
// c > a the clip is active on v and the clipped term has zero gradient), else 0.
struct ValueLossStats {
  double total = 0;       // sum(w * term)
  double clipfrac = 0;    // sum(w * [c > a]) / sum(w)
  double weight_sum = 0;  // sum(w)
};
struct ValueLossArgs {
  int64_t n = 0;
  const float* values = nullptr;      // [n] current critic values
  const float* old_values = nullptr;  // [n] values at rollout time
  const float* returns = nullptr;     // [n]
  const float* weights = nullptr;     // [n] aggregation weights (mask folded in)
  float clip = 0.5f;                  // > 0
  float* dvalues = nullptr;           // [n] out, weighted (d total / d v), or null
  ValueLossStats* stats = nullptr;    // host
};

// CPU implementations (the reference).
Status logprob_fwd_cpu(const LogprobFwdArgs& a);
Status logprob_bwd_cpu(const LogprobBwdArgs& a);
Status grpo_advantage_cpu(const GrpoAdvantageArgs& a);
Status ppo_clip_cpu(const PpoClipArgs& a);
Status kl_penalty_cpu(const KlArgs& a);
Status agg_weights_cpu(const AggWeightsArgs& a);
Status gae_cpu(const GaeArgs& a);
Status policy_loss_cpu(const PolicyLossArgs& a);
Status sample_cpu(const SampleArgs& a);
Status value_loss_cpu(const ValueLossArgs& a);

// CUDA implementations (native/src/kernels/cuda/*.cu). When rlvr is built without CUDA they are
// provided by native/src/kernels/cuda_stub.cpp and return Code::Device.
Status logprob_fwd_cuda(const LogprobFwdArgs& a);
Status logprob_bwd_cuda(const LogprobBwdArgs& a);
Status grpo_advantage_cuda(const GrpoAdvantageArgs& a);
Status ppo_clip_cuda(const PpoClipArgs& a);
Status kl_penalty_cuda(const KlArgs& a);
Status agg_weights_cuda(const AggWeightsArgs& a);
Status gae_cuda(const GaeArgs& a);
Status policy_loss_cuda(const PolicyLossArgs& a);
Status sample_cuda(const SampleArgs& a);
Status value_loss_cuda(const ValueLossArgs& a);

}  // namespace kernels

// CUDA runtime services used by the binding (native/src/kernels/cuda/runtime.cu; stubbed without CUDA).
namespace cuda {
bool compiled();                       // true when built with nvcc
int device_count();                    // 0 when no driver/device
// free_mem: bytes free on the device now (cudaMemGetInfo; asking creates this process's context there).
struct DeviceInfo { std::string name; int64_t total_mem = 0, free_mem = 0; int cc_major = 0, cc_minor = 0; int sm_count = 0; };
Status device_info(int device, DeviceInfo* out);
Status set_device(int device);
Status malloc_device(int device, int64_t bytes, void** out);
Status free_device(void* p);
// Bytes this process holds through malloc_device on `device`, and the most it held since the last
// reset_memory_peak (or the start): a run's own peak, which cudaMemGetInfo cannot tell apart from
// other processes' use. Transient stream-ordered scratch of the RL kernels is not counted.
struct MemoryStats { int64_t in_use = 0, peak = 0; };
Status memory_stats(int device, MemoryStats* out);
Status reset_memory_peak(int device);
Status copy_h2d(void* dst, const void* src, int64_t bytes);
Status copy_d2h(void* dst, const void* src, int64_t bytes);
Status copy_d2d(void* dst, const void* src, int64_t bytes);
Status memset_device(void* p, int value, int64_t bytes);
Status synchronize();
std::string runtime_version();  // "13.0" or "" without CUDA
}  // namespace cuda

}  // namespace rlvr
