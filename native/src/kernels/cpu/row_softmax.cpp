#include "kernels/cpu/row_softmax.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/dtype.h"
#include "kernels/cpu/simd.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RLVR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RLVR_CLONES
#endif

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
RLVR_INLINE void online_block(Online& o, const float* x, int64_t n, float inv_temp) {
  vf vm = vsplat(-kInf);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) vm = vmax(vm, vload(x + i));
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
  const vf vmx = vsplat(o.m), vt = vsplat(inv_temp), under = vsplat(kUnderflow), zero = vf{};
  vf vs = zero, vw = zero;
  for (i = 0; i + kLanes <= n; i += kLanes) {
    vf d = vload(x + i) * vt - vmx;
    vi drop = d <= under;  // false for NaN: it reaches the sums
    vf e = vselect(drop, zero, vexp_nonpos(d));
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

RLVR_INLINE void backward_block(const float* x, float* out, int64_t n, float inv_temp, float lse, float entropy,
                                float g_logp, float g_entropy) {
  const vf vt = vsplat(inv_temp), vl = vsplat(lse), vh = vsplat(entropy), vgl = vsplat(g_logp),
           vgh = vsplat(g_entropy), under = vsplat(kUnderflow), zero = vf{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    vf d = vload(x + i) * vt - vl;
    vi ok = d > under;
    vf p = vselect(ok, vexp_nonpos(d), zero);
    vf g = -(p * (vgl + vgh * (d + vh))) * vt;
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

RLVR_CLONES Online forward_f32(const float* row, int64_t v, float inv_temp) {
  Online o;
  for (int64_t b = 0; b < v && !o.bad; b += kBlock) online_block(o, row + b, std::min(kBlock, v - b), inv_temp);
  return o;
}

RLVR_CLONES Online forward_half(const void* row, DType dtype, int64_t v, float inv_temp) {
  alignas(64) float buf[kBlock];
  Online o;
  for (int64_t b = 0; b < v && !o.bad; b += kBlock) {
    const int64_t n = std::min(kBlock, v - b);
    load_f32(row, dtype, b, n, buf);
    online_block(o, buf, n, inv_temp);
  }
  return o;
}

RLVR_CLONES void backward_f32(const float* row, float* out, int64_t v, float inv_temp, float lse, float entropy,
                              float g_logp, float g_entropy) {
  for (int64_t b = 0; b < v; b += kBlock)
    backward_block(row + b, out + b, std::min(kBlock, v - b), inv_temp, lse, entropy, g_logp, g_entropy);
}

// Any (in, out) dtype pair other than f32 -> f32: the gradient of a block goes
// through an fp32 buffer and is rounded once on the store.
RLVR_CLONES void backward_buffered(const void* row, DType dtype, void* out, DType out_dtype, int64_t v,
                                   float inv_temp, float lse, float entropy, float g_logp, float g_entropy) {
  alignas(64) float in[kBlock], grad[kBlock];
  for (int64_t b = 0; b < v; b += kBlock) {
    int64_t n = std::min(kBlock, v - b);
    // f32 logits are read where they are, as backward_f32 reads them.
    const float* x = in;
    if (dtype == DType::F32) x = static_cast<const float*>(row) + b;
    else load_f32(row, dtype, b, n, in);
    backward_block(x, grad, n, inv_temp, lse, entropy, g_logp, g_entropy);
    store_f32(out, out_dtype, b, n, grad);
  }
}

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
