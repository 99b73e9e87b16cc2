// The CPU backend's per-row and element-wise ops (cpu_ops.h): each
// row (or column, for the parameter-gradient sums) is one thread's, with a fixed loop order,
// so results do not depend on the thread count. The bf16 twins run the reference math.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace rlvr::engine::cpuops {

using cpu::parallel_for;

// db[c] += sum over rows of dy [n, d] (fp64 sums, rows in order).
Status bias_bwd(const float* dy, float* db, int64_t n, int64_t d) {
  parallel_for(d, 16, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t r = 0; r < n; ++r) s += dy[r * d + c];
      db[c] += static_cast<float>(s);
    }
  });
  return Status::Ok();
}

// y = w * (x * inv), inv = 1 / sqrt(mean(x^2) + eps) (HF Qwen2RMSNorm / LlamaRMSNorm).
Status rmsnorm_fwd(const ops::RmsNormFwdArgs& a) {
  if (a.y16 || !a.y) return ops::rmsnorm_fwd_cpu(a);
  const float *x = a.x, *w = a.w;
  float *y = a.y, *inv = a.inv;
  const int64_t h = a.h;
  const float eps = a.eps;
  parallel_for(a.n, std::max<int64_t>(1, 4096 / h), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * h;
      double ss = 0;
      for (int64_t i = 0; i < h; ++i) ss += static_cast<double>(xr[i]) * xr[i];
      const float var = static_cast<float>(ss / static_cast<double>(h));
      const float iv = 1.0f / std::sqrt(var + eps);
      if (inv) inv[r] = iv;
      float* yr = y + r * h;
      for (int64_t i = 0; i < h; ++i) yr[i] = w[i] * (xr[i] * iv);
    }
  });
  return Status::Ok();
}

// dx (+)= d/dx of rmsnorm given dy; dw += sum_rows dy * xhat.
Status rmsnorm_bwd(const ops::RmsNormBwdArgs& a) {
  if (a.dx16) return ops::rmsnorm_bwd_cpu(a);
  const float *x = a.x, *w = a.w, *inv = a.inv, *dy = a.dy;
  float *dx = a.dx, *dw = a.dw;
  const int64_t n = a.n, h = a.h;
  const bool accumulate = a.accumulate;
  parallel_for(n, std::max<int64_t>(1, 4096 / h), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * h;
      const float* gr = dy + r * h;
      const float iv = inv[r];
      double dot = 0;
      for (int64_t i = 0; i < h; ++i) dot += static_cast<double>(gr[i] * w[i]) * (xr[i] * iv);
      const float mean = static_cast<float>(dot / static_cast<double>(h));
      float* dr = dx + r * h;
      for (int64_t i = 0; i < h; ++i) {
        const float xhat = xr[i] * iv;
        const float g = iv * (gr[i] * w[i] - xhat * mean);
        dr[i] = accumulate ? dr[i] + g : g;
      }
    }
  });
  parallel_for(h, 16, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t r = 0; r < n; ++r) s += static_cast<double>(dy[r * h + c]) * (x[r * h + c] * inv[r]);
      dw[c] += static_cast<float>(s);
    }
  });
  return Status::Ok();
}

// In place (rotate_half convention); cs holds per row [cos(hd/2), sin(hd/2)]; inverse: the
// transpose rotation (the backward). Rows are independent: the reference op over row ranges in
// parallel, so the bits are the reference's.
Status rope_apply(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse) {
  parallel_for(n, 16, [&](int64_t r0, int64_t r1, int) {
    (void)ops::rope_apply_cpu(x + r0 * heads * hd, r1 - r0, heads, hd, cs + r0 * hd, inverse);  // cannot fail
  });
  return Status::Ok();
}

namespace {
inline float silu(float g) { return g / (1.0f + std::exp(-g)); }
}  // namespace

Status swiglu_fwd(const float* g, const float* u, float* h, int64_t count) {
  parallel_for(count, 4096, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) h[i] = silu(g[i]) * u[i];
  });
  return Status::Ok();
}

// dg may alias dh (each element is read before it is written).
Status swiglu_bwd(const float* gp, const float* u, const float* dh, float* dg, float* du, int64_t count) {
  parallel_for(count, 4096, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      const float g = gp[i], sg = 1.0f / (1.0f + std::exp(-g)), si = g * sg;
      const float d = dh[i];
      du[i] = d * si;
      dg[i] = d * u[i] * (sg * (1.0f + g * (1.0f - sg)));
    }
  });
  return Status::Ok();
}

// Scatter-add, parallel over hidden columns (no races; rows in ascending order per element).
Status embed_bwd(const int32_t* ids, const float* dx, int64_t n, int64_t h, float* dtable) {
  parallel_for(h, 16, [&](int64_t c0, int64_t c1, int) {
    for (int64_t r = 0; r < n; ++r) {
      float* d = dtable + static_cast<int64_t>(ids[r]) * h;
      const float* g = dx + r * h;
      for (int64_t c = c0; c < c1; ++c) d[c] += g[c];
    }
  });
  return Status::Ok();
}

}  // namespace rlvr::engine::cpuops
