// Causal GQA attention with a key padding mask (see ops.h), fp32 SIMT,
// flash-attention style: scores are never materialized beyond one 32-key tile,
// softmax is online in fp32, and the backward recomputes probabilities from
// the forward's log-sum-exp.
//
// Forward (and prefill): a block = 4 warps = 16 queries of one head; K/V
// tiles of 32 keys in shared memory. For scores a lane owns a key (dot
// products over head_dim from shared memory, 4 queries at once); for P.V a
// lane owns head_dim / 32 output dims and p is broadcast with shuffles.
// Decode (tq == 1): a block per (sequence, head), warps split the keys
// (lane-per-dim dot products, warp reductions), partial softmax states merged
// at the end; for large batches of a GQA model, a block per (sequence, kv
// head) instead, whose warps (one per query head) share each K/V tile.
// Backward: two deterministic kernels, no atomics:
//   dq:    blocks over query tiles (as the forward), loop over key tiles;
//   dk/dv: blocks over 16-key tiles of one kv head, loop over the group's
//          query heads and the query tiles at or after the keys;
// with Drow = sum_d dout * out precomputed per (row, head).
// head_dim is padded (with zeros) to D = 32, 64, 128 or 256.
// bf16 = true (ops.h's bf16 math) runs the tensor-core kernels of
// attention_tc.cu when attn::tc_supported; decode (tq == 1) stays fp32.
#include "kernels/cuda/common.cuh"
#include "ops/cuda/attention_internal.cuh"
#include "ops/ops.h"

namespace rlvr::engine::ops {
namespace {

using namespace rlvr::cudak;

constexpr int kWarps = 4, kThreads = kWarps * 32, kQPerWarp = 4, kQTile = kWarps * kQPerWarp, kKTile = 32;

__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, off));
  return x;
}
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) x += __shfl_xor_sync(0xffffffffu, x, off);
  return x;
}

using attn::cp_async16;
using attn::cp_async_commit;
using attn::cp_async_wait;
using attn::Geo;
using attn::set_smem;

template <int D>
constexpr size_t fwd_smem() { return sizeof(float) * (kQTile * D + kKTile * (D + 1) + kKTile * D); }
template <int D>
constexpr size_t dq_smem() { return sizeof(float) * (2 * kQTile * D + 2 * kKTile * (D + 1)); }
template <int D>
constexpr size_t dkv_smem() { return sizeof(float) * (2 * kQTile * D + 2 * kKTile * (D + 1) + 2 * kKTile); }

// One 32-key K/V tile [j0, j0 + 32) into shared memory (Ks padded to D + 1 so
// that lane-per-key reads are conflict-free), zeros past `last` and head_dim.
template <int D>
__device__ __forceinline__ void load_kv_tile(float* Ks, float* Vs, const float* kb, const float* vb, int64_t j0,
                                             int64_t last, int64_t hd, int64_t kvd, int tid, int nthreads) {
  for (int e = tid; e < kKTile * D; e += nthreads) {
    const int kj = e / D, d = e % D;
    const int64_t j = j0 + kj;
    const bool in = j <= last && d < hd;
    Ks[kj * (D + 1) + d] = in ? kb[j * kvd + d] : 0.f;
    Vs[kj * D + d] = in ? vb[j * kvd + d] : 0.f;
  }
}

// ---- forward ----------------------------------------------------------------

