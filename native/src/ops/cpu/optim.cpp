// The CPU backend's optimizer ops (cpu_ops.h): the global gradient norm and AdamW (vectorized per instruction-set path, kernels/cpu/isa.h; memory bound).
#include <cmath>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/simd.h"
#include "ops/cpu/cpu_ops.h"

namespace rlvr::engine::cpuops {

using cpu::parallel_for;

namespace {
// sum of g[i]^2 in double: 16 strided partial sums (vectorizable without
// reassociation), then added in lane order, then the tail.
template <cpu::Isa>
RLVR_INLINE double sumsq_range_body(const float* g, int64_t n) {
  double part[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) part[j] += static_cast<double>(g[i + j]) * g[i + j];
  double s = 0;
  for (int j = 0; j < 16; ++j) s += part[j];
  for (; i < n; ++i) s += static_cast<double>(g[i]) * g[i];
  return s;
}
RLVR_ISA_DISPATCH(double, sumsq_range, (const float* g, int64_t n), (g, n))

struct AdamWConsts {
  float clip, decay, beta1, beta2, step_size, bc2_sqrt, eps;
};
// One element-wise pass.
template <cpu::Isa>
RLVR_INLINE void adamw_range_body(const AdamWConsts& a, float* __restrict data, float* __restrict grad,
                                  float* __restrict mom, float* __restrict var, int64_t n, bool zero_grad) {
  const float clip = a.clip, decay = a.decay, b1 = a.beta1, b2 = a.beta2, ss = a.step_size, bc2 = a.bc2_sqrt,
              eps = a.eps;
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] * clip;
    float p = data[i] * decay;
    const float m = b1 * mom[i] + (1.0f - b1) * g;
    const float v = b2 * var[i] + (1.0f - b2) * g * g;
    mom[i] = m;
    var[i] = v;
    const float denom = std::sqrt(v) / bc2 + eps;
    p -= ss * (m / denom);
    data[i] = p;
    if (zero_grad) grad[i] = 0.f;
  }
}
RLVR_ISA_DISPATCH(void, adamw_range,
                  (const AdamWConsts& a, float* __restrict data, float* __restrict grad, float* __restrict mom,
                   float* __restrict var, int64_t n, bool zero_grad),
                  (a, data, grad, mom, var, n, zero_grad))
}  // namespace

// Per-thread partial sums over contiguous ranges, added in thread order. (The ranges follow
// the thread count, so the last bits of the norm do too; the norm only scales the clip factor.)
Status grad_norm(const float* g, int64_t count, double* norm) {
  const int threads = cpu::num_threads();
  std::vector<double> part(static_cast<size_t>(threads), 0.0);
  parallel_for(count, 1 << 16, [&](int64_t i0, int64_t i1, int tid) { part[tid] += sumsq_range(g + i0, i1 - i0); });
  double s = 0;
  for (double p : part) s += p;
  *norm = std::sqrt(s);
  return Status::Ok();
}

// torch.optim.AdamW (foreach=False) given the clip factor and step (ops.h).
Status adamw(const ops::AdamWArgs& o) {
  const double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(o.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(o.step));
  const AdamWConsts c{o.clip,  1.0f - o.lr * o.weight_decay, o.beta1, o.beta2, static_cast<float>(o.lr / bc1),
                      static_cast<float>(std::sqrt(bc2)), o.eps};
  parallel_for(o.count, 1 << 15, [&](int64_t i0, int64_t i1, int) {
    adamw_range(c, o.param + i0, o.grad + i0, o.m + i0, o.v + i0, i1 - i0, o.zero_grad);
  });
  // bf16 mode's twin of the updated weights: bitwise the RNE cast of the fp32 result (ops.h)
  return o.param16 ? ops::cast_bf16_cpu(o.param, o.param16, o.count) : Status::Ok();
}

}  // namespace rlvr::engine::cpuops
