// Elementwise loss kernels: PPO clip, KL penalty, aggregation weights, value loss.
#include "kernels/cuda/common.cuh"

namespace rlvr::kernels {
namespace {

using namespace rlvr::cudak;

constexpr int kThreads = 256;

__global__ void ppo_clip_kernel(PpoClipArgs a) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const PgTerm t = pg_term(a.logp[i], a.old_logp[i], a.advantages[i], a.clip_low, a.clip_high, a.dual_clip);
    a.loss[i] = t.loss;
    if (a.dlogp) a.dlogp[i] = t.grad;
    if (a.clipped) a.clipped[i] = t.clipped;
    if (a.dual_clipped) a.dual_clipped[i] = t.dual;
  }
}

__global__ void kl_kernel(KlArgs a) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const KlTerm t = kl_term(a.logp[i], a.ref_logp[i], a.type);
    a.kl[i] = t.kl;
    if (a.dlogp) a.dlogp[i] = t.grad;
  }
}

struct MaskSumFn {
  const float* mask;
  __device__ void operator()(int64_t i, double (&acc)[1]) const { acc[0] += mask[i]; }
};

// Token mean: w = mask * float(1 / sum(mask)), 0 when the sum is not positive.
__global__ void token_mean_kernel(const float* mask, int64_t n, const double* total, float* w) {
  const float inv = *total > 0.0 ? static_cast<float>(1.0 / *total) : 0.f;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    w[i] = mask[i] * inv;
}

// One block per row: w = mask * scale with scale = 1 / b (seq-mean-token-sum)
// or 1 / (b * len_row) (seq-mean-token-mean, 0 for an empty row), in fp64.
template <bool kPerRowLen>
__global__ void __launch_bounds__(kThreads) seq_mean_kernel(const float* mask, int64_t b, int64_t t, float* w) {
  __shared__ double scale;
  const double inv_b = 1.0 / static_cast<double>(b);
  for (int64_t r = blockIdx.x; r < b; r += gridDim.x) {
    const float* m = mask + r * t;
    double sc = inv_b;
    if (kPerRowLen) {
      double len[1] = {0.0};
      for (int64_t j = threadIdx.x; j < t; j += blockDim.x) len[0] += m[j];
      block_sum(len);
      if (threadIdx.x == 0) scale = len[0] > 0.0 ? inv_b / len[0] : 0.0;
      __syncthreads();
      sc = scale;
      __syncthreads();  // scale is rewritten for the next row
    }
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x) w[r * t + j] = static_cast<float>(m[j] * sc);
  }
}

// One token of the value loss: weight, term and weighted gradient w * d term / d v.
// A token with weight 0 (padding) is not evaluated and gets gradient +0, as on CPU.
struct ValueToken {
  float w, grad;
  ValueTerm t;
};
__device__ __forceinline__ ValueToken value_token(const ValueLossArgs& a, int64_t i) {
  ValueToken k{a.weights[i], 0.f, {0.f, 0.f, false}};
  if (k.w == 0.f) return k;
  k.t = value_term(a.values[i], a.old_values[i], a.returns[i], a.clip);
  k.grad = k.w * k.t.grad;
  return k;
}

__global__ void value_loss_kernel(ValueLossArgs a) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    a.dvalues[i] = value_token(a, i).grad;
}

// [sum(w * term), sum(w * [c > a]), sum(w)] in fp64; writes dvalues on the way
// (when non-null), so the stats and the gradient take one pass over the inputs.
struct ValueStatsFn {
  ValueLossArgs a;
  __device__ void operator()(int64_t i, double (&acc)[3]) const {
    const ValueToken k = value_token(a, i);
    if (a.dvalues) a.dvalues[i] = k.grad;
    if (k.w == 0.f) return;
    const double w = k.w;
    acc[0] += w * k.t.loss;
    acc[1] += k.t.clipped ? w : 0.0;
    acc[2] += w;
  }
};

}  // namespace

