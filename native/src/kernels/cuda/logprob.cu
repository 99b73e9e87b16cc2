// Fused token log-prob / entropy (forward, backward) and the fused policy loss.
// One block per row, one streaming pass over the vocabulary with an online
// (max, sum, weighted sum) accumulator; see OnlineStats in common.cuh.
#include "kernels/cuda/common.cuh"

namespace rlvr::kernels {
namespace {

using namespace rlvr::cudak;

constexpr int kUnroll = 4;  // 16-byte loads in flight per thread
constexpr unsigned kMaxRowBlocks = 1u << 30;

template <class T>
__device__ __forceinline__ OnlineStats row_stats(const T* row, int64_t v, float it) {
  OnlineStats st;
  for_row<T, kUnroll>(row, static_cast<T*>(nullptr), v,
                      [&](float* x, auto n, int64_t) { st.add<decltype(n)::value>(x, it); });
  return block_merge(st);
}

// log p(target) in natural units from merged stats; NaN for an out-of-range target.
template <class T>
__device__ __forceinline__ float target_logp(const T* row, int64_t v, int32_t target, float it,
                                             const OnlineStats& st) {
  if (target < 0 || target >= v) return __int_as_float(0x7fffffff);
  const float lp = (Elem<T>::load(row + target) * it - st.m) - kLn2 * __log2f(st.s);
  return lp > 0.f ? 0.f : lp;  // clamped like the CPU; NaN (a bad row) passes through
}

// Writes dz_j = (g (1[j = target] - p_j) - h p_j (log p_j + H)) / T, with
// p_j = 2^d, d = (x_j / T - lse) log2(e), into out (which may alias row when
// TOut is T). Each value is computed in fp32 whatever TOut is, then rounded
// once on the store.
template <class T, class TOut>
__device__ __forceinline__ void row_grad(const T* row, TOut* out, int64_t v, int32_t target, float lse,
                                         float inv_t, float g, float h, float H) {
  const float a = -(g + h * H) * inv_t, b = -h * kLn2 * inv_t, gt = g * inv_t;
  for_row<T, kUnroll>(row, out, v, [&](float* x, auto n, int64_t j0) {
#pragma unroll
    for (int k = 0; k < decltype(n)::value; ++k) {
      const float d = fmaxf((x[k] * inv_t - lse) * kLog2e, -256.f);  // -inf logit -> p = 0, finite d
      const float p = ex2(d);
      x[k] = fmaf(p, fmaf(b, d, a), j0 + k == target ? gt : 0.f);
    }
  });
}

template <class T>
__global__ void __launch_bounds__(kRowThreadsMax, 3) logprob_fwd_kernel(LogprobFwdArgs a, float it, unsigned long long* bad) {
  const T* logits = static_cast<const T*>(a.logits);
  for (int64_t r = blockIdx.x; r < a.n; r += gridDim.x) {
    const T* row = logits + r * a.v;
    const OnlineStats st = row_stats(row, a.v, it);
    if (threadIdx.x == 0) {
      if (!st.valid()) flag_bad_row(bad, r);
      a.logp[r] = target_logp(row, a.v, a.targets[r], it, st);
      if (a.entropy) a.entropy[r] = st.entropy();
      if (a.lse) a.lse[r] = st.lse();
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kRowThreadsMax, 3) logprob_bwd_kernel(LogprobBwdArgs a, float inv_t) {
  const T* logits = static_cast<const T*>(a.logits);
  T* dlogits = static_cast<T*>(a.dlogits);
  for (int64_t r = blockIdx.x; r < a.n; r += gridDim.x) {
    const float g = a.dlogp ? a.dlogp[r] : 0.f, h = a.dentropy ? a.dentropy[r] : 0.f;
    const float H = h != 0.f ? a.entropy[r] : 0.f;
    row_grad(logits + r * a.v, dlogits + r * a.v, a.v, a.targets[r], a.lse[r], inv_t, g, h, H);
  }
}

// Per-token terms of the policy objective, shared by the row kernel (gradient)
// and the stats reduction. A term is computed only when its coefficient is
// non-zero (as on CPU); a token with weight 0 contributes nothing, so padding
// with garbage old/ref log-probs cannot poison the sums.
struct TokenTerms {
  float w, pg, kl, dlogp;
  bool clipped, dual;
};
__device__ __forceinline__ TokenTerms token_terms(const PolicyLossArgs& a, int64_t i, float logp) {
  TokenTerms t{a.weights ? a.weights[i] : 1.f, 0.f, 0.f, 0.f, false, false};
  if (t.w == 0.f) return t;
  float g = 0.f;
  if (a.pg_coef != 0.f) {
    const PgTerm p = pg_term(logp, a.old_logp[i], a.advantages[i], a.clip_low, a.clip_high, a.dual_clip);
    t.pg = p.loss; t.clipped = p.clipped; t.dual = p.dual;
    g += a.pg_coef * p.grad;
  }
  if (a.kl_coef != 0.f) {
    const KlTerm k = kl_term(logp, a.ref_logp[i], a.kl_type);
    t.kl = k.kl;
    g += a.kl_coef * k.grad;
  }
  t.dlogp = t.w * g;
  return t;
}

// TOut: the dlogits element type (T, or bf16 for f32 logits).
template <class T, class TOut>
__global__ void __launch_bounds__(kRowThreadsMax, 2) policy_loss_kernel(PolicyLossArgs a, float it, unsigned long long* bad) {
  const T* logits = static_cast<const T*>(a.logits);
  TOut* dlogits = static_cast<TOut*>(a.dlogits);
  const float inv_t = 1.f / a.temperature;
  for (int64_t r = blockIdx.x; r < a.n; r += gridDim.x) {
    const T* row = logits + r * a.v;
    const int32_t target = a.targets[r];
    const OnlineStats st = row_stats(row, a.v, it);
    // Every thread holds the merged stats, so each computes the row scalars
    // itself instead of broadcasting them through shared memory.
    const float lp = target_logp(row, a.v, target, it, st), H = st.entropy();
    const TokenTerms t = token_terms(a, r, lp);
    if (threadIdx.x == 0) {
      if (!st.valid()) flag_bad_row(bad, r);
      a.logp[r] = lp;
      a.entropy[r] = H;
    }
    if (dlogits) {
      const float h = -t.w * a.entropy_coeff;  // d total / d H
      __syncthreads();  // in place: every thread has read row[target] before it is overwritten
      row_grad(row, dlogits + r * a.v, a.v, target, st.lse(), inv_t, t.dlogp, h, H);
    }
  }
}

// Accumulates PolicyLossStats fields (sums, before the ratio normalization).
struct PolicyStatsFn {
  PolicyLossArgs a;
  __device__ void operator()(int64_t i, double (&acc)[8]) const {
    const TokenTerms t = token_terms(a, i, a.logp[i]);
    if (t.w == 0.f) return;
    const double w = t.w;
    const float H = a.entropy[i];
    acc[0] += w * (a.pg_coef * t.pg + a.kl_coef * t.kl - a.entropy_coeff * H);
    acc[1] += w * t.pg;
    acc[2] += w * t.kl;
    acc[3] += w * H;
    acc[4] += t.clipped ? w : 0.0;
    acc[5] += t.dual ? w : 0.0;
    if (a.pg_coef != 0.f) acc[6] += w * (a.old_logp[i] - a.logp[i]);
    acc[7] += w;
  }
};

Status check_rows(const void* logits, int64_t n, int64_t v, const int32_t* targets, float temperature) {
  if (n < 0 || v < 0) return Status::Error(Code::Shape, "logits", "negative shape");
  if (n > 0 && v == 0) return Status::Error(Code::Shape, "logits", "vocabulary size must be positive");
  if (n > 0 && (!logits || !targets)) return Status::Error(Code::Value, "logits", "null logits or targets");
  if (!(temperature > 0.f) || !std::isfinite(temperature))
    return Status::Error(Code::Value, "temperature", "temperature must be finite and > 0");
  return Status::Ok();
}

unsigned row_grid(int64_t n) { return static_cast<unsigned>(n < kMaxRowBlocks ? n : kMaxRowBlocks); }

// Device flag for the first bad row; read_bad_row synchronizes.
Status init_bad_row(Scratch& s, unsigned long long** flag) {
  if (Status st = s.alloc(sizeof(unsigned long long)); !st.ok()) return st;
  *flag = s.as<unsigned long long>();
  RLVR_CUDA_TRY(cudaMemsetAsync(*flag, 0xff, sizeof(unsigned long long), 0));
  return Status::Ok();
}
Status read_bad_row(const unsigned long long* flag, int64_t* bad_row) {
  unsigned long long h = 0;
  RLVR_CUDA_TRY(cudaMemcpy(&h, flag, sizeof h, cudaMemcpyDeviceToHost));
  if (bad_row) *bad_row = h == ~0ull ? -1 : static_cast<int64_t>(h);
  return Status::Ok();
}

}  // namespace

// Without bad_row (and stats) the row kernels run fully asynchronously on the
// legacy default stream; with them, the call synchronizes to read the flag.
Status logprob_fwd_cuda(const LogprobFwdArgs& a) {
  if (Status s = check_rows(a.logits, a.n, a.v, a.targets, a.temperature); !s.ok()) return s;
  if (a.bad_row) *a.bad_row = -1;
  if (a.n == 0) return Status::Ok();
  if (!a.logp) return Status::Error(Code::Value, "logp", "null logp output");
  Scratch scratch;
  unsigned long long* flag = nullptr;
  if (a.bad_row)
    if (Status s = init_bad_row(scratch, &flag); !s.ok()) return s;
  const float it = 1.f / a.temperature;  // the CPU's inv_temp, rounded the same way
  Status s = dispatch_logits(a.logits_dtype, [&](auto tag) {
    using T = decltype(tag);
    logprob_fwd_kernel<T><<<row_grid(a.n), row_threads(a.v)>>>(a, it, flag);
    return launched("logprob_fwd_kernel");
  });
  if (!s.ok() || !a.bad_row) return s;
  return read_bad_row(flag, a.bad_row);
}

Status logprob_bwd_cuda(const LogprobBwdArgs& a) {
  if (Status s = check_rows(a.logits, a.n, a.v, a.targets, a.temperature); !s.ok()) return s;
  if (a.n == 0) return Status::Ok();
  if (!a.dlogits || !a.lse) return Status::Error(Code::Value, "dlogits", "null dlogits or lse");
  if (a.dentropy && !a.entropy) return Status::Error(Code::Value, "entropy", "dentropy needs the saved entropy");
  const float inv_t = 1.f / a.temperature;
  return dispatch_logits(a.logits_dtype, [&](auto tag) {
    using T = decltype(tag);
    logprob_bwd_kernel<T><<<row_grid(a.n), row_threads(a.v)>>>(a, inv_t);
    return launched("logprob_bwd_kernel");
  });
}

Status policy_loss_cuda(const PolicyLossArgs& a) {
  if (Status s = check_rows(a.logits, a.n, a.v, a.targets, a.temperature); !s.ok()) return s;
  if (Status s = check_policy_dlogits(a); !s.ok()) return s;
  if (a.bad_row) *a.bad_row = -1;
  if (a.stats) *a.stats = PolicyLossStats{};
  if (a.n == 0) return Status::Ok();  // empty inputs may come with null pointers
  if (a.pg_coef != 0.f && (!a.old_logp || !a.advantages))
    return Status::Error(Code::Value, "old_logp", "pg_coef != 0 needs old_logp and advantages");
  if (a.kl_coef != 0.f && !a.ref_logp) return Status::Error(Code::Value, "ref_logp", "kl_coef != 0 needs ref_logp");
  if (!a.logp || !a.entropy) return Status::Error(Code::Value, "logp", "null logp or entropy output");

  // Scratch: [bad-row flag | 8 sums | kSumMaxBlocks x 8 partials].
  Scratch scratch;
  unsigned long long* flag = nullptr;
  double *sums = nullptr, *partials = nullptr;
  if (a.bad_row || a.stats) {
    if (Status s = scratch.alloc(sizeof(double) * (1 + 8 + kSumMaxBlocks * 8)); !s.ok()) return s;
    sums = scratch.as<double>(sizeof(double));
    partials = sums + 8;
    if (a.bad_row) {
      flag = scratch.as<unsigned long long>();
      RLVR_CUDA_TRY(cudaMemsetAsync(flag, 0xff, sizeof *flag, 0));
    }
  }

  const float it = 1.f / a.temperature;  // the CPU's inv_temp, rounded the same way
  Status s;
  if (a.dlogits && policy_dlogits_dtype(a) != a.logits_dtype) {  // f32 -> bf16, the one pair check_policy_dlogits lets through
    policy_loss_kernel<float, __nv_bfloat16><<<row_grid(a.n), row_threads(a.v)>>>(a, it, flag);
    s = launched("policy_loss_kernel");
  } else {
    s = dispatch_logits(a.logits_dtype, [&](auto tag) {
      using T = decltype(tag);
      policy_loss_kernel<T, T><<<row_grid(a.n), row_threads(a.v)>>>(a, it, flag);
      return launched("policy_loss_kernel");
    });
  }
  if (!s.ok()) return s;
  if (a.stats) {
    if (Status e = batch_sums<8>(a.n, PolicyStatsFn{a}, partials, sums); !e.ok()) return e;
    double h[8];
    RLVR_CUDA_TRY(cudaMemcpy(h, sums, sizeof h, cudaMemcpyDeviceToHost));
    PolicyLossStats& o = *a.stats;
    o.total = h[0]; o.pg_loss = h[1]; o.kl_loss = h[2]; o.entropy = h[3];
    o.weight_sum = h[7];
    const double inv = h[7] > 0.0 ? 1.0 / h[7] : 0.0;
    o.clipfrac = h[4] * inv; o.dual_clipfrac = h[5] * inv; o.ppo_kl = h[6] * inv;
  }
  return a.bad_row ? read_bad_row(flag, a.bad_row) : Status::Ok();
}

}  // namespace rlvr::kernels
