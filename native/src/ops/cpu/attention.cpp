// The CPU backend's attention (cpu_ops.h): one per-query-head routine, one
// function for training, scoring, prefill and decode, so a query's output depends only on its
// own q and the keys/values it sees (decode == score bit for bit). Summation orders: a dot
// product is 16 strided partial sums (lane j sums a[i + j] * b[i + j] over i = 0, 16, ...) added
// in a fixed tree, then the scalar tail; the weighted value sum is one running sum per element
// over visible keys in ascending slot order. Compiled per instruction-set path (kernels/cpu/isa.h)
// with 16-lane vectors on every path (two ymm on AVX2, four q registers on NEON), so the 16
// partial sums and their tree are the same everywhere; the loops hold at most 4 + 2 such
// vectors (wsum_block<4>), 12 ymm, which fits AVX2's 16 registers.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/simd.h"
#include "ops/cpu/cpu_ops.h"

namespace rlvr::engine::cpuops {

using cpu::parallel_for;

namespace {

// Sum of the 16 lanes as a fixed tree: (lanes i + 8), then (+ 4), then pairs.
template <class V>
RLVR_INLINE float hsum_tree(V v) {
  float a[8], c[4];
  for (int i = 0; i < 8; ++i) a[i] = v[i] + v[i + 8];
  for (int i = 0; i < 4; ++i) c[i] = a[i] + a[i + 4];
  return (c[0] + c[2]) + (c[1] + c[3]);
}

template <class V>
RLVR_INLINE float dot(const float* a, const float* b, int64_t n) {
  // Fixed order: 16 strided partial sums (lane j sums a[i + j] * b[i + j] over
  // i = 0, 16, 32, ...), then hsum_tree, then a scalar tail. Same order
  // wherever it is used (a function of n only).
  V part{};
  int64_t i = 0;
  for (; i + cpu::kLanes <= n; i += cpu::kLanes) part += cpu::vload<V>(a + i) * cpu::vload<V>(b + i);
  float s = hsum_tree(part);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// out[0..hd) += sum over j = 0..slot with mask[j] != 0, in ascending j, of
// w[j] * x[j * stride + d]: each element is one running sum in j order (the
// same as hd calls of axpy), kept in registers 64 columns at a time.
template <class V, int NV>
RLVR_INLINE void wsum_block(float* out, const float* w, const float* mask, const float* x, int64_t stride,
                            int64_t slot) {
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = cpu::vload<V>(out + v * cpu::kLanes);
  for (int64_t j = 0; j <= slot; ++j) {
    if (mask[j] == 0.f) continue;
    const V wj = cpu::vsplat<V>(w[j]);
    const float* xr = x + j * stride;
    for (int v = 0; v < NV; ++v) acc[v] += wj * cpu::vload<V>(xr + v * cpu::kLanes);
  }
  for (int v = 0; v < NV; ++v) cpu::vstore(out + v * cpu::kLanes, acc[v]);
}

template <class V>
RLVR_INLINE void wsum(float* out, const float* w, const float* mask, const float* x, int64_t stride, int64_t slot,
                      int64_t hd) {
  int64_t d = 0;
  for (; d + 4 * cpu::kLanes <= hd; d += 4 * cpu::kLanes) wsum_block<V, 4>(out + d, w, mask, x + d, stride, slot);
  switch ((hd - d) / cpu::kLanes) {
    case 3: wsum_block<V, 3>(out + d, w, mask, x + d, stride, slot); d += 3 * cpu::kLanes; break;
    case 2: wsum_block<V, 2>(out + d, w, mask, x + d, stride, slot); d += 2 * cpu::kLanes; break;
    case 1: wsum_block<V, 1>(out + d, w, mask, x + d, stride, slot); d += cpu::kLanes; break;
    default: break;
  }
  for (; d < hd; ++d) {
    float acc = out[d];
    for (int64_t j = 0; j <= slot; ++j)
      if (mask[j] != 0.f) acc += w[j] * x[j * stride + d];
    out[d] = acc;
  }
}

// y[0..n) += s * x[0..n)  (element-wise, so any vector width gives the same result)
template <class V>
RLVR_INLINE void axpy(float* y, float s, const float* x, int64_t n) {
  int64_t i = 0;
  const V sv = cpu::vsplat<V>(s);
  for (; i + cpu::kLanes <= n; i += cpu::kLanes) cpu::vstore(y + i, cpu::vload<V>(y + i) + sv * cpu::vload<V>(x + i));
  for (; i < n; ++i) y[i] += s * x[i];
}

// One query head against its keys (cpu_ops.h's attend_one).
template <cpu::Isa I>
RLVR_INLINE bool attend_one_body(const float* q, const float* kbase, const float* vbase, int64_t kv_stride,
                                 const float* mask, int64_t slot, int64_t hd, float scale, float* p, float* out,
                                 float* lse) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j <= slot; ++j) {
    if (mask[j] == 0.f) { p[j] = 0.f; continue; }
    const float s = dot<cpu::VecOf<I>>(q, kbase + j * kv_stride, hd) * scale;
    p[j] = s;
    mx = s > mx ? s : mx;
  }
  for (int64_t d = 0; d < hd; ++d) out[d] = 0.f;
  if (mx == -std::numeric_limits<float>::infinity()) {
    if (lse) *lse = std::numeric_limits<float>::infinity();
    return false;
  }
  float sum = 0.f;
  for (int64_t j = 0; j <= slot; ++j) {
    if (mask[j] == 0.f) continue;
    const float e = std::exp(p[j] - mx);
    p[j] = e;
    sum += e;
  }
  if (lse) *lse = mx + std::log(sum);
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j <= slot; ++j) p[j] = mask[j] == 0.f ? 0.f : p[j] * inv;
  wsum<cpu::VecOf<I>>(out, p, mask, vbase, kv_stride, slot, hd);
  return true;
}

}  // namespace

