// CPU reference of the engine ops (native/src/ops/ops.h): single-threaded
// transcriptions of the CPU backend's per-op math (native/src/ops/cpu; same formulas,
// same accumulation types and loop orders), so that the CUDA ops can be
// checked without linking the engine (which is being optimized separately).
// Only the GEMM differs in that it accumulates in fp64: it is the ground
// truth the checker measures fp32 / bf16 GEMM errors against.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ops/ops.h"

namespace rlvr::engine::ops {

namespace {
inline float bf16_bits_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t f32_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline double load(const void* p, DType d, int64_t i) {
  return d == DType::BF16 ? bf16_bits_to_f32(static_cast<const uint16_t*>(p)[i]) : static_cast<const float*>(p)[i];
}
}  // namespace

Status gemm_cpu(const GemmArgs& g) {
  if (g.dtype != DType::F32 && g.dtype != DType::BF16) return Status::Error(Code::DType, "gemm", "f32 or bf16 inputs");
  if (g.c16 && (g.c || g.bias || g.accumulate))
    return Status::Error(Code::Value, "gemm", "a bf16 C (c16) takes no c, bias or accumulate");
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double av = load(g.a, g.dtype, g.trans_a ? p * g.lda + i : i * g.lda + p);
        const double bv = load(g.b, g.dtype, g.trans_b ? j * g.ldb + p : p * g.ldb + j);
        s += av * bv;
      }
      float r = static_cast<float>(s);
      if (g.bias) r += g.bias[j];
      if (g.c16) {
        static_cast<uint16_t*>(g.c16)[i * g.ldc + j] = f32_to_bf16_bits(r);
        continue;
      }
      float& c = g.c[i * g.ldc + j];
      c = g.accumulate ? c + r : r;
    }
  return Status::Ok();
}

Status cast_bf16_cpu(const float* x, void* y, int64_t count) {
  uint16_t* o = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < count; ++i) o[i] = f32_to_bf16_bits(x[i]);
  return Status::Ok();
}

Status bias_bwd_cpu(const float* dy, float* db, int64_t n, int64_t d) {
  for (int64_t c = 0; c < d; ++c) {
    double s = 0;
    for (int64_t r = 0; r < n; ++r) s += dy[r * d + c];
    db[c] += static_cast<float>(s);
  }
  return Status::Ok();
}

Status rmsnorm_fwd_cpu(const RmsNormFwdArgs& a) {
  for (int64_t r = 0; r < a.n; ++r) {
    const float* xr = a.x + r * a.h;
    double ss = 0;
    for (int64_t i = 0; i < a.h; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float var = static_cast<float>(ss / static_cast<double>(a.h));
    const float iv = 1.0f / std::sqrt(var + a.eps);
    if (a.inv) a.inv[r] = iv;
    float* yr = a.y ? a.y + r * a.h : nullptr;
    uint16_t* yb = a.y16 ? static_cast<uint16_t*>(a.y16) + r * a.h : nullptr;
    for (int64_t i = 0; i < a.h; ++i) {
      const float y = a.w[i] * (xr[i] * iv);
      if (yr) yr[i] = y;
      if (yb) yb[i] = f32_to_bf16_bits(y);
    }
  }
  return Status::Ok();
}

Status rmsnorm_bwd_cpu(const RmsNormBwdArgs& a) {
  const int64_t n = a.n, h = a.h;
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = a.x + r * h;
    const float* gr = a.dy + r * h;
    const float iv = a.inv[r];
    double dot = 0;
    for (int64_t i = 0; i < h; ++i) dot += static_cast<double>(gr[i] * a.w[i]) * (xr[i] * iv);
    const float mean = static_cast<float>(dot / static_cast<double>(h));
    float* dr = a.dx + r * h;
    uint16_t* db = a.dx16 ? static_cast<uint16_t*>(a.dx16) + r * h : nullptr;
    for (int64_t i = 0; i < h; ++i) {
      const float xhat = xr[i] * iv;
      const float g = iv * (gr[i] * a.w[i] - xhat * mean);
      dr[i] = a.accumulate ? dr[i] + g : g;
      if (db) db[i] = f32_to_bf16_bits(dr[i]);
    }
  }
  for (int64_t c = 0; c < h; ++c) {
    double s = 0;
    for (int64_t r = 0; r < n; ++r) s += static_cast<double>(a.dy[r * h + c]) * (a.x[r * h + c] * a.inv[r]);
    a.dw[c] += static_cast<float>(s);
  }
  return Status::Ok();
}

