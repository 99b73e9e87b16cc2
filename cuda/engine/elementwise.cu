// Row-wise and elementwise engine ops (see ops.h): RMSNorm, positions, RoPE,
// SwiGLU, embedding, KV-cache append, bias gradient, grad norm, AdamW.
// Column reductions (RMSNorm weight grad, bias grad) are two-pass with fp64
// partials over fixed row chunks: deterministic, no atomics.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/common.cuh"
#include "cuda/engine/elementwise_vec.cuh"
#include "cuda/engine/ops.h"

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

constexpr int kRowT = 256;

__global__ void __launch_bounds__(kRowT) rmsnorm_fwd_kernel(RmsNormFwdArgs a) {
  __shared__ float s_iv;
  for (int64_t r = blockIdx.x; r < a.n; r += gridDim.x) {
    const float* xr = a.x + r * a.h;
    double acc[1] = {0};
    for (int64_t i = threadIdx.x; i < a.h; i += blockDim.x) acc[0] += static_cast<double>(xr[i]) * xr[i];
    block_sum(acc);
    if (threadIdx.x == 0) {
      const float var = static_cast<float>(acc[0] / static_cast<double>(a.h));
      const float iv = 1.0f / sqrtf(var + a.eps);
      s_iv = iv;
      if (a.inv) a.inv[r] = iv;
    }
    __syncthreads();
    const float iv = s_iv;
    float* yr = a.y ? a.y + r * a.h : nullptr;
    __nv_bfloat16* yb = a.y16 ? static_cast<__nv_bfloat16*>(a.y16) + r * a.h : nullptr;
    for (int64_t i = threadIdx.x; i < a.h; i += blockDim.x) {
      const float y = a.w[i] * (xr[i] * iv);
      if (yr) yr[i] = y;
      if (yb) yb[i] = __float2bfloat16_rn(y);
    }
    __syncthreads();  // s_iv is rewritten for the next row
  }
}

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

__global__ void rope_apply_kernel(float* x, int64_t n, int64_t heads, int64_t hd, const float* cs, bool inverse) {
  const int64_t half = hd / 2, total = n * heads * half;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = e % half, rh = e / half, r = rh / heads;
    const float c = cs[r * hd + i], s = cs[r * hd + half + i];
    float* v = x + rh * hd;
    const float a = v[i], b = v[i + half];
    if (!inverse) {
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    } else {
      v[i] = a * c + b * s;
      v[i + half] = b * c - a * s;
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

struct SqFn {
  const float* g;
  __device__ void operator()(int64_t i, double (&acc)[1]) const { acc[0] += static_cast<double>(g[i]) * g[i]; }
};

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

}  // namespace

// ---------------------------------------------------------------------------

Status bias_bwd_cuda(const float* dy, float* db, int64_t n, int64_t d) { return colsum(n, d, BiasTerm{dy, d}, db); }

Status rmsnorm_fwd_cuda(const RmsNormFwdArgs& a) {
  if (a.n <= 0) return Status::Ok();
  rmsnorm_fwd_kernel<<<rows_grid(a.n), kRowT>>>(a);
  return launched("rmsnorm_fwd_kernel");
}

Status rmsnorm_bwd_cuda(const RmsNormBwdArgs& a) {
  if (a.n <= 0) return Status::Ok();
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
  rope_apply_kernel<<<grid_for(n * heads * (hd / 2), kEw, 8192), kEw>>>(x, n, heads, hd, cs, inverse);
  return launched("rope_apply_kernel");
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
  Scratch sc;
  Status s = sc.alloc((kSumMaxBlocks + 1) * sizeof(double));
  if (!s.ok()) return s;
  s = batch_sums<1>(count, SqFn{g}, sc.as<double>(), sc.as<double>(kSumMaxBlocks * sizeof(double)));
  if (!s.ok()) return s;
  double sq = 0;
  RLVR_CUDA_TRY(cudaMemcpy(&sq, sc.as<double>(kSumMaxBlocks * sizeof(double)), sizeof(double), cudaMemcpyDeviceToHost));
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