template <int D>
__global__ void __launch_bounds__(kThreads) attn_fwd_kernel(AttnFwdArgs a, Geo g) {
  constexpr int DPL = D / 32;
  extern __shared__ float sm[];
  float* Qs = sm;                     // [16][D]
  float* Ks = Qs + kQTile * D;        // [32][D+1]
  float* Vs = Ks + kKTile * (D + 1);  // [32][D]
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t s = blockIdx.z, h = blockIdx.y, kvh = h / g.group, hd = a.head_dim;
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * kQTile;
  const int64_t qend = (i0 + kQTile < a.tq ? i0 + kQTile : a.tq);
  const int64_t max_slot = a.slot0 + qend - 1;
  for (int e = tid; e < kQTile * D; e += kThreads) {
    const int qi = e / D, d = e % D;
    const int64_t row = i0 + qi;
    Qs[e] = (row < a.tq && d < hd) ? a.q[(s * a.tq + row) * g.qd + h * hd + d] : 0.f;
  }
  const float* kb = a.k + s * a.seq_stride * g.kvd + kvh * hd;
  const float* vb = a.v + s * a.seq_stride * g.kvd + kvh * hd;
  const float* mrow = a.mask + s * a.mask_stride;
  int64_t slot[kQPerWarp], first[kQPerWarp];  // keys [first, slot] (first: packed sequences)
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    const int64_t row = i0 + warp * kQPerWarp + u;
    slot[u] = a.slot0 + row;
    first[u] = (a.first && row < a.tq) ? a.first[s * a.tq + row] : 0;
  }
  float m[kQPerWarp], l[kQPerWarp], o[kQPerWarp][DPL];
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    m[u] = -INFINITY; l[u] = 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) o[u][i] = 0.f;
  }
  for (int64_t j0 = 0; j0 <= max_slot; j0 += kKTile) {
    __syncthreads();  // the previous tile is consumed (and Qs written, the first time)
    load_kv_tile<D>(Ks, Vs, kb, vb, j0, max_slot, hd, g.kvd, tid, kThreads);
    __syncthreads();
    const int64_t j = j0 + lane;
    const bool mk = j <= max_slot && mrow[j] != 0.f;
    float sc[kQPerWarp] = {};
    const float* kr = Ks + lane * (D + 1);
    const float* qw = Qs + warp * kQPerWarp * D;
#pragma unroll 4
    for (int d = 0; d < D; ++d) {
      const float kd = kr[d];
#pragma unroll
      for (int u = 0; u < kQPerWarp; ++u) sc[u] = fmaf(qw[u * D + d], kd, sc[u]);
    }
    float p[kQPerWarp];
#pragma unroll
    for (int u = 0; u < kQPerWarp; ++u) {
      const float x = (mk && j <= slot[u] && j >= first[u]) ? sc[u] * g.scale : -INFINITY;
      const float mn = fmaxf(m[u], warp_max(x));
      float alpha = 1.f;
      p[u] = 0.f;
      if (mn != -INFINITY) {
        p[u] = expf(x - mn);  // x = -inf -> 0
        alpha = expf(m[u] - mn);  // m = -inf -> 0
      }
      l[u] = l[u] * alpha + warp_sum(p[u]);
      m[u] = mn;
#pragma unroll
      for (int i = 0; i < DPL; ++i) o[u][i] *= alpha;
    }
    const int jn = static_cast<int>((max_slot - j0 + 1) < kKTile ? (max_slot - j0 + 1) : kKTile);
    for (int jj = 0; jj < jn; ++jj) {
      float vd[DPL];
#pragma unroll
      for (int i = 0; i < DPL; ++i) vd[i] = Vs[jj * D + lane + 32 * i];
#pragma unroll
      for (int u = 0; u < kQPerWarp; ++u) {
        const float pj = __shfl_sync(0xffffffffu, p[u], jj);
#pragma unroll
        for (int i = 0; i < DPL; ++i) o[u][i] = fmaf(pj, vd[i], o[u][i]);
      }
    }
  }
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    const int64_t row = i0 + warp * kQPerWarp + u;
    if (row >= a.tq) continue;
    const int64_t r = s * a.tq + row;
    const float inv = l[u] > 0.f ? 1.f / l[u] : 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int d = lane + 32 * i;
      if (d < hd) a.out[r * g.qd + h * hd + d] = o[u][i] * inv;
    }
    if (a.lse && lane == 0) a.lse[r * a.heads + h] = l[u] > 0.f ? m[u] + logf(l[u]) : INFINITY;
  }
}

// A decode query's output (o / l, lane-per-dim) and log-sum-exp (m + log l;
// +inf when no key was visible), written by one warp.
template <int D>
__device__ __forceinline__ void store_decode_row(const AttnFwdArgs& a, const Geo& g, int64_t s, int64_t h, int lane,
                                                 const float (&o)[D / 32], float m, float l) {
  const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
  for (int i = 0; i < D / 32; ++i) {
    const int d = lane + 32 * i;
    if (d < a.head_dim) a.out[s * g.qd + h * a.head_dim + d] = o[i] * inv;
  }
  if (a.lse && lane == 0) a.lse[s * a.heads + h] = l > 0.f ? m + logf(l) : INFINITY;
}