Status positions_cpu(const float* mask, int64_t b, int64_t t, int32_t* pos) {
  for (int64_t s = 0; s < b; ++s) {
    int32_t c = 0;
    for (int64_t i = 0; i < t; ++i) {
      c += mask[s * t + i] != 0.f ? 1 : 0;
      pos[s * t + i] = mask[s * t + i] != 0.f ? c - 1 : 1;
    }
  }
  return Status::Ok();
}

Status rope_table_cpu(const int32_t* pos, int64_t n, const float* inv_freq, int64_t hd, float* cs) {
  const int64_t half = hd / 2;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < half; ++i) {
      const float ang = static_cast<float>(pos[r]) * inv_freq[i];
      cs[r * hd + i] = static_cast<float>(std::cos(static_cast<double>(ang)));
      cs[r * hd + half + i] = static_cast<float>(std::sin(static_cast<double>(ang)));
    }
  return Status::Ok();
}

Status rope_apply_bf16_cpu(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse, void* y16) {
  const Status s = rope_apply_cpu(x, n, heads, hd, cs, inverse);
  return s.ok() ? cast_bf16_cpu(x, y16, n * heads * hd) : s;
}

Status rope_apply_cpu(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse) {
  const int64_t half = hd / 2;
  for (int64_t r = 0; r < n; ++r) {
    const float* c = cs + r * hd;
    const float* s = c + half;
    for (int64_t hh = 0; hh < heads; ++hh) {
      float* v = x + (r * heads + hh) * hd;
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        if (!inverse) {
          v[i] = a * c[i] - b * s[i];
          v[i + half] = b * c[i] + a * s[i];
        } else {
          v[i] = a * c[i] + b * s[i];
          v[i + half] = b * c[i] - a * s[i];
        }
      }
    }
  }
  return Status::Ok();
}

