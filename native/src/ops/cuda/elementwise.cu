// Row-wise and elementwise engine ops (see ops.h): RMSNorm, positions, RoPE,
// SwiGLU, embedding, KV-cache append, bias gradient, grad norm, AdamW.
// Column reductions (RMSNorm weight grad, bias grad) are two-pass with fp64
// partials over fixed row chunks: deterministic, no atomics.
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/common.cuh"
#include "ops/cuda/elementwise_vec.cuh"
#include "ops/ops.h"

namespace rlvr::engine::ops {
namespace {

using namespace rlvr::cudak;

constexpr int kEw = 256;  // threads for elementwise kernels

inline unsigned rows_grid(int64_t n) { return static_cast<unsigned>(n < (1 << 30) ? n : (1 << 30)); }

// ---- column sums: out[c] += sum_r f(r, c) --------------------------------------

constexpr int kColRows = 256;  // rows per partial (per blockIdx.y)

template <class F>
__global__ void __launch_bounds__(256) colsum_partial_kernel(int64_t n, int64_t d, F f, double* partial) {
  __shared__ double sm[8][33];
  const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + tx;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kColRows;
  const int64_t r1 = r0 + kColRows < n ? r0 + kColRows : n;
  double s = 0;
  if (c < d)
    for (int64_t r = r0 + ty; r < r1; r += 8) s += f(r, c);
  sm[ty][tx] = s;
  __syncthreads();
  if (ty == 0 && c < d) {
    double t = 0;
    for (int k = 0; k < 8; ++k) t += sm[k][tx];
    partial[static_cast<int64_t>(blockIdx.y) * d + c] = t;
  }
}

__global__ void colsum_final_kernel(int64_t d, int64_t chunks, const double* partial, float* out) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < d;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double s = 0;
    for (int64_t k = 0; k < chunks; ++k) s += partial[k * d + c];
    out[c] += static_cast<float>(s);
  }
}

template <class F>
Status colsum(int64_t n, int64_t d, const F& f, float* out) {
  if (d <= 0) return Status::Ok();
  const int64_t chunks = n > 0 ? (n + kColRows - 1) / kColRows : 0;
  if (chunks == 0) return Status::Ok();
  if (chunks > 65535) return Status::Error(Code::Shape, "colsum", "too many rows (> 16.7M)");
  Scratch sc;
  Status s = sc.alloc(static_cast<size_t>(chunks * d) * sizeof(double));
  if (!s.ok()) return s;
  const dim3 grid(static_cast<unsigned>((d + 31) / 32), static_cast<unsigned>(chunks));
  colsum_partial_kernel<<<grid, 256>>>(n, d, f, sc.as<double>());
  colsum_final_kernel<<<grid_for(d, 256, 1024), 256>>>(d, chunks, sc.as<double>(), out);
  return launched("colsum");
}

struct BiasTerm {
  const float* dy;
  int64_t d;
  __device__ double operator()(int64_t r, int64_t c) const { return dy[r * d + c]; }
};
struct RmsWeightTerm {
  const float *dy, *x, *inv;
  int64_t h;
  __device__ double operator()(int64_t r, int64_t c) const {
    return static_cast<double>(dy[r * h + c]) * (x[r * h + c] * inv[r]);
  }
};

// ---- RMSNorm ------------------------------------------------------------------
// W = 4: float4 loads / stores (h % 4 == 0 and every pointer aligned, see
// rms_vec4); W = 1: single floats, any h and alignment. The per-element
// expressions are the same either way.

template <int W>
__device__ __forceinline__ void zero(float (&v)[W]) {
#pragma unroll
  for (int e = 0; e < W; ++e) v[e] = 0.f;
}

// y = w * (x * iv) for the chunk of row r at element i (t holds x); y16 its RNE rounding.
template <int W>
__device__ __forceinline__ void rms_fwd_out(const RmsNormFwdArgs& a, int64_t r, int64_t i, float iv, float (&t)[W]) {
  float wv[W];
  vec::load(a.w + i, wv);
#pragma unroll
  for (int e = 0; e < W; ++e) t[e] = wv[e] * (t[e] * iv);
  if (a.y) vec::store(a.y + r * a.h + i, t);
  if (a.y16) vec::store(static_cast<__nv_bfloat16*>(a.y16) + r * a.h + i, t);
}

// Forward: one warp per row, kFwdWarps rows per block, no barriers. A lane
// keeps its first K chunks of the row (chunks lane, lane + 32, ...) in
// registers from the sum of squares to the output pass; a longer row's other
// chunks are read again there (L1 / L2 hits). Small blocks: at ~90-120
// registers a thread (K = 12, 16) they fill an SM better than big ones (H100).
// The launch bound is looser than that on purpose: at 64 ptxas spilled to fit
// 32 blocks per SM.
constexpr int kFwdWarps = 2;