Status ppo_clip_cuda(const PpoClipArgs& a) {
  if (a.n < 0) return Status::Error(Code::Shape, "logp", "negative length");
  if (a.n == 0) return Status::Ok();
  if (!a.logp || !a.old_logp || !a.advantages || !a.loss)
    return Status::Error(Code::Value, "logp", "null input or loss pointer");
  ppo_clip_kernel<<<grid_for(a.n, kThreads), kThreads>>>(a);
  return launched("ppo_clip_kernel");
}

Status kl_penalty_cuda(const KlArgs& a) {
  if (a.n < 0) return Status::Error(Code::Shape, "logp", "negative length");
  if (a.n == 0) return Status::Ok();
  if (!a.logp || !a.ref_logp || !a.kl) return Status::Error(Code::Value, "logp", "null input or kl pointer");
  kl_kernel<<<grid_for(a.n, kThreads), kThreads>>>(a);
  return launched("kl_kernel");
}

// With stats the call synchronizes to copy the three sums to the host;
// without them it runs asynchronously on the legacy default stream.
Status value_loss_cuda(const ValueLossArgs& a) {
  if (a.stats) *a.stats = ValueLossStats{};
  if (a.n < 0) return Status::Error(Code::Shape, "values", "negative length");
  if (!(a.clip > 0.f) || !std::isfinite(a.clip)) return Status::Error(Code::Value, "clip", "clip must be finite and > 0");
  if (a.n == 0) return Status::Ok();  // empty inputs may come with null pointers
  if (!a.values || !a.old_values || !a.returns || !a.weights)
    return Status::Error(Code::Value, "values", "null values, old_values, returns or weights");
  if (!a.stats) {
    if (!a.dvalues) return Status::Ok();
    value_loss_kernel<<<grid_for(a.n, kThreads), kThreads>>>(a);
    return launched("value_loss_kernel");
  }
  // Scratch: [3 sums | kSumMaxBlocks x 3 partials].
  Scratch scratch;
  if (Status s = scratch.alloc(sizeof(double) * (3 + 3 * kSumMaxBlocks)); !s.ok()) return s;
  double* sums = scratch.as<double>();
  if (Status s = batch_sums<3>(a.n, ValueStatsFn{a}, sums + 3, sums); !s.ok()) return s;
  double h[3];
  RLVR_CUDA_TRY(cudaMemcpy(h, sums, sizeof h, cudaMemcpyDeviceToHost));
  ValueLossStats& o = *a.stats;
  o.total = h[0];
  o.weight_sum = h[2];
  o.clipfrac = h[2] > 0.0 ? h[1] / h[2] : 0.0;
  return Status::Ok();
}

Status agg_weights_cuda(const AggWeightsArgs& a) {
  if (a.b < 0 || a.t < 0) return Status::Error(Code::Shape, "mask", "negative shape");
  const int64_t n = a.b * a.t;
  if (n == 0) return Status::Ok();
  if (!a.mask || !a.weights) return Status::Error(Code::Value, "mask", "null mask or weights");
  const unsigned row_blocks = grid_for(a.b, 1, 1u << 30);
  switch (a.mode) {
    case AggMode::TokenMean: {
      Scratch s;
      if (Status e = s.alloc(sizeof(double) * (1 + kSumMaxBlocks)); !e.ok()) return e;
      double* total = s.as<double>();
      if (Status e = batch_sums<1>(n, MaskSumFn{a.mask}, total + 1, total); !e.ok()) return e;
      token_mean_kernel<<<grid_for(n, kThreads), kThreads>>>(a.mask, n, total, a.weights);
      return launched("token_mean_kernel");
    }
    case AggMode::SeqMeanTokenSum:
      seq_mean_kernel<false><<<row_blocks, kThreads>>>(a.mask, a.b, a.t, a.weights);
      return launched("seq_mean_kernel");
    case AggMode::SeqMeanTokenMean:
      seq_mean_kernel<true><<<row_blocks, kThreads>>>(a.mask, a.b, a.t, a.weights);
      return launched("seq_mean_kernel");
  }
  return Status::Error(Code::Value, "mode", "unknown aggregation mode");
}

}  // namespace rlvr::kernels