namespace {
// The CPU backend's dot(): 16 strided partial sums, then a scalar tail.
inline float dot16(const float* a, const float* b, int64_t n) {
  float part[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) part[j] += a[i + j] * b[i + j];
  float s = 0.f;
  for (int j = 0; j < 16; ++j) s += part[j];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// The CPU backend's attend_one, plus the log-sum-exp (for the CUDA backward's recompute).
bool attend_one(const float* q, const float* kbase, const float* vbase, int64_t kv_stride, const float* mask,
                int64_t slot, int64_t hd, float scale, float* p, float* out, float* lse) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j <= slot; ++j) {
    if (mask[j] == 0.f) { p[j] = 0.f; continue; }
    const float s = dot16(q, kbase + j * kv_stride, hd) * scale;
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
  for (int64_t j = 0; j <= slot; ++j) {
    if (mask[j] == 0.f) continue;
    const float pj = p[j] * inv;
    p[j] = pj;
    const float* vr = vbase + j * kv_stride;
    for (int64_t d = 0; d < hd; ++d) out[d] += pj * vr[d];
  }
  return true;
}
inline float default_scale(float s, int64_t hd) { return s != 0.f ? s : 1.0f / std::sqrt(static_cast<float>(hd)); }

// ---- bf16 attention (ops.h, AttnFwdArgs::bf16) ----
// The tensor-core kernels' math, not the fp32 path's. Sums run in double and are
// rounded to float where ops.h names an fp32 value (s, dp, D, the per-tile
// softmax state, the gradients): the products of bf16 operands are exact in
// fp32, so this is the correctly rounded value that any fp32 summation order
// on the GPU approximates, and the check measures only the GPU's own rounding.
inline float round_bf16(float x) { return bf16_bits_to_f32(f32_to_bf16_bits(x)); }  // RNE, as __float2bfloat16_rn
std::vector<float> rounded_bf16(const float* x, int64_t count) {
  std::vector<float> r(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) r[i] = round_bf16(x[i]);
  return r;
}
inline float dot_exact(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

// One query row of the bf16 forward: online softmax over absolute 64-slot key
// tiles (kAttnBf16Keys), keys f..slot with mask != 0. k / v / mask point at
// slot 0 of the sequence (tile boundaries are absolute slot numbers, so the
// tile a key falls in, hence the running max its p is rounded against, does
// not depend on f). s, osum: scratch of kAttnBf16Keys and hd elements.
void attend_bf16(const float* q, const float* k, const float* v, int64_t kv_stride, const float* mask, int64_t f,
                 int64_t slot, int64_t hd, float scale, float* s, double* osum, float* out, float* lse) {
  const float ninf = -std::numeric_limits<float>::infinity();
  float m = ninf, l = 0.f;
  for (int64_t d = 0; d < hd; ++d) out[d] = 0.f;  // the running o, divided by l at the end
  for (int64_t c0 = f / kAttnBf16Keys * kAttnBf16Keys; c0 <= slot; c0 += kAttnBf16Keys) {
    const int64_t lo = std::max(c0, f), hi = std::min(c0 + kAttnBf16Keys, slot + 1);
    float mt = ninf;
    for (int64_t j = lo; j < hi; ++j) {
      if (mask[j] == 0.f) continue;
      s[j - c0] = dot_exact(q, k + j * kv_stride, hd) * scale;
      mt = std::max(mt, s[j - c0]);
    }
    if (mt == ninf) continue;  // no visible key in this tile: the state is unchanged
    const float mn = std::max(m, mt), alpha = std::exp(m - mn);  // m = -inf: alpha = 0 on a zero state
    double psum = 0;
    for (int64_t d = 0; d < hd; ++d) osum[d] = 0;
    for (int64_t j = lo; j < hi; ++j) {
      if (mask[j] == 0.f) continue;
      const float p = std::exp(s[j - c0] - mn);
      psum += p;  // l takes the fp32 p, the PV product its bf16 rounding
      const double pb = round_bf16(p);
      const float* vr = v + j * kv_stride;
      for (int64_t d = 0; d < hd; ++d) osum[d] += pb * vr[d];
    }
    l = static_cast<float>(static_cast<double>(l * alpha) + psum);
    for (int64_t d = 0; d < hd; ++d) out[d] = static_cast<float>(static_cast<double>(out[d] * alpha) + osum[d]);
    m = mn;
  }
  if (m == ninf) {  // no visible key at all (out is still 0)
    if (lse) *lse = std::numeric_limits<float>::infinity();
    return;
  }
  for (int64_t d = 0; d < hd; ++d) out[d] /= l;
  if (lse) *lse = m + std::log(l);
}

Status attention_fwd_bf16_cpu(const AttnFwdArgs& a) {
  const int64_t hd = a.head_dim, Q = a.heads * hd, KV = a.kv_heads * hd, group = a.heads / a.kv_heads;
  const float scale = default_scale(a.scale, hd);
  if (a.b <= 0 || a.tq <= 0) return Status::Ok();
  // Round each input once. k / v: every row up to the last sequence's last key
  // (the cache rows in between are rounded too: cheaper than tracking them).
  const int64_t kv_rows = (a.b - 1) * a.seq_stride + a.slot0 + a.tq;
  const std::vector<float> q = rounded_bf16(a.q, a.b * a.tq * Q), k = rounded_bf16(a.k, kv_rows * KV),
                           v = rounded_bf16(a.v, kv_rows * KV);
  std::vector<float> s(static_cast<size_t>(kAttnBf16Keys));
  std::vector<double> osum(static_cast<size_t>(hd));
  for (int64_t r = 0; r < a.b * a.tq; ++r)
    for (int64_t hh = 0; hh < a.heads; ++hh) {
      const int64_t sq = r / a.tq, slot = a.slot0 + r % a.tq, kvh = hh / group;
      const int64_t base = sq * a.seq_stride * KV + kvh * hd;
      attend_bf16(q.data() + r * Q + hh * hd, k.data() + base, v.data() + base, KV, a.mask + sq * a.mask_stride,
                  a.first ? a.first[r] : 0, slot, hd, scale, s.data(), osum.data(), a.out + r * Q + hh * hd,
                  a.lse ? a.lse + r * a.heads + hh : nullptr);
    }
  return Status::Ok();
}

// The bf16 backward: p from the forward's lse (not recomputed as a softmax), D
// from its out; gradients summed in double per element, in (query, key) order.
Status attention_bwd_bf16_cpu(const AttnBwdArgs& a) {
  const int64_t hd = a.head_dim, NH = a.heads, Q = NH * hd, KV = a.kv_heads * hd, group = NH / a.kv_heads, T = a.t;
  const float scale = default_scale(a.scale, hd);
  const int64_t n = a.b * T;
  const std::vector<float> q = rounded_bf16(a.q, n * Q), k = rounded_bf16(a.k, n * KV), v = rounded_bf16(a.v, n * KV),
                           dout = rounded_bf16(a.dout, n * Q);
  std::vector<double> dq(static_cast<size_t>(n * Q), 0.0), dk(static_cast<size_t>(n * KV), 0.0),
      dv(static_cast<size_t>(n * KV), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t hh = 0; hh < NH; ++hh) {
      const float L = a.lse[r * NH + hh];
      if (L == std::numeric_limits<float>::infinity()) continue;  // no visible key: no gradient
      const int64_t sq = r / T, slot = r % T, f = a.first ? a.first[r] : 0;
      const int64_t qo = r * Q + hh * hd, kvo = sq * T * KV + (hh / group) * hd;
      const float D = dot_exact(a.dout + qo, a.out + qo, hd);  // fp32 dout and out, unrounded
      const float* mask = a.mask + sq * T;
      for (int64_t j = f; j <= slot; ++j) {
        if (mask[j] == 0.f) continue;
        const int64_t ko = kvo + j * KV;
        const float p = std::exp(dot_exact(q.data() + qo, k.data() + ko, hd) * scale - L);
        const float dp = dot_exact(dout.data() + qo, v.data() + ko, hd);
        const double ds = round_bf16(p * (dp - D) * scale), pb = round_bf16(p);
        for (int64_t d = 0; d < hd; ++d) {
          dq[qo + d] += ds * k[ko + d];
          dk[ko + d] += ds * q[qo + d];
          dv[ko + d] += pb * dout[qo + d];
        }
      }
    }
  for (int64_t i = 0; i < n * Q; ++i) a.dq[i] = static_cast<float>(dq[i]);
  for (int64_t i = 0; i < n * KV; ++i) {
    a.dk[i] = static_cast<float>(dk[i]);
    a.dv[i] = static_cast<float>(dv[i]);
  }
  return Status::Ok();
}
}  // namespace

Status attention_fwd_cpu(const AttnFwdArgs& a) {
  // decode (tq == 1) stays fp32 in bf16 mode, as the CUDA op's decode kernels
  if (a.bf16 && a.tq > 1) return attention_fwd_bf16_cpu(a);
  const int64_t hd = a.head_dim, Q = a.heads * hd, KV = a.kv_heads * hd, group = a.heads / a.kv_heads;
  const float scale = default_scale(a.scale, hd);
  std::vector<float> p(static_cast<size_t>(a.slot0 + a.tq));
  for (int64_t r = 0; r < a.b * a.tq; ++r)
    for (int64_t hh = 0; hh < a.heads; ++hh) {
      const int64_t s = r / a.tq, slot = a.slot0 + r % a.tq, kvh = hh / group;
      const int64_t f = a.first ? a.first[r] : 0;  // keys of other packed sequences are skipped
      attend_one(a.q + r * Q + hh * hd, a.k + (s * a.seq_stride + f) * KV + kvh * hd,
                 a.v + (s * a.seq_stride + f) * KV + kvh * hd, KV, a.mask + s * a.mask_stride + f, slot - f, hd, scale,
                 p.data(), a.out + r * Q + hh * hd, a.lse ? a.lse + r * a.heads + hh : nullptr);
    }
  return Status::Ok();
}

// The CPU backend's attention backward (dq/dk/dv zeroed first, then accumulated).
Status attention_bwd_cpu(const AttnBwdArgs& a) {
  if (a.bf16 && a.t > 1) return attention_bwd_bf16_cpu(a);
  const int64_t hd = a.head_dim, NH = a.heads, NKV = a.kv_heads, Q = NH * hd, KV = NKV * hd, group = NH / NKV,
                tlen = a.t;
  const float scale = default_scale(a.scale, hd);
  std::fill(a.dq, a.dq + a.b * tlen * Q, 0.f);
  std::fill(a.dk, a.dk + a.b * tlen * KV, 0.f);
  std::fill(a.dv, a.dv + a.b * tlen * KV, 0.f);
  std::vector<float> pb(static_cast<size_t>(tlen)), dp(static_cast<size_t>(tlen)), tmp(static_cast<size_t>(hd));
  for (int64_t i = 0; i < a.b * NKV; ++i) {
    const int64_t b = i / NKV, kvh = i % NKV;
    const float* kb = a.k + b * tlen * KV + kvh * hd;
    const float* vb = a.v + b * tlen * KV + kvh * hd;
    float* dkb = a.dk + b * tlen * KV + kvh * hd;
    float* dvb = a.dv + b * tlen * KV + kvh * hd;
    const float* mask = a.mask + b * tlen;
    for (int64_t hh = kvh * group; hh < (kvh + 1) * group; ++hh) {
      for (int64_t t = 0; t < tlen; ++t) {
        const int64_t r = b * tlen + t;
        const int64_t f = a.first ? a.first[r] : 0;  // the query's segment starts at slot f
        const float* qr = a.q + r * Q + hh * hd;
        const float* dor = a.dout + r * Q + hh * hd;
        const float* kf = kb + f * KV;
        const float* vf = vb + f * KV;
        const float* mf = mask + f;
        if (!attend_one(qr, kf, vf, KV, mf, t - f, hd, scale, pb.data(), tmp.data(), nullptr)) continue;
        double D = 0;
        for (int64_t j = 0; j <= t - f; ++j) {
          if (mf[j] == 0.f) continue;
          dp[j] = dot16(dor, vf + j * KV, hd);
          D += static_cast<double>(pb[j]) * dp[j];
        }
        const float Df = static_cast<float>(D);
        float* dqr = a.dq + r * Q + hh * hd;
        for (int64_t j = 0; j <= t - f; ++j) {
          if (mf[j] == 0.f) continue;
          const float pj = pb[j];
          const float ds = pj * (dp[j] - Df) * scale;
          const float* kr = kf + j * KV;
          float* dkr = dkb + (f + j) * KV;
          float* dvr = dvb + (f + j) * KV;
          for (int64_t d = 0; d < hd; ++d) {
            dqr[d] += ds * kr[d];
            dkr[d] += ds * qr[d];
            dvr[d] += pj * dor[d];
          }
        }
      }
    }
  }
  return Status::Ok();
}

Status kv_append_cpu(const float* k, const float* v, int64_t n, int64_t kv_dim, const int64_t* rows, float* cache_k,
                     float* cache_v) {
  for (int64_t r = 0; r < n; ++r) {
    std::memcpy(cache_k + rows[r] * kv_dim, k + r * kv_dim, sizeof(float) * kv_dim);
    std::memcpy(cache_v + rows[r] * kv_dim, v + r * kv_dim, sizeof(float) * kv_dim);
  }
  return Status::Ok();
}

namespace {
// One SwiGLU element, shared by the fp32 ops and their bf16-output twins so both
// compute the same float.
inline float swiglu_value(float g, float u) { return g / (1.0f + std::exp(-g)) * u; }
inline void swiglu_grads(float g, float u, float d, float* dg, float* du) {
  const float sg = 1.0f / (1.0f + std::exp(-g)), si = g * sg;
  *du = d * si;
  *dg = d * u * (sg * (1.0f + g * (1.0f - sg)));
}
}  // namespace

Status swiglu_fwd_cpu(const float* g, const float* u, float* h, int64_t count) {
  for (int64_t i = 0; i < count; ++i) h[i] = swiglu_value(g[i], u[i]);
  return Status::Ok();
}

Status swiglu_bwd_cpu(const float* gp, const float* u, const float* dh, float* dg, float* du, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    float a, b;
    swiglu_grads(gp[i], u[i], dh[i], &a, &b);
    dg[i] = a;  // (dg may alias dh: read above)
    du[i] = b;
  }
  return Status::Ok();
}