template <int W, int K>
__global__ void __launch_bounds__(256) rmsnorm_fwd_kernel(RmsNormFwdArgs a) {
  const int lane = threadIdx.x & 31;
  const int64_t h = a.h, nv = h / W;
  for (int64_t r = blockIdx.x * kFwdWarps + threadIdx.x / 32; r < a.n; r += gridDim.x * kFwdWarps) {
    const float* xr = a.x + r * h;
    float v[K][W];
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t j = lane + 32 * k;
      if (j < nv) vec::load(xr + j * W, v[k]);
      else zero(v[k]);
    }
    double ss = 0;  // fp64 sum of squares (the products are exact)
#pragma unroll
    for (int k = 0; k < K; ++k)
#pragma unroll
      for (int e = 0; e < W; ++e) ss += static_cast<double>(v[k][e]) * v[k][e];
#pragma unroll 4  // more would spill
    for (int64_t j = lane + 32 * K; j < nv; j += 32) {
      float t[W];
      vec::load(xr + j * W, t);
#pragma unroll
      for (int e = 0; e < W; ++e) ss += static_cast<double>(t[e]) * t[e];
    }
    // butterfly: every lane ends with the same (commutative pairwise) sum
    for (int off = 16; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
    const float var = static_cast<float>(ss / static_cast<double>(h));
    const float iv = 1.0f / sqrtf(var + a.eps);
    if (a.inv && lane == 0) a.inv[r] = iv;
#pragma unroll
    for (int k = 0; k < K; ++k)
      if (lane + 32 * k < nv) rms_fwd_out(a, r, (lane + 32 * k) * W, iv, v[k]);
#pragma unroll 4  // more would spill
    for (int64_t j = lane + 32 * K; j < nv; j += 32) {
      float t[W];
      vec::load(xr + j * W, t);
      rms_fwd_out(a, r, j * W, iv, t);
    }
  }
}

// Backward, with the dw column sum fused in so that x and dy are read once.
// Block b takes rows [b * rows, min(n, (b + 1) * rows)) and deals them to
// R = blockDim.x / T groups of T threads (group g: rows b * rows + g, + R, ...).
// A thread owns the chunks j = t + T * k (k < K) of every row, so it keeps the
// fp64 dw partials of its columns in registers over the block's rows; at the
// end the groups' partials are added in group order into partial[b, :].
// Requires T % 32 == 0, T * K >= h / W and, when R > 1, h doubles of dynamic
// shared memory.
template <int W, int K>
__global__ void __launch_bounds__(K * W > 12 ? 256 : 512)
    rmsnorm_bwd_fused_kernel(RmsNormBwdArgs a, int T, int64_t rows, double* partial) {
  extern __shared__ double s_col[];
  __shared__ double s_dot[2][512 / 32];  // per-warp row sums, double-buffered by iteration
  const int R = blockDim.x / T, grp = threadIdx.x / T, t = threadIdx.x % T;
  const int wpg = T / 32, warp = threadIdx.x / 32;
  const int64_t h = a.h, nv = h / W;
  const int64_t r0 = static_cast<int64_t>(blockIdx.x) * rows, r1 = r0 + rows < a.n ? r0 + rows : a.n;
  __nv_bfloat16* const dx16 = static_cast<__nv_bfloat16*>(a.dx16);
  double part[K][W];
#pragma unroll
  for (int k = 0; k < K; ++k)
#pragma unroll
    for (int e = 0; e < W; ++e) part[k][e] = 0;
  int buf = 0;
  // base is block-uniform, so every thread meets the barriers below
  for (int64_t base = r0; base < r1; base += R, buf ^= 1) {
    const int64_t r = base + grp;
    const bool live = r < r1;
    const float iv = live ? a.inv[r] : 0.f;
    float xh[K][W], gw[K][W], d0[K][W];  // x * iv, dy * w, dx before the update
    double dot = 0;
    {
      float xv[K][W], gv[K][W], wv[K][W];
#pragma unroll
      for (int k = 0; k < K; ++k) {
        const int64_t j = t + static_cast<int64_t>(T) * k;
        if (live && j < nv) {
          vec::load(a.x + r * h + j * W, xv[k]);
          vec::load(a.dy + r * h + j * W, gv[k]);
          vec::load(a.w + j * W, wv[k]);
        } else {  // zeros add nothing below
          zero(xv[k]);
          zero(gv[k]);
          zero(wv[k]);
        }
      }
#pragma unroll
      for (int k = 0; k < K; ++k)
#pragma unroll
        for (int e = 0; e < W; ++e) {
          xh[k][e] = xv[k][e] * iv;
          gw[k][e] = gv[k][e] * wv[k][e];
          dot += static_cast<double>(gw[k][e]) * xh[k][e];
          part[k][e] += static_cast<double>(gv[k][e]) * xh[k][e];  // x * inv[r] is xhat
        }
    }
    // issued before the reduction, whose latency then covers these loads
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t j = t + static_cast<int64_t>(T) * k;
      if (live && a.accumulate && j < nv) vec::load(a.dx + r * h + j * W, d0[k]);
      else zero(d0[k]);
    }
    for (int off = 16; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
    if (wpg > 1) {
      // the buffer alternates, so one barrier per row suffices: a warp can only
      // rewrite s_dot[buf] after every thread has passed the next iteration's barrier
      if ((threadIdx.x & 31) == 0) s_dot[buf][warp] = dot;
      __syncthreads();
      dot = 0;
      for (int q = 0; q < wpg; ++q) dot += s_dot[buf][grp * wpg + q];
    }
    const float mean = static_cast<float>(dot / static_cast<double>(h));
    if (live) {
#pragma unroll
      for (int k = 0; k < K; ++k) {
        const int64_t j = t + static_cast<int64_t>(T) * k;
        if (j >= nv) continue;
        float d[W];
#pragma unroll
        for (int e = 0; e < W; ++e) {
          // iv * (dy * w - xhat * mean), rounded step by step as the CPU (no FMA)
          const float g = iv * __fsub_rn(gw[k][e], __fmul_rn(xh[k][e], mean));
          d[e] = a.accumulate ? d0[k][e] + g : g;
        }
        vec::store(a.dx + r * h + j * W, d);
        if (dx16) vec::store(dx16 + r * h + j * W, d);
      }
    }
  }
  double* out = partial + static_cast<int64_t>(blockIdx.x) * h;
  if (R == 1) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t j = t + static_cast<int64_t>(T) * k;
      if (j < nv)
#pragma unroll
        for (int e = 0; e < W; ++e) out[j * W + e] = part[k][e];
    }
    return;
  }
  for (int q = 0; q < R; ++q) {
    if (grp == q)
#pragma unroll
      for (int k = 0; k < K; ++k) {
        const int64_t j = t + static_cast<int64_t>(T) * k;
        if (j < nv)
#pragma unroll
          for (int e = 0; e < W; ++e) s_col[j * W + e] = q == 0 ? part[k][e] : s_col[j * W + e] + part[k][e];
      }
    __syncthreads();
  }
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x) out[c] = s_col[c];
}