// ---- decode: one query per (sequence, head) -------------------------------------

template <int D>
__global__ void __launch_bounds__(kThreads) attn_decode_kernel(AttnFwdArgs a, Geo g) {
  constexpr int DPL = D / 32;
  __shared__ float sm_m[kWarps], sm_l[kWarps], sm_o[kWarps][D];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t s = blockIdx.x / a.heads, h = blockIdx.x % a.heads, kvh = h / g.group, hd = a.head_dim;
  const int64_t slot = a.slot0;  // tq == 1
  float q[DPL];
#pragma unroll
  for (int i = 0; i < DPL; ++i) {
    const int d = lane + 32 * i;
    q[i] = d < hd ? a.q[s * g.qd + h * hd + d] : 0.f;
  }
  const float* kb = a.k + s * a.seq_stride * g.kvd + kvh * hd;
  const float* vb = a.v + s * a.seq_stride * g.kvd + kvh * hd;
  const float* mrow = a.mask + s * a.mask_stride;
  float m = -INFINITY, l = 0.f, o[DPL];
#pragma unroll
  for (int i = 0; i < DPL; ++i) o[i] = 0.f;
  for (int64_t j = warp; j <= slot; j += kWarps) {
    if (mrow[j] == 0.f) continue;  // warp-uniform
    float kd[DPL], vd[DPL];
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int d = lane + 32 * i;
      kd[i] = d < hd ? kb[j * g.kvd + d] : 0.f;
      vd[i] = d < hd ? vb[j * g.kvd + d] : 0.f;
    }
    float part = 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) part = fmaf(q[i], kd[i], part);
    const float x = warp_sum(part) * g.scale;
    const float mn = fmaxf(m, x);
    const float alpha = expf(m - mn), p = expf(x - mn);
    l = l * alpha + p;
    m = mn;
#pragma unroll
    for (int i = 0; i < DPL; ++i) o[i] = fmaf(p, vd[i], o[i] * alpha);
  }
  if (lane == 0) { sm_m[warp] = m; sm_l[warp] = l; }
#pragma unroll
  for (int i = 0; i < DPL; ++i) sm_o[warp][lane + 32 * i] = o[i];
  __syncthreads();
  if (warp != 0) return;
  float M = -INFINITY;
  for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm_m[w]);
  float L = 0.f, out[DPL] = {};
  if (M != -INFINITY)
    for (int w = 0; w < kWarps; ++w) {
      if (sm_m[w] == -INFINITY) continue;
      const float c = expf(sm_m[w] - M);
      L += c * sm_l[w];
#pragma unroll
      for (int i = 0; i < DPL; ++i) out[i] = fmaf(c, sm_o[w][lane + 32 * i], out[i]);
    }
  store_decode_row<D>(a, g, s, h, lane, out, M, L);
}

// ---- decode, grouped-query: one block per (sequence, kv head) ----------------------
// For large decode batches. The group's query heads (one warp each) share every
// 32-key K/V tile, loaded once into shared memory, so the cache is read from
// memory once per kv head instead of once per query head (GQA models have 6-7
// query heads per kv head). Tiles are double-buffered with cp.async (the next
// tile streams in while this one is used), K rows padded to D + 4 floats so
// the lane-per-key float4 reads are conflict-free. Per warp: lane-per-key
// scores over the tile, an online-softmax update per tile, lane-per-dim P.V
// with p broadcast by shuffles. Keys are not split across warps, so a block
// walks the whole cache: used only when there are enough blocks to fill the
// device (kGqaDecodeMinBlocks), head_dim % 4 == 0, 16-byte aligned rows, sm_80+.
constexpr int64_t kGqaDecodeMinBlocks = 256;  // ~2 blocks per SM on A100 / H100

template <int D>
size_t gqa_decode_smem(int64_t group) { return sizeof(float) * (group * D + 2 * kKTile * (D + 4) + 2 * kKTile * D); }