Status swiglu_fwd_bf16_cpu(const void* g, const void* u, void* h, int64_t count) {
  const uint16_t *gb = static_cast<const uint16_t*>(g), *ub = static_cast<const uint16_t*>(u);
  uint16_t* y = static_cast<uint16_t*>(h);
  for (int64_t i = 0; i < count; ++i)
    y[i] = f32_to_bf16_bits(swiglu_value(bf16_bits_to_f32(gb[i]), bf16_bits_to_f32(ub[i])));
  return Status::Ok();
}

Status swiglu_bwd_bf16_cpu(const void* g, const void* u, const void* dh, void* dg, void* du, int64_t count) {
  const uint16_t *gb = static_cast<const uint16_t*>(g), *ub = static_cast<const uint16_t*>(u),
                 *db = static_cast<const uint16_t*>(dh);
  uint16_t *yg = static_cast<uint16_t*>(dg), *yu = static_cast<uint16_t*>(du);
  for (int64_t i = 0; i < count; ++i) {
    float a, b;
    swiglu_grads(bf16_bits_to_f32(gb[i]), bf16_bits_to_f32(ub[i]), bf16_bits_to_f32(db[i]), &a, &b);
    yg[i] = f32_to_bf16_bits(a);
    yu[i] = f32_to_bf16_bits(b);
  }
  return Status::Ok();
}