// dw[c] += sum over chunks of partial[k, c], k in a fixed order: 16 strided
// subsequences (one per warp row of the block) then their sum in row order.
__global__ void __launch_bounds__(512) rmsnorm_dw_final_kernel(int64_t h, int64_t chunks, const double* partial,
                                                               float* dw) {
  __shared__ double sm[16][33];
  const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + tx;
  double s = 0;
  if (c < h)
    for (int64_t k = ty; k < chunks; k += 16) s += partial[k * h + c];
  sm[ty][tx] = s;
  __syncthreads();
  if (ty == 0 && c < h) {
    double total = 0;
    for (int q = 0; q < 16; ++q) total += sm[q][tx];
    dw[c] += static_cast<float>(total);
  }
}

// The fallback backward for rows too long for the fused kernel: one block per
// row for dx, then colsum for dw (re-reads dy and x).
constexpr int kRowT = 256;

__global__ void __launch_bounds__(kRowT) rmsnorm_bwd_dx_kernel(RmsNormBwdArgs a) {
  __shared__ float s_mean;
  for (int64_t r = blockIdx.x; r < a.n; r += gridDim.x) {
    const float* xr = a.x + r * a.h;
    const float* gr = a.dy + r * a.h;
    const float iv = a.inv[r];
    double acc[1] = {0};
    for (int64_t i = threadIdx.x; i < a.h; i += blockDim.x) acc[0] += static_cast<double>(gr[i] * a.w[i]) * (xr[i] * iv);
    block_sum(acc);
    if (threadIdx.x == 0) s_mean = static_cast<float>(acc[0] / static_cast<double>(a.h));
    __syncthreads();
    const float mean = s_mean;
    float* dr = a.dx + r * a.h;
    __nv_bfloat16* db = a.dx16 ? static_cast<__nv_bfloat16*>(a.dx16) + r * a.h : nullptr;
    for (int64_t i = threadIdx.x; i < a.h; i += blockDim.x) {
      const float xhat = xr[i] * iv;
      const float g = iv * (gr[i] * a.w[i] - xhat * mean);
      const float d = a.accumulate ? dr[i] + g : g;
      dr[i] = d;
      if (db) db[i] = __float2bfloat16_rn(d);
    }
    __syncthreads();
  }
}

// ---- positions / RoPE ---------------------------------------------------------------

// One warp per sequence: a warp-wide inclusive scan over chunks of 32 slots.
__global__ void positions_kernel(const float* mask, int64_t b, int64_t t, int32_t* pos) {
  const int64_t s = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (s >= b) return;
  int32_t base = 0;
  for (int64_t t0 = 0; t0 < t; t0 += 32) {
    const int64_t i = t0 + lane;
    const int real = (i < t && mask[s * t + i] != 0.f) ? 1 : 0;
    int32_t c = real;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
      const int32_t o = __shfl_up_sync(0xffffffffu, c, off);
      if (lane >= off) c += o;
    }
    if (i < t) pos[s * t + i] = real ? base + c - 1 : 1;
    base += __shfl_sync(0xffffffffu, c, 31);
  }
}

