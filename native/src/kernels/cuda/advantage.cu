// GRPO outcome advantages and GAE.
#include "kernels/cuda/common.cuh"

namespace rlvr::kernels {
namespace {

using namespace rlvr::cudak;

constexpr int kThreads = 256;

// One thread per group; groups are small (the rollout count per prompt).
__global__ void grpo_group_kernel(GrpoAdvantageArgs a) {
  const int64_t groups = a.b / a.group_size, g = a.group_size;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < groups;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float* s = a.scores + k * g;
    double mean = 0.0, std = 1.0;  // a lone response has no group baseline
    if (g > 1) {
      double sum = 0.0;
      for (int64_t i = 0; i < g; ++i) sum += s[i];
      mean = sum / static_cast<double>(g);
      double ss = 0.0;
      for (int64_t i = 0; i < g; ++i) ss += (s[i] - mean) * (s[i] - mean);
      std = sqrt(ss / static_cast<double>(g - 1));
    }
    for (int64_t i = 0; i < g; ++i) {
      const double d = s[i] - mean;
      a.advantages[k * g + i] = static_cast<float>(a.norm_std ? d / (std + a.eps) : d);
    }
  }
}

__global__ void broadcast_rows_kernel(const float* row_val, const float* mask, int64_t b, int64_t t, float* out) {
  const int64_t n = b * t;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = row_val[i / t] * mask[i];
}

// One thread per sequence, scanning backwards; positions with mask 0 carry the
// next value and advantage through.
__global__ void gae_scan_kernel(GaeArgs a) {
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < a.b;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = r * a.t;
    const float gl = a.gamma * a.lambda;
    float next_v = 0.f, next_a = 0.f;
    for (int64_t j = a.t - 1; j >= 0; --j) {
      const float v = a.values[o + j];
      if (a.mask[o + j] == 0.f) {
        a.advantages[o + j] = 0.f;
        a.returns[o + j] = 0.f;
        continue;
      }
      const float delta = a.rewards[o + j] + a.gamma * next_v - v;
      next_a = delta + gl * next_a;
      next_v = v;
      a.advantages[o + j] = next_a;
      a.returns[o + j] = next_a + v;
    }
  }
}

struct MaskedSumFn {  // [sum(mask * A), sum(mask)]
  const float *x, *mask;
  __device__ void operator()(int64_t i, double (&acc)[2]) const {
    acc[0] += static_cast<double>(x[i]) * mask[i];
    acc[1] += mask[i];
  }
};
struct MaskedSqDevFn {  // sum(mask * (A - mean)^2), mean = sums[0] / sums[1]
  const float *x, *mask;
  const double* sums;
  __device__ void operator()(int64_t i, double (&acc)[1]) const {
    const double mean = sums[1] > 0.0 ? sums[0] / sums[1] : 0.0;
    const double d = x[i] - mean;
    acc[0] += d * d * mask[i];
  }
};

// A <- (A - mean) / sqrt(unbiased var + 1e-8) * mask; a single token has variance 0.
__global__ void whiten_kernel(float* x, const float* mask, int64_t n, const double* sums, const double* ss) {
  const double count = sums[1], mean = count > 0.0 ? sums[0] / count : 0.0;
  const double var = count > 1.0 ? *ss / (count - 1.0) : 0.0;
  const double inv = 1.0 / sqrt(var + 1e-8);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] = static_cast<float>((x[i] - mean) * inv * mask[i]);
}

}  // namespace

Status grpo_advantage_cuda(const GrpoAdvantageArgs& a) {
  if (a.b < 0 || a.t < 0) return Status::Error(Code::Shape, "scores", "negative shape");
  if (a.group_size < 1 || a.b % a.group_size != 0)
    return Status::Error(Code::Range, "group_size", "group_size must be >= 1 and divide the batch size");
  if (a.b == 0) return Status::Ok();
  if (!a.scores || !a.advantages) return Status::Error(Code::Value, "scores", "null scores or advantages");
  const int64_t groups = a.b / a.group_size;
  grpo_group_kernel<<<grid_for(groups, kThreads), kThreads>>>(a);
  if (Status s = launched("grpo_group_kernel"); !s.ok()) return s;
  if (a.token_advantages && a.t > 0) {
    if (!a.mask) return Status::Error(Code::Value, "mask", "token advantages need the response mask");
    broadcast_rows_kernel<<<grid_for(a.b * a.t, kThreads), kThreads>>>(a.advantages, a.mask, a.b, a.t,
                                                                        a.token_advantages);
    return launched("broadcast_rows_kernel");
  }
  return Status::Ok();
}

Status gae_cuda(const GaeArgs& a) {
  if (a.b < 0 || a.t < 0) return Status::Error(Code::Shape, "rewards", "negative shape");
  const int64_t n = a.b * a.t;
  if (n == 0) return Status::Ok();
  if (!a.rewards || !a.values || !a.mask || !a.advantages || !a.returns)
    return Status::Error(Code::Value, "rewards", "null input or output pointer");
  gae_scan_kernel<<<grid_for(a.b, 64), 64>>>(a);
  if (Status s = launched("gae_scan_kernel"); !s.ok()) return s;
  if (!a.whiten) return Status::Ok();

  // Scratch: [sum(mask*A), sum(mask), sum(mask*(A-mean)^2) | partials].
  Scratch scratch;
  if (Status s = scratch.alloc(sizeof(double) * (3 + 2 * kSumMaxBlocks)); !s.ok()) return s;
  double* sums = scratch.as<double>();
  double* partials = sums + 3;
  if (Status s = batch_sums<2>(n, MaskedSumFn{a.advantages, a.mask}, partials, sums); !s.ok()) return s;
  if (Status s = batch_sums<1>(n, MaskedSqDevFn{a.advantages, a.mask, sums}, partials, sums + 2); !s.ok()) return s;
  whiten_kernel<<<grid_for(n, kThreads), kThreads>>>(a.advantages, a.mask, n, sums, sums + 2);
  return launched("whiten_kernel");
}

}  // namespace rlvr::kernels