Status embed_fwd_cpu(const float* table, const int32_t* ids, int64_t n, int64_t h, float* x) {
  for (int64_t r = 0; r < n; ++r) std::memcpy(x + r * h, table + static_cast<int64_t>(ids[r]) * h, sizeof(float) * h);
  return Status::Ok();
}

Status embed_bwd_cpu(const int32_t* ids, const float* dx, int64_t n, int64_t h, float* dtable) {
  for (int64_t r = 0; r < n; ++r) {
    float* d = dtable + static_cast<int64_t>(ids[r]) * h;
    const float* g = dx + r * h;
    for (int64_t c = 0; c < h; ++c) d[c] += g[c];
  }
  return Status::Ok();
}

Status grad_norm_cpu(const float* g, int64_t count, double* norm) {
  double s = 0;
  for (int64_t i = 0; i < count; ++i) s += static_cast<double>(g[i]) * g[i];
  *norm = std::sqrt(s);
  return Status::Ok();
}

Status adamw_cpu(const AdamWArgs& o) {
  const double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(o.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(o.step));
  const float step_size = static_cast<float>(o.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float decay = 1.0f - o.lr * o.weight_decay;
  for (int64_t i = 0; i < o.count; ++i) {
    const float g = o.grad[i] * o.clip;
    float p = o.param[i] * decay;
    const float m = o.beta1 * o.m[i] + (1.0f - o.beta1) * g;
    const float v = o.beta2 * o.v[i] + (1.0f - o.beta2) * g * g;
    o.m[i] = m;
    o.v[i] = v;
    const float denom = std::sqrt(v) / bc2_sqrt + o.eps;
    p -= step_size * (m / denom);
    o.param[i] = p;
    if (o.param16) static_cast<uint16_t*>(o.param16)[i] = f32_to_bf16_bits(p);
    if (o.zero_grad) o.grad[i] = 0.f;
  }
  return Status::Ok();
}

}  // namespace rlvr::engine::ops