__global__ void rope_table_kernel(const int32_t* pos, int64_t n, const float* inv_freq, int64_t hd, float* cs) {
  const int64_t half = hd / 2, total = n * half;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = e / half, i = e % half;
    const float ang = __fmul_rn(static_cast<float>(pos[r]), inv_freq[i]);  // no contraction: as HF / the CPU
    double sn, cn;
    sincos(static_cast<double>(ang), &sn, &cn);
    cs[r * hd + i] = static_cast<float>(cn);
    cs[r * hd + half + i] = static_cast<float>(sn);
  }
}

// y16 (or null): the results rounded to bf16 as well.
__global__ void rope_apply_kernel(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse,
                                  __nv_bfloat16* y16) {
  const int64_t half = hd / 2, total = n * heads * half;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = e % half, rh = e / half, r = rh / heads;
    const float c = cs[r * hd + i], s = cs[r * hd + half + i];
    float* v = x + rh * hd;
    const float a = v[i], b = v[i + half];
    float lo, hi;
    if (!inverse) {
      lo = a * c - b * s;
      hi = b * c + a * s;
    } else {
      lo = a * c + b * s;
      hi = b * c - a * s;
    }
    v[i] = lo;
    v[i + half] = hi;
    if (y16) {
      y16[rh * hd + i] = __float2bfloat16_rn(lo);
      y16[rh * hd + i + half] = __float2bfloat16_rn(hi);
    }
  }
}

__global__ void kv_append_kernel(const float* k, const float* v, int64_t n, int64_t kv_dim, const int64_t* rows,
                                 float* ck, float* cv) {
  const int64_t total = n * kv_dim;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = e / kv_dim, c = e % kv_dim, dst = rows[r] * kv_dim + c;
    ck[dst] = k[e];
    cv[dst] = v[e];
  }
}

// ---- SwiGLU ----------------------------------------------------------------------

// T = float: the fp32 ops; T = bf16: their twins for OpsModel's bf16 mode, the
// same expressions in the same order rounded at the store (bitwise the fp32 op
// followed by the cast).
// V: 16-byte loads / stores (vec::for_elems); the per-element math is the same either way.
// Ti: the element type of the inputs (fp32, or bf16 widened exactly), T: of the outputs.
template <class Ti, class T, bool V>
__global__ void swiglu_fwd_kernel(const Ti* g, const Ti* u, T* h, int64_t count) {
  vec::for_elems<V>(count, [&](int64_t i, auto w) {
    constexpr int W = decltype(w)::value;
    float gv[W], uv[W], y[W];
    vec::load(g + i, gv);
    vec::load(u + i, uv);
#pragma unroll
    for (int k = 0; k < W; ++k) y[k] = gv[k] / (1.0f + expf(-gv[k])) * uv[k];
    vec::store(h + i, y);
  });
}

// dg may alias dh: each thread reads its elements before writing them.
template <class Ti, class T, bool V>
__global__ void swiglu_bwd_kernel(const Ti* gp, const Ti* up, const Ti* dh, T* dg, T* du, int64_t count) {
  vec::for_elems<V>(count, [&](int64_t i, auto w) {
    constexpr int W = decltype(w)::value;
    float gv[W], uv[W], d[W], og[W], ou[W];
    vec::load(gp + i, gv);
    vec::load(up + i, uv);
    vec::load(dh + i, d);
#pragma unroll
    for (int k = 0; k < W; ++k) {
      const float g = gv[k], sg = 1.0f / (1.0f + expf(-g)), si = g * sg;
      ou[k] = d[k] * si;
      og[k] = d[k] * uv[k] * (sg * (1.0f + g * (1.0f - sg)));
    }
    vec::store(du + i, ou);
    vec::store(dg + i, og);
  });
}

template <class Ti, class T>
Status swiglu_fwd_launch(const Ti* g, const Ti* u, T* h, int64_t count, const char* name) {
  if (count <= 0) return Status::Ok();
  if (vec::aligned16(g, u, h))
    swiglu_fwd_kernel<Ti, T, true><<<grid_for((count + 3) / 4, kEw, 8192), kEw>>>(g, u, h, count);
  else
    swiglu_fwd_kernel<Ti, T, false><<<grid_for(count, kEw, 8192), kEw>>>(g, u, h, count);
  return launched(name);
}