RLVR_ISA_DISPATCH(bool, attend_one,
                  (const float* q, const float* kbase, const float* vbase, int64_t kv_stride, const float* mask,
                   int64_t slot, int64_t hd, float scale, float* p, float* out, float* lse),
                  (q, kbase, vbase, kv_stride, mask, slot, hd, scale, p, out, lse))

namespace {

// Backward of one query head (recomputes its probabilities with attend_one):
// dq (+)= , dk/dv of its visible keys +=.
template <cpu::Isa I>
RLVR_INLINE void attend_one_bwd_body(const float* qr, const float* dor, const float* kb, const float* vb,
                                     int64_t kv_stride, const float* mask, int64_t t, int64_t hd, float scale,
                                     float* pb, float* dp, float* tmp, float* dqr, float* dkb, float* dvb) {
  if (!attend_one_body<I>(qr, kb, vb, kv_stride, mask, t, hd, scale, pb, tmp, nullptr)) return;
  double D = 0;
  for (int64_t j = 0; j <= t; ++j) {
    if (mask[j] == 0.f) continue;
    dp[j] = dot<cpu::VecOf<I>>(dor, vb + j * kv_stride, hd);
    D += static_cast<double>(pb[j]) * dp[j];
  }
  const float Df = static_cast<float>(D);
  for (int64_t j = 0; j <= t; ++j) {
    if (mask[j] == 0.f) continue;
    const float pj = pb[j];
    const float ds = pj * (dp[j] - Df) * scale;
    dp[j] = ds;  // now dL/dscore_j * scale
    axpy<cpu::VecOf<I>>(dkb + j * kv_stride, ds, qr, hd);
    axpy<cpu::VecOf<I>>(dvb + j * kv_stride, pj, dor, hd);
  }
  wsum<cpu::VecOf<I>>(dqr, dp, mask, kb, kv_stride, t, hd);
}
RLVR_ISA_DISPATCH(void, attend_one_bwd,
                  (const float* qr, const float* dor, const float* kb, const float* vb, int64_t kv_stride,
                   const float* mask, int64_t t, int64_t hd, float scale, float* pb, float* dp, float* tmp, float* dqr,
                   float* dkb, float* dvb),
                  (qr, dor, kb, vb, kv_stride, mask, t, hd, scale, pb, dp, tmp, dqr, dkb, dvb))

}  // namespace