// Starts copying the 32-key tile [j0, j0 + 32) into Ks [32][D + 4] / Vs [32][D]
// (zeros past `last` and head_dim), as one cp.async group.
template <int D>
__device__ __forceinline__ void start_kv_tile(float* Ks, float* Vs, const float* kb, const float* vb, int64_t j0,
                                              int64_t last, int64_t hd, int64_t kvd, int tid, int nthreads) {
  for (int e = tid; e < kKTile * (D / 4); e += nthreads) {
    const int kj = e / (D / 4), d = (e % (D / 4)) * 4;
    const int64_t j = j0 + kj;
    const bool in = j <= last && d < hd;
    cp_async16(Ks + kj * (D + 4) + d, in ? kb + j * kvd + d : kb, in);
    cp_async16(Vs + kj * D + d, in ? vb + j * kvd + d : vb, in);
  }
  cp_async_commit();
}

template <int D>
__global__ void attn_decode_gqa_kernel(AttnFwdArgs a, Geo g) {
  constexpr int DPL = D / 32, KS = kKTile * (D + 4), VS = kKTile * D;
  extern __shared__ __align__(16) float sm[];
  const int G = static_cast<int>(g.group), nthreads = blockDim.x;
  float* Qs = sm;               // [G][D]
  float* Kbuf = Qs + G * D;     // 2 x [32][D+4]
  float* Vbuf = Kbuf + 2 * KS;  // 2 x [32][D]
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t s = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads, hd = a.head_dim;
  const int64_t h = kvh * G + warp, slot = a.slot0;  // this warp's query head; tq == 1
  const float* kb = a.k + s * a.seq_stride * g.kvd + kvh * hd;
  const float* vb = a.v + s * a.seq_stride * g.kvd + kvh * hd;
  start_kv_tile<D>(Kbuf, Vbuf, kb, vb, 0, slot, hd, g.kvd, tid, nthreads);
  for (int e = tid; e < G * D; e += nthreads) {
    const int qh = e / D, d = e % D;
    Qs[e] = d < hd ? a.q[s * g.qd + (kvh * G + qh) * hd + d] : 0.f;
  }
  const float* mrow = a.mask + s * a.mask_stride;
  const float4* q4 = reinterpret_cast<const float4*>(Qs + warp * D);
  float m = -INFINITY, l = 0.f, o[DPL];
#pragma unroll
  for (int i = 0; i < DPL; ++i) o[i] = 0.f;
  int buf = 0;
  for (int64_t j0 = 0; j0 <= slot; j0 += kKTile, buf ^= 1) {
    if (j0 + kKTile <= slot) {  // the next tile into the other buffer (read in the previous round: synced below)
      start_kv_tile<D>(Kbuf + (buf ^ 1) * KS, Vbuf + (buf ^ 1) * VS, kb, vb, j0 + kKTile, slot, hd, g.kvd, tid,
                       nthreads);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // this tile (and Qs, the first time) visible to every warp
    const float* Ks = Kbuf + buf * KS;
    const float* Vs = Vbuf + buf * VS;
    const int64_t j = j0 + lane;
    const bool mk = j <= slot && mrow[j] != 0.f;
    const float4* kr = reinterpret_cast<const float4*>(Ks + lane * (D + 4));
    float sc = 0.f;
#pragma unroll 8
    for (int d4 = 0; d4 < D / 4; ++d4) {  // the same fma order over d as a scalar loop
      const float4 kv = kr[d4], qv = q4[d4];
      sc = fmaf(qv.x, kv.x, sc);
      sc = fmaf(qv.y, kv.y, sc);
      sc = fmaf(qv.z, kv.z, sc);
      sc = fmaf(qv.w, kv.w, sc);
    }
    const float x = mk ? sc * g.scale : -INFINITY;
    const float mn = fmaxf(m, warp_max(x));
    float alpha = 1.f, p = 0.f;
    if (mn != -INFINITY) {
      p = expf(x - mn);      // x = -inf -> 0
      alpha = expf(m - mn);  // m = -inf -> 0
    }
    l = l * alpha + warp_sum(p);
    m = mn;
#pragma unroll
    for (int i = 0; i < DPL; ++i) o[i] *= alpha;
    const int jn = static_cast<int>((slot - j0 + 1) < kKTile ? (slot - j0 + 1) : kKTile);
    for (int jj = 0; jj < jn; ++jj) {
      const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
      for (int i = 0; i < DPL; ++i) o[i] = fmaf(pj, Vs[jj * D + lane + 32 * i], o[i]);
    }
    __syncthreads();  // every warp is done with this buffer before it is refilled
  }
  store_decode_row<D>(a, g, s, h, lane, o, m, l);
}

// ---- backward ---------------------------------------------------------------------

// drow[r, h] = sum_d dout * out, one warp per (row, head).
__global__ void attn_drow_kernel(AttnBwdArgs a, Geo g, float* drow) {
  const int64_t total = a.b * a.t * a.heads;
  const int lane = threadIdx.x % 32;
  for (int64_t w = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; w < total;
       w += static_cast<int64_t>(gridDim.x) * blockDim.x / 32) {
    const int64_t r = w / a.heads, h = w % a.heads;
    const float* o = a.out + r * g.qd + h * a.head_dim;
    const float* d = a.dout + r * g.qd + h * a.head_dim;
    float s = 0.f;
    for (int64_t i = lane; i < a.head_dim; i += 32) s = fmaf(o[i], d[i], s);
    s = warp_sum(s);
    if (lane == 0) drow[w] = s;
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads) attn_dq_kernel(AttnBwdArgs a, Geo g, const float* drow) {
  constexpr int DPL = D / 32;
  extern __shared__ float sm[];
  float* Qs = sm;                      // [16][D]
  float* Gs = Qs + kQTile * D;         // [16][D] dout
  float* Ks = Gs + kQTile * D;         // [32][D+1]
  float* Vs = Ks + kKTile * (D + 1);   // [32][D+1]
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t s = blockIdx.z, h = blockIdx.y, kvh = h / g.group, hd = a.head_dim, t = a.t;
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * kQTile;
  const int64_t qend = (i0 + kQTile < t ? i0 + kQTile : t);
  for (int e = tid; e < kQTile * D; e += kThreads) {
    const int qi = e / D, d = e % D;
    const int64_t row = i0 + qi;
    const bool in = row < t && d < hd;
    Qs[e] = in ? a.q[(s * t + row) * g.qd + h * hd + d] : 0.f;
    Gs[e] = in ? a.dout[(s * t + row) * g.qd + h * hd + d] : 0.f;
  }
  const float* kb = a.k + s * t * g.kvd + kvh * hd;
  const float* vb = a.v + s * t * g.kvd + kvh * hd;
  const float* mrow = a.mask + s * t;
  int64_t qrow[kQPerWarp], qfirst[kQPerWarp];
  float lse[kQPerWarp], dr[kQPerWarp], dq[kQPerWarp][DPL];
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    qrow[u] = i0 + warp * kQPerWarp + u;
    const bool in = qrow[u] < t;
    qfirst[u] = (a.first && in) ? a.first[s * t + qrow[u]] : 0;
    lse[u] = in ? a.lse[(s * t + qrow[u]) * a.heads + h] : INFINITY;
    dr[u] = in ? drow[(s * t + qrow[u]) * a.heads + h] : 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) dq[u][i] = 0.f;
  }
  const int64_t max_slot = qend - 1;
  for (int64_t j0 = 0; j0 <= max_slot; j0 += kKTile) {
    __syncthreads();
    for (int e = tid; e < kKTile * D; e += kThreads) {
      const int kj = e / D, d = e % D;
      const int64_t j = j0 + kj;
      const bool in = j <= max_slot && d < hd;
      Ks[kj * (D + 1) + d] = in ? kb[j * g.kvd + d] : 0.f;
      Vs[kj * (D + 1) + d] = in ? vb[j * g.kvd + d] : 0.f;
    }
    __syncthreads();
    const int64_t j = j0 + lane;
    const bool mk = j <= max_slot && mrow[j] != 0.f;
    float sc[kQPerWarp] = {}, dp[kQPerWarp] = {};
    const float* kr = Ks + lane * (D + 1);
    const float* vr = Vs + lane * (D + 1);
    const float* qw = Qs + warp * kQPerWarp * D;
    const float* gw = Gs + warp * kQPerWarp * D;
#pragma unroll 4
    for (int d = 0; d < D; ++d) {
      const float kd = kr[d], vd = vr[d];
#pragma unroll
      for (int u = 0; u < kQPerWarp; ++u) {
        sc[u] = fmaf(qw[u * D + d], kd, sc[u]);
        dp[u] = fmaf(gw[u * D + d], vd, dp[u]);
      }
    }
    float ds[kQPerWarp];
#pragma unroll
    for (int u = 0; u < kQPerWarp; ++u) {
      const bool vis = mk && j <= qrow[u] && j >= qfirst[u] && qrow[u] < t;
      const float p = vis ? expf(sc[u] * g.scale - lse[u]) : 0.f;
      ds[u] = p * (dp[u] - dr[u]) * g.scale;
    }
    const int jn = static_cast<int>((max_slot - j0 + 1) < kKTile ? (max_slot - j0 + 1) : kKTile);
    for (int jj = 0; jj < jn; ++jj) {
      float kd[DPL];
#pragma unroll
      for (int i = 0; i < DPL; ++i) kd[i] = Ks[jj * (D + 1) + lane + 32 * i];
#pragma unroll
      for (int u = 0; u < kQPerWarp; ++u) {
        const float x = __shfl_sync(0xffffffffu, ds[u], jj);
#pragma unroll
        for (int i = 0; i < DPL; ++i) dq[u][i] = fmaf(x, kd[i], dq[u][i]);
      }
    }
  }
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    if (qrow[u] >= t) continue;
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int d = lane + 32 * i;
      if (d < hd) a.dq[(s * t + qrow[u]) * g.qd + h * hd + d] = dq[u][i];
    }
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads) attn_dkv_kernel(AttnBwdArgs a, Geo g, const float* drow) {
  constexpr int DPL = D / 32;
  extern __shared__ float sm[];
  float* Ks = sm;                      // [16][D]  this block's keys
  float* Vs = Ks + kQTile * D;         // [16][D]
  float* Qs = Vs + kQTile * D;         // [32][D+1] a query tile
  float* Gs = Qs + kKTile * (D + 1);   // [32][D+1] its dout
  float* Ls = Gs + kKTile * (D + 1);   // [32] lse
  float* Rs = Ls + kKTile;             // [32] drow
  __shared__ int64_t Fs[kKTile];       // the query tile's first visible key (packed sequences)
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t s = blockIdx.z, kvh = blockIdx.y, hd = a.head_dim, t = a.t;
  const int64_t k0 = static_cast<int64_t>(blockIdx.x) * kQTile;  // 16 keys per block
  for (int e = tid; e < kQTile * D; e += kThreads) {
    const int kj = e / D, d = e % D;
    const int64_t j = k0 + kj;
    const bool in = j < t && d < hd;
    Ks[e] = in ? a.k[(s * t + j) * g.kvd + kvh * hd + d] : 0.f;
    Vs[e] = in ? a.v[(s * t + j) * g.kvd + kvh * hd + d] : 0.f;
  }
  int64_t key[kQPerWarp];
  bool kvis[kQPerWarp];
  float dk[kQPerWarp][DPL], dv[kQPerWarp][DPL];
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    key[u] = k0 + warp * kQPerWarp + u;
    kvis[u] = key[u] < t && a.mask[s * t + key[u]] != 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) dk[u][i] = dv[u][i] = 0.f;
  }
  const float* kw = Ks + warp * kQPerWarp * D;
  const float* vw = Vs + warp * kQPerWarp * D;
  for (int64_t h = kvh * g.group; h < (kvh + 1) * g.group; ++h) {
    for (int64_t i0 = (k0 / kKTile) * kKTile; i0 < t; i0 += kKTile) {
      __syncthreads();  // previous query tile consumed (and K/V written, the first time)
      for (int e = tid; e < kKTile * D; e += kThreads) {
        const int qi = e / D, d = e % D;
        const int64_t row = i0 + qi;
        const bool in = row < t && d < hd;
        Qs[qi * (D + 1) + d] = in ? a.q[(s * t + row) * g.qd + h * hd + d] : 0.f;
        Gs[qi * (D + 1) + d] = in ? a.dout[(s * t + row) * g.qd + h * hd + d] : 0.f;
      }
      if (tid < kKTile) {
        const int64_t row = i0 + tid;
        Ls[tid] = row < t ? a.lse[(s * t + row) * a.heads + h] : INFINITY;
        Rs[tid] = row < t ? drow[(s * t + row) * a.heads + h] : 0.f;
        Fs[tid] = (a.first && row < t) ? a.first[s * t + row] : 0;
      }
      __syncthreads();
      const int64_t qi = i0 + lane;
      const float* qr = Qs + lane * (D + 1);
      const float* gr = Gs + lane * (D + 1);
      float sc[kQPerWarp] = {}, dp[kQPerWarp] = {};
#pragma unroll 4
      for (int d = 0; d < D; ++d) {
        const float qd = qr[d], gd = gr[d];
#pragma unroll
        for (int u = 0; u < kQPerWarp; ++u) {
          sc[u] = fmaf(qd, kw[u * D + d], sc[u]);
          dp[u] = fmaf(gd, vw[u * D + d], dp[u]);
        }
      }
      const float lse = Ls[lane], dr = Rs[lane];
      const int64_t qf = Fs[lane];
      float p[kQPerWarp], ds[kQPerWarp];
#pragma unroll
      for (int u = 0; u < kQPerWarp; ++u) {
        const bool vis = kvis[u] && qi < t && key[u] <= qi && key[u] >= qf;
        p[u] = vis ? expf(sc[u] * g.scale - lse) : 0.f;
        ds[u] = p[u] * (dp[u] - dr) * g.scale;
      }
      const int qn = static_cast<int>((t - i0) < kKTile ? (t - i0) : kKTile);
      for (int jj = 0; jj < qn; ++jj) {
        float qd[DPL], gd[DPL];
#pragma unroll
        for (int i = 0; i < DPL; ++i) {
          qd[i] = Qs[jj * (D + 1) + lane + 32 * i];
          gd[i] = Gs[jj * (D + 1) + lane + 32 * i];
        }
#pragma unroll
        for (int u = 0; u < kQPerWarp; ++u) {
          const float pj = __shfl_sync(0xffffffffu, p[u], jj), dsj = __shfl_sync(0xffffffffu, ds[u], jj);
#pragma unroll
          for (int i = 0; i < DPL; ++i) {
            dv[u][i] = fmaf(pj, gd[i], dv[u][i]);
            dk[u][i] = fmaf(dsj, qd[i], dk[u][i]);
          }
        }
      }
    }
  }