template <class Ti, class T>
Status swiglu_bwd_launch(const Ti* g, const Ti* u, const Ti* dh, T* dg, T* du, int64_t count, const char* name) {
  if (count <= 0) return Status::Ok();
  if (vec::aligned16(g, u, dh, dg, du))
    swiglu_bwd_kernel<Ti, T, true><<<grid_for((count + 3) / 4, kEw, 8192), kEw>>>(g, u, dh, dg, du, count);
  else
    swiglu_bwd_kernel<Ti, T, false><<<grid_for(count, kEw, 8192), kEw>>>(g, u, dh, dg, du, count);
  return launched(name);
}

// ---- embedding -----------------------------------------------------------------------

__global__ void embed_fwd_kernel(const float* table, const int32_t* ids, int64_t n, int64_t h, float* x) {
  for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const float* src = table + static_cast<int64_t>(ids[r]) * h;
    for (int64_t c = threadIdx.x; c < h; c += blockDim.x) x[r * h + c] = src[c];
  }
}

// sorted_ids / rows: (id, r) pairs sorted by id, stable (rows ascending within an id).
// The block at sorted position p that starts a run of equal ids adds the run's rows
// in order: the same sequence of fp32 additions as the CPU loop.
__global__ void embed_bwd_kernel(const int32_t* sorted_ids, const int32_t* rows, int64_t n, int64_t h, const float* dx,
                                 float* dtable) {
  for (int64_t p = blockIdx.x; p < n; p += gridDim.x) {
    const int32_t id = sorted_ids[p];
    if (p > 0 && sorted_ids[p - 1] == id) continue;
    int64_t end = p + 1;
    while (end < n && sorted_ids[end] == id) ++end;
    float* d = dtable + static_cast<int64_t>(id) * h;
    for (int64_t c = threadIdx.x; c < h; c += blockDim.x) {
      float acc = d[c];
      for (int64_t q = p; q < end; ++q) acc += dx[static_cast<int64_t>(rows[q]) * h + c];
      d[c] = acc;
    }
  }
}

__global__ void iota_kernel(int32_t* x, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] = static_cast<int32_t>(i);
}

// ---- optimizer ------------------------------------------------------------------------

// Sum of squares for grad_norm: partials[block] in fp64. The elements before
// g's first 16-byte boundary (head, < 4) and after the last whole float4
// (tail, < 4) go one each to the first threads; the float4s in between are
// dealt grid-stride, U loads in flight per thread. The split depends only on
// count, g % 16 and the grid (a function of count), so the sum is bitwise
// reproducible.
constexpr int kNormThreads = 256;
constexpr int kNormBlocks = 512;  // ~4 per SM on an H100: one wave, enough loads in flight

template <int U>
__global__ void __launch_bounds__(kNormThreads) sumsq_kernel(const float* g, int64_t count, double* partials) {
  const int64_t head_max = static_cast<int64_t>((16 - (reinterpret_cast<uintptr_t>(g) & 15)) & 15) / 4;
  const int64_t head = head_max < count ? head_max : count;
  const int64_t nvec = (count - head) / 4;
  const float4* v = reinterpret_cast<const float4*>(g + head);
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  double acc[1] = {0};
  const auto add = [&](const float4& q) {
    acc[0] += static_cast<double>(q.x) * q.x;
    acc[0] += static_cast<double>(q.y) * q.y;
    acc[0] += static_cast<double>(q.z) * q.z;
    acc[0] += static_cast<double>(q.w) * q.w;
  };
  int64_t i = tid;
  for (; i + (U - 1) * stride < nvec; i += U * stride) {
    float4 q[U];
#pragma unroll
    for (int u = 0; u < U; ++u) q[u] = __ldcs(v + i + u * stride);
#pragma unroll
    for (int u = 0; u < U; ++u) add(q[u]);
  }
  for (; i < nvec; i += stride) add(__ldcs(v + i));
  if (tid < head) acc[0] += static_cast<double>(g[tid]) * g[tid];
  const int64_t tail = head + nvec * 4 + tid;
  if (tid < 4 && tail < count) acc[0] += static_cast<double>(g[tail]) * g[tail];
  block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc[0];
}

struct AdamWConst {
  float step_size, bc2_sqrt, decay;
};

template <bool V>
__global__ void adamw_kernel(AdamWArgs o, AdamWConst k) {
  vec::for_elems<V>(o.count, [&](int64_t i, auto w) {
    constexpr int W = decltype(w)::value;
    float gr[W], pr[W], mr[W], vr[W];
    vec::load(o.grad + i, gr);
    vec::load(o.param + i, pr);
    vec::load(o.m + i, mr);
    vec::load(o.v + i, vr);
#pragma unroll
    for (int e = 0; e < W; ++e) {
      const float g = gr[e] * o.clip;
      float p = pr[e] * k.decay;
      const float m = o.beta1 * mr[e] + (1.0f - o.beta1) * g;
      const float v = o.beta2 * vr[e] + (1.0f - o.beta2) * g * g;
      mr[e] = m;
      vr[e] = v;
      const float denom = sqrtf(v) / k.bc2_sqrt + o.eps;
      p -= k.step_size * (m / denom);
      pr[e] = p;
      gr[e] = 0.f;
    }
    vec::store(o.m + i, mr);
    vec::store(o.v + i, vr);
    vec::store(o.param + i, pr);
    if (o.param16) vec::store(static_cast<__nv_bfloat16*>(o.param16) + i, pr);
    if (o.zero_grad) vec::store(o.grad + i, gr);
  });
}

