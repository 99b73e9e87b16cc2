#include "kernels/cpu/row_softmax.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/dtype.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/simd.h"

// The loops below run on 16-lane vectors V16 of the path's native width
// (simd.h): 16 lanes keep the per-lane sums and the lane-order reductions
// (hsum / hmax) the same on every path.

namespace rlvr::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int64_t kBlock = 2048;  // elements per block: stays in L1 for the second read
constexpr float kUnderflow = -87.0f;  // below this e^d is treated as exactly 0

// Online state over the blocks of one row.
struct Online {
  float m = -kInf, s = 0.f, w = 0.f;
  bool bad = false;
};

// NaN / +inf detection costs nothing extra: +inf makes the block max +inf, and
// a NaN (or the inf - inf it causes) is kept out of the underflow mask below,
// so it propagates into the block sums. GCC scalarizes explicit vector NaN tests.
template <class V>
RLVR_INLINE void online_block(Online& o, const float* x, int64_t n, float inv_temp) {
  V vm = vsplat<V>(-kInf);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) vm = vmax(vm, vload<V>(x + i));
  float bm = hmax(vm);
  for (; i < n; ++i) bm = x[i] > bm ? x[i] : bm;
  if (bm == kInf) { o.bad = true; return; }
  if (bm == -kInf) {  // all -inf, unless a NaN hides behind the max
    for (i = 0; i < n; ++i)
      if (std::isnan(x[i])) { o.bad = true; return; }
    return;
  }
  bm *= inv_temp;
  if (bm > o.m) {
    if (o.s > 0.f) {
      // The gap o.m - bm can overflow to -inf (e.g. -3e38 then +3e38), and
      // 0 * (w + -inf * s) would be NaN: below kUnderflow the earlier blocks
      // contribute exactly 0, as single elements do in the block loop.
      const float gap = o.m - bm;
      if (gap > kUnderflow) {
        float c = std::exp(gap);
        o.w = c * (o.w + gap * o.s);
        o.s *= c;
      } else {
        o.s = 0.f;
        o.w = 0.f;
      }
    }
    o.m = bm;
  }
  const V vmx = vsplat<V>(o.m), vt = vsplat<V>(inv_temp), under = vsplat<V>(kUnderflow), zero = V{};
  V vs = zero, vw = zero;
  for (i = 0; i + kLanes <= n; i += kLanes) {
    V d = vload<V>(x + i) * vt - vmx;
    auto drop = d <= under;  // false for NaN: it reaches the sums
    V e = vselect(drop, zero, vexp_nonpos(d));
    vs += e;
    vw += vselect(drop, zero, e * d);
  }
  float s = hsum(vs), w = hsum(vw);
  for (; i < n; ++i) {
    float d = x[i] * inv_temp - o.m;
    if (!(d <= kUnderflow)) {
      float e = exp_nonpos(d);
      s += e;
      w += e * d;
    }
  }
  if (std::isnan(s) || std::isnan(w)) { o.bad = true; return; }
  o.s += s;
  o.w += w;
}

template <class V>
RLVR_INLINE void backward_block(const float* x, float* out, int64_t n, float inv_temp, float lse, float entropy,
                                float g_logp, float g_entropy) {
  const V vt = vsplat<V>(inv_temp), vl = vsplat<V>(lse), vh = vsplat<V>(entropy), vgl = vsplat<V>(g_logp),
           vgh = vsplat<V>(g_entropy), under = vsplat<V>(kUnderflow), zero = V{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V d = vload<V>(x + i) * vt - vl;
    auto ok = d > under;
    V p = vselect(ok, vexp_nonpos(d), zero);
    V g = -(p * (vgl + vgh * (d + vh))) * vt;
    vstore(out + i, vselect(ok, g, zero));
  }
  for (; i < n; ++i) {
    float d = x[i] * inv_temp - lse;
    if (d > kUnderflow) {
      float p = exp_nonpos(d);
      out[i] = -(p * (g_logp + g_entropy * (d + entropy))) * inv_temp;
    } else {
      out[i] = 0.f;
    }
  }
}

// lse and entropy from the online state; z_target (already scaled) is filled by the caller.
RowResult finish(const Online& o) {
  RowResult r;
  r.bad = o.bad || !(o.s > 0.f);
  if (r.bad) return r;
  const float log_s = std::log(o.s);
  r.lse = o.m + log_s;
  r.entropy = std::max(log_s - o.w / o.s, 0.f);
  return r;
}