#pragma unroll
  for (int u = 0; u < kQPerWarp; ++u) {
    if (key[u] >= t) continue;
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int d = lane + 32 * i;
      if (d < hd) {
        a.dk[(s * t + key[u]) * g.kvd + kvh * hd + d] = dk[u][i];
        a.dv[(s * t + key[u]) * g.kvd + kvh * hd + d] = dv[u][i];
      }
    }
  }
}

// ---- launch helpers ------------------------------------------------------------------

template <class F>
Status with_d(int64_t hd, F&& f) {
  if (hd <= 32) return f(std::integral_constant<int, 32>{});
  if (hd <= 64) return f(std::integral_constant<int, 64>{});
  if (hd <= 128) return f(std::integral_constant<int, 128>{});
  if (hd <= 256) return f(std::integral_constant<int, 256>{});
  return Status::Error(Code::Shape, "headDim", "CUDA attention supports head_dim <= 256");
}

Status geometry(int64_t heads, int64_t kv_heads, int64_t hd, float scale, Geo* g) {
  if (heads < 1 || kv_heads < 1 || heads % kv_heads != 0)
    return Status::Error(Code::Shape, "heads", "kv_heads must divide heads");
  if (hd < 1) return Status::Error(Code::Shape, "headDim", "must be >= 1");
  g->qd = heads * hd;
  g->kvd = kv_heads * hd;
  g->group = heads / kv_heads;
  g->scale = scale != 0.f ? scale : 1.0f / std::sqrt(static_cast<float>(hd));
  return Status::Ok();
}

}  // namespace