// ---- RMSNorm / grad norm launches --------------------------------------------------

// The W = 4 kernels' condition: h % 4 == 0 and the fp32 pointers (null ones
// ignored) 16-byte aligned, the bf16 one 8-byte aligned; then every row's
// chunks of 4 are aligned too.
template <class... P>
bool rms_vec4(int64_t h, const void* b16, P... f32) {
  return h % 4 == 0 && vec::aligned16(f32...) && (reinterpret_cast<uintptr_t>(b16) & 7) == 0;
}

// K: the smallest register cache that holds a lane's share of the row (at most 16 chunks).
template <int W>
Status rms_fwd_launch(const RmsNormFwdArgs& a) {
  const int64_t per_lane = (a.h / W + 31) / 32;
  int K = 16;
  for (const int k : {1, 2, 4, 8, 12})
    if (per_lane <= k) {
      K = k;
      break;
    }
  const int64_t blocks = (a.n + kFwdWarps - 1) / kFwdWarps;
  const unsigned grid = static_cast<unsigned>(blocks < (1 << 20) ? blocks : (1 << 20));
  const int threads = 32 * kFwdWarps;
  switch (K) {
    case 1: rmsnorm_fwd_kernel<W, 1><<<grid, threads>>>(a); break;
    case 2: rmsnorm_fwd_kernel<W, 2><<<grid, threads>>>(a); break;
    case 4: rmsnorm_fwd_kernel<W, 4><<<grid, threads>>>(a); break;
    case 8: rmsnorm_fwd_kernel<W, 8><<<grid, threads>>>(a); break;
    case 12: rmsnorm_fwd_kernel<W, 12><<<grid, threads>>>(a); break;
    default: rmsnorm_fwd_kernel<W, 16><<<grid, threads>>>(a); break;
  }
  return launched("rmsnorm_fwd_kernel");
}

// Tuned on an H100 (h = 1536, n = 8192 gets 128 threads per row, 2 rows at a
// time per block, 32 rows per block): fewer, longer blocks write fewer dw
// partials, and about 2 blocks per SM keep enough loads in flight.
constexpr int kBwdGroup = 128;   // preferred threads per row
constexpr int kBwdBlock = 256;   // preferred threads per block
constexpr int kBwdChunks = 256;  // blocks (row chunks) aimed at, whatever n

struct RmsBwdPlan {
  int K = 1, T = 32, R = 1;  // chunks per thread, threads per row group, groups per block
  int64_t rows = 1, chunks = 1;  // rows per block, blocks
};

inline int rms_bwd_max_threads(int K, int W) { return K * W > 12 ? 256 : 512; }  // the kernel's launch bounds

// K: the smallest of {1, 2, 3, 4, 6, 8} (W = 4: up to 6; 8 would spill) that
// needs at most kBwdGroup threads per row, else the largest, with as many
// threads as the launch bounds allow; false: the row is too long for the fused
// kernel. Rows per block: a multiple of R giving about kBwdChunks blocks. The
// plan, and so the dw bits, depend on n, h and W only. nv = h / W >= 1.
bool rms_bwd_plan(int64_t n, int64_t nv, int W, RmsBwdPlan* p) {
  int K = 1;
  int64_t T = 32;
  for (const int k : {1, 2, 3, 4, 6, 8}) {
    if (W == 4 && k == 8) break;
    K = k;
    T = ((nv + k - 1) / k + 31) / 32 * 32;
    if (T <= kBwdGroup) break;
  }
  const int tmax = rms_bwd_max_threads(K, W);
  if (T > tmax) return false;
  int64_t R = kBwdBlock / T;
  if (R > tmax / T) R = tmax / T;
  if (R < 1 || nv * W * static_cast<int64_t>(sizeof(double)) > 48 * 1024) R = 1;  // R > 1 needs h doubles of smem
  const int64_t rows = (n + R * kBwdChunks - 1) / (R * kBwdChunks) * R;
  p->K = K;
  p->T = static_cast<int>(T);
  p->R = static_cast<int>(R);
  p->rows = rows;
  p->chunks = (n + rows - 1) / rows;
  return true;
}