template <Isa I>
RLVR_INLINE Online forward_f32_body(const float* row, int64_t v, float inv_temp) {
  Online o;
  for (int64_t b = 0; b < v && !o.bad; b += kBlock) online_block<VecOf<I>>(o, row + b, std::min(kBlock, v - b), inv_temp);
  return o;
}
RLVR_ISA_DISPATCH(Online, forward_f32, (const float* row, int64_t v, float inv_temp), (row, v, inv_temp))

template <Isa I>
RLVR_INLINE Online forward_half_body(const void* row, DType dtype, int64_t v, float inv_temp) {
  alignas(64) float buf[kBlock];
  Online o;
  for (int64_t b = 0; b < v && !o.bad; b += kBlock) {
    const int64_t n = std::min(kBlock, v - b);
    load_f32(row, dtype, b, n, buf);
    online_block<VecOf<I>>(o, buf, n, inv_temp);
  }
  return o;
}
RLVR_ISA_DISPATCH(Online, forward_half, (const void* row, DType dtype, int64_t v, float inv_temp),
                  (row, dtype, v, inv_temp))

template <Isa I>
RLVR_INLINE void backward_f32_body(const float* row, float* out, int64_t v, float inv_temp, float lse, float entropy,
                                   float g_logp, float g_entropy) {
  for (int64_t b = 0; b < v; b += kBlock)
    backward_block<VecOf<I>>(row + b, out + b, std::min(kBlock, v - b), inv_temp, lse, entropy, g_logp, g_entropy);
}
RLVR_ISA_DISPATCH(void, backward_f32,
                  (const float* row, float* out, int64_t v, float inv_temp, float lse, float entropy, float g_logp,
                   float g_entropy),
                  (row, out, v, inv_temp, lse, entropy, g_logp, g_entropy))

// Any (in, out) dtype pair other than f32 -> f32: the gradient of a block goes
// through an fp32 buffer and is rounded once on the store.
template <Isa I>
RLVR_INLINE void backward_buffered_body(const void* row, DType dtype, void* out, DType out_dtype, int64_t v,
                                        float inv_temp, float lse, float entropy, float g_logp, float g_entropy) {
  alignas(64) float in[kBlock], grad[kBlock];
  for (int64_t b = 0; b < v; b += kBlock) {
    int64_t n = std::min(kBlock, v - b);
    // f32 logits are read where they are, as backward_f32 reads them.
    const float* x = in;
    if (dtype == DType::F32) x = static_cast<const float*>(row) + b;
    else load_f32(row, dtype, b, n, in);
    backward_block<VecOf<I>>(x, grad, n, inv_temp, lse, entropy, g_logp, g_entropy);
    store_f32(out, out_dtype, b, n, grad);
  }
}
RLVR_ISA_DISPATCH(void, backward_buffered,
                  (const void* row, DType dtype, void* out, DType out_dtype, int64_t v, float inv_temp, float lse,
                   float entropy, float g_logp, float g_entropy),
                  (row, dtype, out, out_dtype, v, inv_temp, lse, entropy, g_logp, g_entropy))

}  // namespace

RowResult row_forward(const void* row, DType dtype, int64_t v, int32_t target, float inv_temp) {
  RowResult r = finish(dtype == DType::F32 ? forward_f32(static_cast<const float*>(row), v, inv_temp)
                                           : forward_half(row, dtype, v, inv_temp));
  if (!r.bad) {
    float zt;
    load_f32(row, dtype, target, 1, &zt);
    r.z_target = zt * inv_temp;
    r.logp = std::min(r.z_target - r.lse, 0.f);
  }
  return r;
}

void row_backward(const void* row, DType dtype, void* out, DType out_dtype, int64_t v, int32_t target,
                  float inv_temp, float lse, float entropy, float g_logp, float g_entropy) {
  // The target's one-hot term: read z_target before a possible in-place
  // overwrite, then write its full gradient once (one rounding for f16/bf16).
  float zt;
  load_f32(row, dtype, target, 1, &zt);
  if (dtype == DType::F32 && out_dtype == DType::F32) {
    backward_f32(static_cast<const float*>(row), static_cast<float*>(out), v, inv_temp, lse, entropy, g_logp,
                 g_entropy);
  } else {
    backward_buffered(row, dtype, out, out_dtype, v, inv_temp, lse, entropy, g_logp, g_entropy);
  }
  float d = zt * inv_temp - lse;
  float p = d > kUnderflow ? exp_nonpos(d) : 0.f;
  float gt = p > 0.f ? -(p * (g_logp + g_entropy * (d + entropy))) * inv_temp : 0.f;
  gt += g_logp * inv_temp;
  store_f32(out, out_dtype, target, 1, &gt);
}

}  // namespace rlvr::cpu