Status attention_fwd_cuda(const AttnFwdArgs& a) {
  Geo g;
  Status st = geometry(a.heads, a.kv_heads, a.head_dim, a.scale, &g);
  if (!st.ok()) return st;
  if (a.b <= 0 || a.tq <= 0) return Status::Ok();
  if (a.b > 65535 || a.heads > 65535) return Status::Error(Code::Shape, "attention", "b and heads must be <= 65535");
  if (a.bf16 && a.tq > 1 && attn::tc_supported(a.head_dim)) return attn::fwd_tc(a, g);
  return with_d(a.head_dim, [&](auto dc) -> Status {
    constexpr int D = decltype(dc)::value;
    if (a.tq == 1 && !a.first) {  // (a packed row of one token is its own segment: first = 0 anyway)
      const bool rows16 = a.head_dim % 4 == 0 && (reinterpret_cast<uintptr_t>(a.k) & 15) == 0 &&
                          (reinterpret_cast<uintptr_t>(a.v) & 15) == 0 && attn::sm80_or_newer();  // cp.async rows
      if (g.group >= 2 && g.group <= 32 && a.b * a.kv_heads >= kGqaDecodeMinBlocks && rows16) {
        const size_t bytes = gqa_decode_smem<D>(g.group);
        Status s = set_smem(attn_decode_gqa_kernel<D>, bytes);
        if (!s.ok()) return s;
        attn_decode_gqa_kernel<D>
            <<<static_cast<unsigned>(a.b * a.kv_heads), static_cast<unsigned>(32 * g.group), bytes>>>(a, g);
        return launched("attn_decode_gqa_kernel");
      }
      attn_decode_kernel<D><<<static_cast<unsigned>(a.b * a.heads), kThreads>>>(a, g);
      return launched("attn_decode_kernel");
    }
    constexpr size_t bytes = fwd_smem<D>();
    Status s = set_smem(attn_fwd_kernel<D>, bytes);
    if (!s.ok()) return s;
    const dim3 grid(static_cast<unsigned>((a.tq + kQTile - 1) / kQTile), static_cast<unsigned>(a.heads),
                    static_cast<unsigned>(a.b));
    attn_fwd_kernel<D><<<grid, kThreads, bytes>>>(a, g);
    return launched("attn_fwd_kernel");
  });
}