template <int W>
void rms_bwd_fused(const RmsNormBwdArgs& a, const RmsBwdPlan& p, double* partial) {
  const unsigned grid = static_cast<unsigned>(p.chunks);
  const int threads = p.R * p.T;
  const size_t smem = p.R > 1 ? static_cast<size_t>(a.h) * sizeof(double) : 0;
  switch (p.K) {
    case 1: rmsnorm_bwd_fused_kernel<W, 1><<<grid, threads, smem>>>(a, p.T, p.rows, partial); break;
    case 2: rmsnorm_bwd_fused_kernel<W, 2><<<grid, threads, smem>>>(a, p.T, p.rows, partial); break;
    case 3: rmsnorm_bwd_fused_kernel<W, 3><<<grid, threads, smem>>>(a, p.T, p.rows, partial); break;
    case 4: rmsnorm_bwd_fused_kernel<W, 4><<<grid, threads, smem>>>(a, p.T, p.rows, partial); break;
    case 6: rmsnorm_bwd_fused_kernel<W, 6><<<grid, threads, smem>>>(a, p.T, p.rows, partial); break;
    default:
      if constexpr (W == 1) rmsnorm_bwd_fused_kernel<W, 8><<<grid, threads, smem>>>(a, p.T, p.rows, partial);
      break;
  }
}

Status rms_bwd_launch(const RmsNormBwdArgs& a, int W, const RmsBwdPlan& p) {
  Scratch sc;
  Status s = sc.alloc(static_cast<size_t>(p.chunks * a.h) * sizeof(double));
  if (!s.ok()) return s;
  if (W == 4) rms_bwd_fused<4>(a, p, sc.as<double>());
  else rms_bwd_fused<1>(a, p, sc.as<double>());
  s = launched("rmsnorm_bwd_fused_kernel");
  if (!s.ok()) return s;
  rmsnorm_dw_final_kernel<<<static_cast<unsigned>((a.h + 31) / 32), 512>>>(a.h, p.chunks, sc.as<double>(), a.dw);
  return launched("rmsnorm_dw_final_kernel");
}