Status attention_fwd(const ops::AttnFwdArgs& a) {
  if (a.bf16 && a.tq > 1) return ops::attention_fwd_cpu(a);  // the tensor-core math (ops.h)
  const int64_t hd = a.head_dim, NH = a.heads, Q = NH * hd, KV = a.kv_heads * hd, group = NH / a.kv_heads;
  const float scale = a.scale != 0.f ? a.scale : 1.0f / std::sqrt(static_cast<float>(hd));
  parallel_for(a.b * a.tq * NH, 4, [&](int64_t i0, int64_t i1, int) {
    std::vector<float> pbuf(static_cast<size_t>(a.slot0 + a.tq));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t r = i / NH, hh = i % NH, s = r / a.tq, slot = a.slot0 + r % a.tq, kvh = hh / group;
      const int64_t f = a.first ? a.first[r] : 0;  // keys of other packed sequences are skipped
      const int64_t kv0 = (s * a.seq_stride + f) * KV + kvh * hd;
      attend_one(a.q + r * Q + hh * hd, a.k + kv0, a.v + kv0, KV, a.mask + s * a.mask_stride + f, slot - f, hd, scale,
                 pbuf.data(), a.out + r * Q + hh * hd, a.lse ? a.lse + r * NH + hh : nullptr);
    }
  });
  return Status::Ok();
}

// The probabilities are recomputed per query with attend_one (lse and out are not read), as the
// CPU engine always did. One task per (sequence, kv head): it owns dk/dv of its keys and dq of
// its group's query heads, so there are no write races and the order is fixed.
Status attention_bwd(const ops::AttnBwdArgs& a) {
  if (a.bf16 && a.t > 1) return ops::attention_bwd_cpu(a);
  const int64_t hd = a.head_dim, NH = a.heads, NKV = a.kv_heads, Q = NH * hd, KV = NKV * hd, group = NH / NKV,
                tlen = a.t;
  const float scale = a.scale != 0.f ? a.scale : 1.0f / std::sqrt(static_cast<float>(hd));
  std::fill(a.dq, a.dq + a.b * tlen * Q, 0.f);
  std::fill(a.dk, a.dk + a.b * tlen * KV, 0.f);
  std::fill(a.dv, a.dv + a.b * tlen * KV, 0.f);
  parallel_for(a.b * NKV, 1, [&](int64_t i0, int64_t i1, int) {
    std::vector<float> pb(static_cast<size_t>(tlen)), dp(static_cast<size_t>(tlen)), tmp(static_cast<size_t>(hd));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / NKV, kvh = i % NKV;
      const float* kb = a.k + b * tlen * KV + kvh * hd;
      const float* vb = a.v + b * tlen * KV + kvh * hd;
      float* dkb = a.dk + b * tlen * KV + kvh * hd;
      float* dvb = a.dv + b * tlen * KV + kvh * hd;
      const float* mask = a.mask + b * tlen;
      for (int64_t hh = kvh * group; hh < (kvh + 1) * group; ++hh) {
        for (int64_t t = 0; t < tlen; ++t) {
          const int64_t r = b * tlen + t, f = a.first ? a.first[r] : 0;
          attend_one_bwd(a.q + r * Q + hh * hd, a.dout + r * Q + hh * hd, kb + f * KV, vb + f * KV, KV, mask + f,
                         t - f, hd, scale, pb.data(), dp.data(), tmp.data(), a.dq + r * Q + hh * hd, dkb + f * KV,
                         dvb + f * KV);
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace rlvr::engine::cpuops