Status attention_bwd_cuda(const AttnBwdArgs& a) {
  Geo g;
  Status st = geometry(a.heads, a.kv_heads, a.head_dim, a.scale, &g);
  if (!st.ok()) return st;
  if (a.b <= 0 || a.t <= 0) return Status::Ok();
  if (a.b > 65535 || a.heads > 65535) return Status::Error(Code::Shape, "attention", "b and heads must be <= 65535");
  Scratch sc;
  st = sc.alloc(static_cast<size_t>(a.b * a.t * a.heads) * sizeof(float));
  if (!st.ok()) return st;
  float* drow = sc.as<float>();
  attn_drow_kernel<<<grid_for(a.b * a.t * a.heads * 32, 256, 8192), 256>>>(a, g, drow);
  st = launched("attn_drow_kernel");
  if (!st.ok()) return st;
  if (a.bf16 && a.t > 1 && attn::tc_supported(a.head_dim)) return attn::bwd_tc(a, g, drow);
  return with_d(a.head_dim, [&](auto dc) -> Status {
    constexpr int D = decltype(dc)::value;
    Status s = set_smem(attn_dq_kernel<D>, dq_smem<D>());
    if (!s.ok()) return s;
    s = set_smem(attn_dkv_kernel<D>, dkv_smem<D>());
    if (!s.ok()) return s;
    const unsigned tiles = static_cast<unsigned>((a.t + kQTile - 1) / kQTile);
    attn_dq_kernel<D><<<dim3(tiles, static_cast<unsigned>(a.heads), static_cast<unsigned>(a.b)), kThreads, dq_smem<D>()>>>(
        a, g, drow);
    s = launched("attn_dq_kernel");
    if (!s.ok()) return s;
    attn_dkv_kernel<D>
        <<<dim3(tiles, static_cast<unsigned>(a.kv_heads), static_cast<unsigned>(a.b)), kThreads, dkv_smem<D>()>>>(
            a, g, drow);
    return launched("attn_dkv_kernel");
  });
}

}  // namespace rlvr::engine::ops