// *sq = sum g^2 (host), fp64, in a fixed order for a given count and g % 16.
Status sumsq(const float* g, int64_t count, double* sq) {
  constexpr int U = 8;  // float4 loads in flight per thread
  // up to kNormBlocks, at least U float4s per thread
  const unsigned blocks = grid_for((count / 4 + U - 1) / U, kNormThreads, kNormBlocks);
  Scratch sc;
  Status s = sc.alloc((blocks + 1) * sizeof(double));
  if (!s.ok()) return s;
  double* total = sc.as<double>(blocks * sizeof(double));
  sumsq_kernel<U><<<blocks, kNormThreads>>>(g, count, sc.as<double>());
  final_sums_kernel<1><<<1, kSumThreads>>>(sc.as<double>(), static_cast<int>(blocks), total);
  s = launched("sumsq_kernel");
  if (!s.ok()) return s;
  RLVR_CUDA_TRY(cudaMemcpy(sq, total, sizeof(double), cudaMemcpyDeviceToHost));
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------

Status bias_bwd_cuda(const float* dy, float* db, int64_t n, int64_t d) { return colsum(n, d, BiasTerm{dy, d}, db); }

Status rmsnorm_fwd_cuda(const RmsNormFwdArgs& a) {
  if (a.n <= 0) return Status::Ok();
  return rms_vec4(a.h, a.y16, a.x, a.w, a.y) ? rms_fwd_launch<4>(a) : rms_fwd_launch<1>(a);
}

Status rmsnorm_bwd_cuda(const RmsNormBwdArgs& a) {
  if (a.n <= 0 || a.h <= 0) return Status::Ok();
  const int W = rms_vec4(a.h, a.dx16, a.x, a.w, a.dy, a.dx) ? 4 : 1;
  RmsBwdPlan p;
  if (rms_bwd_plan(a.n, a.h / W, W, &p)) return rms_bwd_launch(a, W, p);
  rmsnorm_bwd_dx_kernel<<<rows_grid(a.n), kRowT>>>(a);
  Status s = launched("rmsnorm_bwd_dx_kernel");
  if (!s.ok()) return s;
  return colsum(a.n, a.h, RmsWeightTerm{a.dy, a.x, a.inv, a.h}, a.dw);
}

Status positions_cuda(const float* mask, int64_t b, int64_t t, int32_t* pos) {
  if (b <= 0 || t <= 0) return Status::Ok();
  positions_kernel<<<static_cast<unsigned>((b + 3) / 4), 128>>>(mask, b, t, pos);
  return launched("positions_kernel");
}

Status rope_table_cuda(const int32_t* pos, int64_t n, const float* inv_freq, int64_t hd, float* cs) {
  if (n <= 0) return Status::Ok();
  rope_table_kernel<<<grid_for(n * (hd / 2), kEw), kEw>>>(pos, n, inv_freq, hd, cs);
  return launched("rope_table_kernel");
}

Status rope_apply_cuda(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse) {
  if (n <= 0) return Status::Ok();
  rope_apply_kernel<<<grid_for(n * heads * (hd / 2), kEw, 8192), kEw>>>(x, n, heads, hd, cs, inverse, nullptr);
  return launched("rope_apply_kernel");
}

Status rope_apply_bf16_cuda(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse, void* y16) {
  if (n <= 0) return Status::Ok();
  rope_apply_kernel<<<grid_for(n * heads * (hd / 2), kEw, 8192), kEw>>>(x, n, heads, hd, cs, inverse,
                                                                        static_cast<__nv_bfloat16*>(y16));
  return launched("rope_apply_bf16_kernel");
}

Status kv_append_cuda(const float* k, const float* v, int64_t n, int64_t kv_dim, const int64_t* rows, float* ck,
                      float* cv) {
  if (n <= 0) return Status::Ok();
  kv_append_kernel<<<grid_for(n * kv_dim, kEw, 8192), kEw>>>(k, v, n, kv_dim, rows, ck, cv);
  return launched("kv_append_kernel");
}

Status swiglu_fwd_cuda(const float* g, const float* u, float* h, int64_t count) {
  return swiglu_fwd_launch(g, u, h, count, "swiglu_fwd_kernel");
}

Status swiglu_bwd_cuda(const float* g, const float* u, const float* dh, float* dg, float* du, int64_t count) {
  return swiglu_bwd_launch(g, u, dh, dg, du, count, "swiglu_bwd_kernel");
}

Status swiglu_fwd_bf16_cuda(const void* g, const void* u, void* h, int64_t count) {
  using B = __nv_bfloat16;
  return swiglu_fwd_launch(static_cast<const B*>(g), static_cast<const B*>(u), static_cast<B*>(h), count,
                           "swiglu_fwd_bf16_kernel");
}

Status swiglu_bwd_bf16_cuda(const void* g, const void* u, const void* dh, void* dg, void* du, int64_t count) {
  using B = __nv_bfloat16;
  return swiglu_bwd_launch(static_cast<const B*>(g), static_cast<const B*>(u), static_cast<const B*>(dh),
                           static_cast<B*>(dg), static_cast<B*>(du), count, "swiglu_bwd_bf16_kernel");
}

Status embed_fwd_cuda(const float* table, const int32_t* ids, int64_t n, int64_t h, float* x) {
  if (n <= 0) return Status::Ok();
  embed_fwd_kernel<<<rows_grid(n), 256>>>(table, ids, n, h, x);
  return launched("embed_fwd_kernel");
}

Status embed_bwd_cuda(const int32_t* ids, const float* dx, int64_t n, int64_t h, float* dtable) {
  if (n <= 0) return Status::Ok();
  if (n > 0x7fffffff) return Status::Error(Code::Shape, "ids", "more than 2^31 rows");
  const int num = static_cast<int>(n);
  size_t temp = 0;
  RLVR_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, temp, static_cast<const int32_t*>(nullptr),
                                                static_cast<int32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                                static_cast<int32_t*>(nullptr), num));
  const size_t arr = (static_cast<size_t>(n) * sizeof(int32_t) + 255) / 256 * 256;
  Scratch sc;
  Status s = sc.alloc(3 * arr + temp);
  if (!s.ok()) return s;
  int32_t* rows_in = sc.as<int32_t>(0);
  int32_t* ids_out = sc.as<int32_t>(arr);
  int32_t* rows_out = sc.as<int32_t>(2 * arr);
  void* tmp = sc.as<void>(3 * arr);
  iota_kernel<<<grid_for(n, kEw), kEw>>>(rows_in, n);
  // Ids are non-negative: sort on the low 31 bits (LSD radix sort is stable).
  RLVR_CUDA_TRY(cub::DeviceRadixSort::SortPairs(tmp, temp, ids, ids_out, rows_in, rows_out, num, 0, 31));
  embed_bwd_kernel<<<rows_grid(n), 256>>>(ids_out, rows_out, n, h, dx, dtable);
  return launched("embed_bwd_kernel");
}

Status grad_norm_cuda(const float* g, int64_t count, double* norm) {
  if (count <= 0) {
    *norm = 0;
    return Status::Ok();
  }
  double sq = 0;
  Status s = sumsq(g, count, &sq);
  if (!s.ok()) return s;
  *norm = std::sqrt(sq);
  return Status::Ok();
}

Status adamw_cuda(const AdamWArgs& o) {
  if (o.count <= 0) return Status::Ok();
  const double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(o.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(o.step));
  AdamWConst k;
  k.step_size = static_cast<float>(o.lr / bc1);
  k.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  k.decay = 1.0f - o.lr * o.weight_decay;
  if (vec::aligned16(o.param, o.grad, o.m, o.v, o.param16))
    adamw_kernel<true><<<grid_for((o.count + 3) / 4, kEw, 8192), kEw>>>(o, k);
  else
    adamw_kernel<false><<<grid_for(o.count, kEw, 8192), kEw>>>(o, k);
  return launched("adamw_kernel");
}

}  // namespace rlvr::engine::ops
