// The bf16 tensor-core attention kernels and their launchers, as templates over the tile
// buffering: attention_tc.cu instantiates the production variants (fwd_tc, bwd_tc), and
// native/dev/attention_tc_variants.cu the others, for timing them against each other.
// Internal to the CUDA ops (included by those two files only).
#pragma once
//
// bf16 tensor-core attention (FlashAttention-2 style) for OpsModel's bf16 mode.
// The math is ops.h's "bf16 attention"; attention_*_cpu with bf16 = true is
// its reference. mma.sync m16n8k16 (bf16 in, fp32 accumulate) on fragments
// read with ldmatrix from row-major tiles in shared memory (rows of D + 8
// bf16: the 8 row addresses of an 8x8 matrix hit distinct banks); operands
// needed transposed (V in P V, K in dS K, Q and dO in dK, dV) come from the
// same row-major tiles through ldmatrix .trans.
//
// Forward: a block = 4 warps = 64 queries of one head, a warp owns 16 query
// rows. Per 64-key tile: S = Q K^T on tensor cores, the online softmax on the
// accumulator fragments (a row lives in the 4 lanes of a quad: row statistics
// are reduced with two shuffles), P rounded to bf16 and fed straight back as
// the A operand of P V (the accumulator layout of two n8 tiles is the A
// layout of one k16 step).
// Backward: two kernels, deterministic (no atomics), as the fp32 ones:
//   dq:  blocks over 64-query tiles; per key tile S, dP = dO V^T, dS, dQ += dS K;
//   dkv: blocks over 64-key tiles and query heads; per 64-query tile (in halves
//        of 32 queries, to bound registers): S^T = K Q^T, dP^T = V dO^T,
//        dV += P^T dO, dK += dS^T Q. With grouped-query attention each query
//        head's dK, dV go to a partial buffer and a second kernel sums the
//        group's partials in head order: a block per (key tile, kv head) looping
//        over the group had 1/group of the parallelism and group x the critical
//        path (2 kv heads x 16 tiles x 8 sequences = 256 blocks for 132 SMs).
// Tiles stream in with cp.async, double-buffered (the next tile loads while
// this one is used), from bf16 copies of Q, K, V (and dO) that the launcher
// casts once per call (head_dim % 8 == 0, training layout); otherwise (a
// prefill reading a larger cache, other head dims) they are rounded from the
// fp32 activations as they are loaded. head_dim is zero-padded to D = 32, 64
// or 128.
#include <atomic>
#include <climits>
#include <cstdint>

#include "kernels/cuda/common.cuh"
#include "ops/cuda/attention_internal.cuh"

namespace rlvr::engine::ops::attn {
namespace {

using namespace rlvr::cudak;
using bf16 = __nv_bfloat16;

constexpr int kThreads = 128;  // 4 warps
constexpr int kRows = 64;      // queries (fwd, dq) or keys (dkv) per block
constexpr int kTile = 64;      // keys (fwd, dq) or queries (dkv) per loop step
static_assert(kTile == kAttnBf16Keys, "the forward's key tile is part of the bf16 math (ops.h)");
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (lo) in the low half: the lower column
  return *reinterpret_cast<uint32_t*>(&v);
}
// d += a b  (m16n8k16, row.col, bf16 inputs, fp32 accumulate)
__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  __trap();  // the host never launches these kernels below sm_80 (tc_supported)
#endif
}

// ldmatrix x4: four 8x8 bf16 matrices, lane l giving the address of row l % 8
// of matrix l / 8; register i holds matrix i in the mma fragment layout (lane
// (g = lane / 4, c = lane % 4) gets row g, columns 2c and 2c + 1; .trans: the
// transposed matrix's).
__device__ __forceinline__ void ldsm4(uint32_t (&r)[4], const bf16* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}
__device__ __forceinline__ void ldsm4_t(uint32_t (&r)[4], const bf16* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}
// This lane's row address for a 16 x 16 block at (r0, k0) of a row-major tile,
// matrices ordered (r0, k0), (r0 + 8, k0), (r0, k0 + 8), (r0 + 8, k0 + 8):
//  - ldsm4: the A fragment of rows r0.., columns k0..;
//  - ldsm4_t on a [k][n] tile (rows = the product's k): the B fragments
//    (b0, b1) of n-tiles n0 = k-block column k0 and k0 + 8, i.e. B[k][n] =
//    tile[r0 + k][k0 + n] for two adjacent n8 tiles.
__device__ __forceinline__ const bf16* frag_a(const bf16* x, int ld, int r0, int k0, int lane) {
  return x + (r0 + (lane & 7) + ((lane >> 3) & 1) * 8) * ld + k0 + (lane >> 4) * 8;
}
// ... and for ldsm4 on an [n][k] tile (B[k][n] = tile[n0 + n][k0 + k]): the B
// fragments (b0, b1) of n-tiles n0 and n0 + 8, matrices ordered (n0, k0),
// (n0, k0 + 8), (n0 + 8, k0), (n0 + 8, k0 + 8).
__device__ __forceinline__ const bf16* frag_b(const bf16* y, int ld, int n0, int k0, int lane) {
  return y + (n0 + (lane & 7) + (lane >> 4) * 8) * ld + k0 + ((lane >> 3) & 1) * 8;
}
// Two accumulator tiles (16 x 8 each, columns 16 kk ..) as the A fragment of
// one k16 step: the accumulator's (g, 2c..2c+1) / (g + 8, ..) pairs are
// exactly the A layout's.
__device__ __forceinline__ void acc_to_a(uint32_t (&a)[4], const float (&x0)[4], const float (&x1)[4]) {
  a[0] = pack_bf16(x0[0], x0[1]);
  a[1] = pack_bf16(x0[2], x0[3]);
  a[2] = pack_bf16(x1[0], x1[1]);
  a[3] = pack_bf16(x1[2], x1[3]);
}

// acc[nt] (nt < NT) += X[r0 .. r0 + 16, 0 .. D) . Y[n0 + 8 nt .. + 8, 0 .. D)^T for two
// row-major tiles: a 16 x 8NT block of X Y^T (S = Q K^T, dP = dO V^T and their transposes).
template <int D, int NT>
__device__ __forceinline__ void mma_abt(float (&acc)[NT][4], const bf16* x, int r0, const bf16* y, int n0, int lane) {
  constexpr int LD = D + 8;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[4];
    ldsm4(a, frag_a(x, LD, r0, kk * 16, lane));
#pragma unroll
    for (int np = 0; np < NT / 2; ++np) {
      uint32_t b4[4];
      ldsm4(b4, frag_b(y, LD, n0 + np * 16, kk * 16, lane));
      mma(acc[2 * np], a, b4[0], b4[1]);
      mma(acc[2 * np + 1], a, b4[2], b4[3]);
    }
  }
}

// acc[dn] (dn < D / 8) += P . T[k0 .. k0 + 16 KS, 0 .. D): P the 16 x 16KS accumulator block
// p[0 .. 2KS) rounded to bf16 as the A operand, T a row-major [k][d] tile read transposed
// (P V, dS K, P^T dO, dS^T Q).
template <int D, int KS>
__device__ __forceinline__ void mma_pt(float (&acc)[D / 8][4], const float (&p)[2 * KS][4], const bf16* t, int k0,
                                       int lane) {
  constexpr int LD = D + 8;
#pragma unroll
  for (int kk = 0; kk < KS; ++kk) {
    uint32_t pa[4];
    acc_to_a(pa, p[2 * kk], p[2 * kk + 1]);
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t b4[4];
      ldsm4_t(b4, frag_a(t, LD, k0 + kk * 16, dp * 16, lane));
      mma(acc[2 * dp], pa, b4[0], b4[1]);
      mma(acc[2 * dp + 1], pa, b4[2], b4[3]);
    }
  }
}

// Rows [0, 64) of an fp32 tile (row i at src + i * ld for i < nvalid, columns
// < hd) rounded to bf16 into a row-major tile [64][D + 8]; zeros elsewhere.
// vec: float4 loads (hd % 4 == 0 and 16-byte aligned rows).
template <int D>
__device__ __forceinline__ void load_tile(bf16* dst, const float* src, int64_t ld, int nvalid, int64_t hd, int tid,
                                          bool vec) {
  constexpr int LD = D + 8;
  if (vec) {
    for (int e = tid; e < kRows * (D / 4); e += kThreads) {
      const int i = e / (D / 4), d = (e % (D / 4)) * 4;
      float4 x = make_float4(0.f, 0.f, 0.f, 0.f);
      if (i < nvalid && d < hd) x = *reinterpret_cast<const float4*>(src + i * ld + d);
      *reinterpret_cast<uint2*>(dst + i * LD + d) = make_uint2(pack_bf16(x.x, x.y), pack_bf16(x.z, x.w));
    }
    return;
  }
  for (int e = tid; e < kRows * D; e += kThreads) {
    const int i = e / D, d = e % D;
    dst[i * LD + d] = __float2bfloat16_rn((i < nvalid && d < hd) ? src[i * ld + d] : 0.f);
  }
}

// A tile as load_tile fills it, from the operand's bf16 copy when there is one
// (`h`, same element layout as `f`; head_dim % 8 == 0): cp.async, which the
// caller commits and waits for; else converted from fp32 `f` now.
template <int D>
__device__ __forceinline__ void fill_tile(bf16* dst, const float* f, const bf16* h, int64_t ld, int nvalid, int64_t hd,
                                          int tid, bool vec) {
  constexpr int LD = D + 8;
  if (!h) {
    load_tile<D>(dst, f, ld, nvalid, hd, tid, vec);
    return;
  }
  for (int e = tid; e < kRows * (D / 8); e += kThreads) {
    const int i = e / (D / 8), d = (e % (D / 8)) * 8;
    const bool in = i < nvalid && d < hd;
    cp_async16(dst + i * LD + d, in ? h + i * ld + d : h, in);
  }
}

// The first key slot any query of the block can see (packed sequences): key
// tiles before it are skipped, which is exact (a tile with no visible key
// leaves m, l and o unchanged). rows: the block's rows [r0, r0 + 64) of a
// sequence of `len` rows; first: that sequence's AttnFwdArgs::first or null.
__device__ __forceinline__ int block_first_key(const int32_t* first, int64_t r0, int64_t len, int tid, int* shared) {
  if (tid == 0) *shared = INT_MAX;
  __syncthreads();
  if (tid < kRows && r0 + tid < len) atomicMin(shared, first ? first[r0 + tid] : 0);
  __syncthreads();
  return *shared;
}

// Max over the warp's lanes.
__device__ __forceinline__ int64_t warp_max(int64_t v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = max(v, static_cast<int64_t>(__shfl_xor_sync(0xffffffffu, v, o)));
  return v;
}

// Key tile [j0, j0 + 64) is visible to every row of the warp: its keys are all real (mask
// flags Ms, 0 past the valid keys), none is past the warp's smallest slot and none before
// its largest segment start. Warp-uniform (a vote), so the caller's branch does not diverge.
__device__ __forceinline__ bool tile_visible(const float* Ms, int64_t j0, int64_t wslot_min, int64_t wfirst_max,
                                             int lane) {
  if (j0 + kTile - 1 > wslot_min || j0 < wfirst_max) return false;
  return __all_sync(0xffffffffu, Ms[lane] != 0.f && Ms[lane + 32] != 0.f);
}

// The keys kj of the tile at j0 that this lane's rows (u = 0, 1) see by position: lo[u] <= kj
// <= lim[u], from the row's slot (-1 past the end: none) and segment start.
__device__ __forceinline__ void key_window(const int64_t (&slot)[2], const int64_t (&first)[2], int64_t j0,
                                           int (&lim)[2], int (&lo)[2]) {
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    lim[u] = static_cast<int>(max(slot[u] - j0, int64_t{-1}));
    lo[u] = static_cast<int>(min(max(first[u] - j0, int64_t{0}), int64_t{kTile}));
  }
}

// ---- forward ----------------------------------------------------------------

// bf16 copies of the operands (same element layout as the fp32 ones), made
// by the launcher when head_dim % 8 == 0 for the training layout: the tiles
// then stream in with cp.async, double-buffered. Null: tiles are converted
// from fp32 as they are loaded.
struct Bf16In {
  const bf16 *q = nullptr, *k = nullptr, *v = nullptr, *dout = nullptr;
};

// SV: the value tile single-buffered (it streams in while S and the softmax of its key tile are
// computed), so the shared memory (70 KB at D = 128) and registers (<= 168) fit three blocks per
// SM instead of two; the key tile stays double-buffered. Without SV both are double-buffered.
template <int D, bool SV>
constexpr size_t fwd_smem() {
  return sizeof(bf16) * (SV ? 4 : 5) * kRows * (D + 8) + sizeof(float) * 2 * kTile;
}

template <int D, bool SV>
__global__ void __launch_bounds__(kThreads, SV ? 3 : 1) fwd_kernel(AttnFwdArgs a, Geo geo, Bf16In in, bool vec) {
  constexpr int LD = D + 8, NT = kTile / 8, DN = D / 8, TS = kTile * LD;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* Qs = reinterpret_cast<bf16*>(smem);                 // [64][LD]
  bf16* Kb = Qs + kRows * LD;                               // 2 x [64][LD] (double-buffered key tiles)
  bf16* Vb = Kb + 2 * TS;                                   // 2 x [64][LD], or 1 x (SV)
  float* Mb = reinterpret_cast<float*>(Vb + (SV ? 1 : 2) * TS);  // 2 x [64] key slot real and within the block's range
  __shared__ int kmin;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, c = lane % 4;
  const int64_t s = blockIdx.z, h = blockIdx.y, kvh = h / geo.group, hd = a.head_dim;
  const int64_t i0 = static_cast<int64_t>(gridDim.x - 1 - blockIdx.x) * kRows;  // longest (causal) tiles first
  const int64_t qend = i0 + kRows < a.tq ? i0 + kRows : a.tq;
  const int64_t max_slot = a.slot0 + qend - 1;
  const int first_key = block_first_key(a.first ? a.first + s * a.tq : nullptr, i0, a.tq, tid, &kmin);
  int64_t slot[2], first[2];  // this lane's rows: g and g + 8 of the warp's 16
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    const int64_t row = i0 + warp * 16 + g + 8 * u;
    slot[u] = row < a.tq ? a.slot0 + row : -1;
    first[u] = (row < a.tq && a.first) ? a.first[s * a.tq + row] : 0;
  }
  // the warp's smallest slot (its first row's; rows past tq are never written) and largest
  // segment start: a key tile within [wfirst_max, wslot_min] is visible to all its rows
  const int64_t wslot_min = a.slot0 + i0 + warp * 16;
  const int64_t wfirst_max = warp_max(max(first[0], first[1]));
  const float sl2 = geo.scale * kLog2e;  // scores in log2 units: p = 2^(s sl2 - m)
  const int64_t qoff = (s * a.tq + i0) * geo.qd + h * hd, kvoff = s * a.seq_stride * geo.kvd + kvh * hd;
  fill_tile<D>(Qs, a.q + qoff, in.q ? in.q + qoff : nullptr, geo.qd, static_cast<int>(qend - i0), hd, tid, vec);
  const float* mrow = a.mask + s * a.mask_stride;
  // key tile [j0, j0 + 64) (K and its mask flags, or V) into buffer `buf`
  auto nvalid_at = [&](int64_t j0) {
    return static_cast<int>(max_slot - j0 + 1 < kTile ? max_slot - j0 + 1 : kTile);
  };
  auto issue_k = [&](int64_t j0, int buf) {
    const int nvalid = nvalid_at(j0);
    const int64_t off = kvoff + j0 * geo.kvd;
    fill_tile<D>(Kb + buf * TS, a.k + off, in.k ? in.k + off : nullptr, geo.kvd, nvalid, hd, tid, vec);
    if (tid < kTile) Mb[buf * kTile + tid] = (tid < nvalid && mrow[j0 + tid] != 0.f) ? 1.f : 0.f;
  };
  auto issue_v = [&](int64_t j0, int buf) {
    const int64_t off = kvoff + j0 * geo.kvd;
    fill_tile<D>(Vb + buf * TS, a.v + off, in.v ? in.v + off : nullptr, geo.kvd, nvalid_at(j0), hd, tid, vec);
  };
  auto issue = [&](int64_t j0, int buf) {  // both, one cp.async group
    issue_k(j0, buf);
    issue_v(j0, buf);
    cp_async_commit();
  };
  float o[DN][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
#pragma unroll
  for (int dn = 0; dn < DN; ++dn) o[dn][0] = o[dn][1] = o[dn][2] = o[dn][3] = 0.f;
  int64_t j0 = (first_key / kTile) * static_cast<int64_t>(kTile);
  if constexpr (SV) {
    issue_k(j0, 0);
    cp_async_commit();  // Q and the first key tile
  } else {
    issue(j0, 0);
  }
  for (int buf = 0; j0 <= max_slot; j0 += kTile, buf ^= 1) {
    if constexpr (SV) {
      cp_async_wait<0>();  // this key tile (and Q, the first time)
      __syncthreads();     // ... visible to all warps, and all are past the previous P V: V's buffer is free
      issue_v(j0, 0);
      cp_async_commit();
      if (j0 + kTile <= max_slot) issue_k(j0 + kTile, buf ^ 1);  // the next key tile streams in meanwhile
      cp_async_commit();  // (possibly empty: the wait below is then uniform)
    } else {
      if (j0 + kTile <= max_slot) {  // the next tile streams in while this one is used
        issue(j0 + kTile, buf ^ 1);
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();  // this tile (and Qs, the first time) is visible to all warps
    }
    const bf16* Ks = Kb + buf * TS;
    const bf16* Vs = Vb + (SV ? 0 : buf) * TS;
    const float* Ms = Mb + buf * kTile;
    float sc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) sc[nt][0] = sc[nt][1] = sc[nt][2] = sc[nt][3] = 0.f;
    mma_abt<D, NT>(sc, Qs, warp * 16, Ks, 0, lane);
    // visibility, scale (to log2 units), the tile's row maxima (over the quad's 4 lanes)
    float mx[2] = {-INFINITY, -INFINITY};
    if (tile_visible(Ms, j0, wslot_min, wfirst_max, lane)) {  // warp-uniform: no per-key tests
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          sc[nt][e] *= sl2;
          mx[e >> 1] = fmaxf(mx[e >> 1], sc[nt][e]);
        }
    } else {
      int lim[2], lo[2];
      key_window(slot, first, j0, lim, lo);
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int u = e >> 1, kj = nt * 8 + 2 * c + (e & 1);
          const bool vis = Ms[kj] != 0.f && kj <= lim[u] && kj >= lo[u];
          sc[nt][e] = vis ? sc[nt][e] * sl2 : -INFINITY;
          mx[u] = fmaxf(mx[u], sc[nt][e]);
        }
    }
    float mn[2], alpha[2], rs[2] = {0.f, 0.f};
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      mx[u] = fmaxf(mx[u], __shfl_xor_sync(0xffffffffu, mx[u], 1));
      mx[u] = fmaxf(mx[u], __shfl_xor_sync(0xffffffffu, mx[u], 2));
      mn[u] = fmaxf(m[u], mx[u]);
      alpha[u] = mn[u] == -INFINITY ? 1.f : ex2(m[u] - mn[u]);  // m = -inf -> 0
    }
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int u = e >> 1;
        const float p = mn[u] == -INFINITY ? 0.f : ex2(sc[nt][e] - mn[u]);  // invisible (-inf) -> 0
        sc[nt][e] = p;
        rs[u] += p;
      }
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      rs[u] += __shfl_xor_sync(0xffffffffu, rs[u], 1);
      rs[u] += __shfl_xor_sync(0xffffffffu, rs[u], 2);
      l[u] = l[u] * alpha[u] + rs[u];
      m[u] = mn[u];
    }
#pragma unroll
    for (int dn = 0; dn < DN; ++dn) {
      o[dn][0] *= alpha[0]; o[dn][1] *= alpha[0];
      o[dn][2] *= alpha[1]; o[dn][3] *= alpha[1];
    }
    if constexpr (SV) {
      cp_async_wait<1>();  // this value tile (the next key tile may still stream)
      __syncthreads();
    }
    mma_pt<D, kTile / 16>(o, sc, Vs, 0, lane);
    if constexpr (!SV) __syncthreads();  // every warp is done with this buffer before it is refilled
  }
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    const int64_t row = i0 + warp * 16 + g + 8 * u;
    if (row >= a.tq) continue;
    const int64_t r = s * a.tq + row;
    const float inv = l[u] > 0.f ? 1.f / l[u] : 0.f;
#pragma unroll
    for (int dn = 0; dn < DN; ++dn)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int d = dn * 8 + 2 * c + e;
        if (d < hd) a.out[r * geo.qd + h * hd + d] = o[dn][2 * u + e] * inv;
      }
    if (a.lse && c == 0) a.lse[r * a.heads + h] = l[u] > 0.f ? (m[u] + log2f(l[u])) * kLn2 : INFINITY;
  }
}

// ---- backward: dq ---------------------------------------------------------------

// S1: key / value tiles single-buffered (each loads while the block waits; the other blocks of
// the SM compute meanwhile): 70 KB of shared memory and <= 168 registers at D = 128, three
// blocks per SM instead of two (the production variant; attention_tc.cu).
template <int D, bool S1>
constexpr size_t dq_smem() {
  return sizeof(bf16) * (S1 ? 4 : 6) * kRows * (D + 8) + sizeof(float) * 2 * kTile;
}

template <int D, bool S1>
__global__ void __launch_bounds__(kThreads, S1 ? 3 : 1)
    dq_kernel(AttnBwdArgs a, Geo geo, const float* drow, Bf16In in, bool vec) {
  constexpr int LD = D + 8, NT = kTile / 8, DN = D / 8, TS = kTile * LD;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* Qs = reinterpret_cast<bf16*>(smem);           // [64][LD] queries
  bf16* Gs = Qs + kRows * LD;                         // [64][LD] their dout
  bf16* Kb = Gs + kRows * LD;                         // 2 x [64][LD] key tiles (double-buffered), 1 x (S1)
  bf16* Vb = Kb + (S1 ? 1 : 2) * TS;                  // the same for values
  float* Mb = reinterpret_cast<float*>(Vb + (S1 ? 1 : 2) * TS);  // 2 x [64]
  __shared__ int kmin;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, c = lane % 4;
  const int64_t s = blockIdx.z, h = blockIdx.y, kvh = h / geo.group, hd = a.head_dim, t = a.t;
  const int64_t i0 = static_cast<int64_t>(gridDim.x - 1 - blockIdx.x) * kRows;
  const int64_t qend = i0 + kRows < t ? i0 + kRows : t;
  const int64_t max_slot = qend - 1;
  const int first_key = block_first_key(a.first ? a.first + s * t : nullptr, i0, t, tid, &kmin);
  int64_t slot[2], first[2];
  float lse2[2], dr[2];  // lse in log2 units
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    const int64_t row = i0 + warp * 16 + g + 8 * u;
    const bool in = row < t;
    slot[u] = in ? row : -1;
    first[u] = (in && a.first) ? a.first[s * t + row] : 0;
    lse2[u] = in ? a.lse[(s * t + row) * a.heads + h] * kLog2e : INFINITY;
    dr[u] = in ? drow[(s * t + row) * a.heads + h] : 0.f;
  }
  const int64_t wslot_min = i0 + warp * 16, wfirst_max = warp_max(max(first[0], first[1]));  // as the forward's
  const float sl2 = geo.scale * kLog2e;
  const int nq = static_cast<int>(qend - i0);
  const int64_t qoff = (s * t + i0) * geo.qd + h * hd, kvoff = s * t * geo.kvd + kvh * hd;
  fill_tile<D>(Qs, a.q + qoff, in.q ? in.q + qoff : nullptr, geo.qd, nq, hd, tid, vec);
  fill_tile<D>(Gs, a.dout + qoff, in.dout ? in.dout + qoff : nullptr, geo.qd, nq, hd, tid, vec);
  const float* mrow = a.mask + s * t;
  auto issue = [&](int64_t j0, int buf) {  // key tile [j0, j0 + 64) into buffer `buf` (one cp.async group)
    const int nvalid = static_cast<int>(max_slot - j0 + 1 < kTile ? max_slot - j0 + 1 : kTile);
    const int64_t off = kvoff + j0 * geo.kvd;
    fill_tile<D>(Kb + buf * TS, a.k + off, in.k ? in.k + off : nullptr, geo.kvd, nvalid, hd, tid, vec);
    fill_tile<D>(Vb + buf * TS, a.v + off, in.v ? in.v + off : nullptr, geo.kvd, nvalid, hd, tid, vec);
    if (tid < kTile) Mb[buf * kTile + tid] = (tid < nvalid && mrow[j0 + tid] != 0.f) ? 1.f : 0.f;
    cp_async_commit();
  };
  float dq[DN][4];
#pragma unroll
  for (int dn = 0; dn < DN; ++dn) dq[dn][0] = dq[dn][1] = dq[dn][2] = dq[dn][3] = 0.f;
  int64_t j0 = (first_key / kTile) * static_cast<int64_t>(kTile);
  issue(j0, 0);
  for (int buf = 0; j0 <= max_slot; j0 += kTile, buf = S1 ? 0 : buf ^ 1) {
    if (S1 || j0 + kTile > max_slot) {
      cp_async_wait<0>();
    } else {
      issue(j0 + kTile, buf ^ 1);
      cp_async_wait<1>();
    }
    __syncthreads();  // this tile (and Qs / Gs, the first time) is visible to all warps
    const bf16* Ks = Kb + buf * TS;
    const bf16* Vs = Vb + buf * TS;
    const float* Ms = Mb + buf * kTile;
    float sc[NT][4], dp[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) sc[nt][e] = dp[nt][e] = 0.f;
    mma_abt<D, NT>(sc, Qs, warp * 16, Ks, 0, lane);  // S
    mma_abt<D, NT>(dp, Gs, warp * 16, Vs, 0, lane);  // dP = dO V^T
    if (tile_visible(Ms, j0, wslot_min, wfirst_max, lane)) {  // warp-uniform
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int u = e >> 1;
          const float p = ex2(fmaf(sc[nt][e], sl2, -lse2[u]));
          sc[nt][e] = p * (dp[nt][e] - dr[u]) * geo.scale;  // ds
        }
    } else {
      int lim[2], lo[2];
      key_window(slot, first, j0, lim, lo);
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int u = e >> 1, kj = nt * 8 + 2 * c + (e & 1);
          const bool vis = Ms[kj] != 0.f && kj <= lim[u] && kj >= lo[u];
          const float p = vis ? ex2(fmaf(sc[nt][e], sl2, -lse2[u])) : 0.f;
          sc[nt][e] = p * (dp[nt][e] - dr[u]) * geo.scale;  // ds
        }
    }
    mma_pt<D, kTile / 16>(dq, sc, Ks, 0, lane);  // dQ += dS K
    __syncthreads();  // every warp is done with this buffer before it is refilled
    if (S1 && j0 + kTile <= max_slot) issue(j0 + kTile, 0);
  }
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    const int64_t row = i0 + warp * 16 + g + 8 * u;
    if (row >= t) continue;
#pragma unroll
    for (int dn = 0; dn < DN; ++dn)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int d = dn * 8 + 2 * c + e;
        if (d < hd) a.dq[(s * t + row) * geo.qd + h * hd + d] = dq[dn][2 * u + e];
      }
  }
}

// ---- backward: dk, dv --------------------------------------------------------------

template <int D>
constexpr size_t dkv_smem() {
  return sizeof(bf16) * 6 * kRows * (D + 8) + (2 * sizeof(float) + sizeof(int)) * 2 * kTile;
}

// Where dkv_kernel writes: a.dk / a.dv themselves (group 1: row stride kvd,
// column kvh * hd), or per-query-head partials (row stride qd, column h * hd)
// that dkv_reduce_kernel sums.
struct DkvOut {
  float *k, *v;
  bool per_head;
};

template <int D>
__global__ void __launch_bounds__(kThreads) dkv_kernel(AttnBwdArgs a, Geo geo, const float* drow, Bf16In in, bool vec,
                                                       DkvOut out) {
  constexpr int LD = D + 8, DN = D / 8, HALF = kTile / 2, NTH = HALF / 8, TS = kTile * LD;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* Ks = reinterpret_cast<bf16*>(smem);           // [64][LD] this block's keys
  bf16* Vs = Ks + kRows * LD;                         // [64][LD]
  bf16* Qb = Vs + kRows * LD;                         // 2 x [64][LD] query tiles (double-buffered)
  bf16* Gb = Qb + 2 * TS;                             // 2 x [64][LD] their dout
  float* Lb = reinterpret_cast<float*>(Gb + 2 * TS);  // 2 x [64] lse of the tile's queries
  float* Rb = Lb + 2 * kTile;                         // 2 x [64] drow
  int* Fb = reinterpret_cast<int*>(Rb + 2 * kTile);   // 2 x [64] first visible key (packed)
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, c = lane % 4;
  const int64_t s = blockIdx.z, h = blockIdx.y, kvh = h / geo.group, hd = a.head_dim, t = a.t;
  const int64_t k0 = static_cast<int64_t>(blockIdx.x) * kRows;  // early keys (most queries) first
  const int nk = static_cast<int>(k0 + kRows < t ? kRows : t - k0);
  const int64_t kvoff = (s * t + k0) * geo.kvd + kvh * hd;
  fill_tile<D>(Ks, a.k + kvoff, in.k ? in.k + kvoff : nullptr, geo.kvd, nk, hd, tid, vec);
  fill_tile<D>(Vs, a.v + kvoff, in.v ? in.v + kvoff : nullptr, geo.kvd, nk, hd, tid, vec);
  int64_t key[2];
  bool kvis[2];
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    key[u] = k0 + warp * 16 + g + 8 * u;
    kvis[u] = key[u] < t && a.mask[s * t + key[u]] != 0.f;
  }
  const bool wkeys_real = __all_sync(0xffffffffu, kvis[0] && kvis[1]);
  const int64_t wkey_min = k0 + warp * 16, wkey_max = wkey_min + 15;
  const float sl2 = geo.scale * kLog2e;
  float dk[DN][4], dv[DN][4];
#pragma unroll
  for (int dn = 0; dn < DN; ++dn)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[dn][e] = dv[dn][e] = 0.f;
  // steps: the query tiles from k0 on (queries before k0 see none of these keys)
  const int64_t steps = (t - k0 + kTile - 1) / kTile;
  auto issue = [&](int64_t it, int buf) {  // query tile of step `it` into buffer `buf` (one cp.async group)
    const int64_t i0 = k0 + it * kTile;
    const int nq = static_cast<int>(i0 + kTile < t ? kTile : t - i0);
    const int64_t qoff = (s * t + i0) * geo.qd + h * hd;
    fill_tile<D>(Qb + buf * TS, a.q + qoff, in.q ? in.q + qoff : nullptr, geo.qd, nq, hd, tid, vec);
    fill_tile<D>(Gb + buf * TS, a.dout + qoff, in.dout ? in.dout + qoff : nullptr, geo.qd, nq, hd, tid, vec);
    if (tid < kTile) {
      const int64_t row = i0 + tid;
      const bool inr = tid < nq;
      Lb[buf * kTile + tid] = inr ? a.lse[(s * t + row) * a.heads + h] * kLog2e : INFINITY;  // log2 units
      Rb[buf * kTile + tid] = inr ? drow[(s * t + row) * a.heads + h] : 0.f;
      Fb[buf * kTile + tid] = (inr && a.first) ? a.first[s * t + row] : 0;
    }
    cp_async_commit();
  };
  issue(0, 0);
  for (int64_t it = 0; it < steps; ++it) {
    const int buf = static_cast<int>(it & 1);
    if (it + 1 < steps) {  // the next query tile streams in while this one is used
      issue(it + 1, buf ^ 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // this tile (and K / V, the first time) is visible to all warps
    const int64_t i0 = k0 + it * kTile;
    const int nq = static_cast<int>(i0 + kTile < t ? kTile : t - i0);
    const bf16* Qs = Qb + buf * TS;
    const bf16* Gs = Gb + buf * TS;
    const float* Ls = Lb + buf * kTile;
    const float* Rs = Rb + buf * kTile;
    const int* Fs = Fb + buf * kTile;
    const int64_t tfirst_max = a.first ? warp_max(static_cast<int64_t>(max(Fs[lane], Fs[lane + 32]))) : 0;
    {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int q0 = half * HALF;
        if (q0 >= nq) break;  // block-uniform
        float st[NTH][4], dpt[NTH][4];
#pragma unroll
        for (int nt = 0; nt < NTH; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) st[nt][e] = dpt[nt][e] = 0.f;
        mma_abt<D, NTH>(st, Ks, warp * 16, Qs, q0, lane);   // S^T = K Q^T
        mma_abt<D, NTH>(dpt, Vs, warp * 16, Gs, q0, lane);  // dP^T = V dO^T
        // rows are keys (u), columns queries. Warp-uniform fast path: the warp's keys are all
        // real, all queries of this half exist, come at or after the warp's last key and have
        // their segment start at or before its first key: every pair is visible.
        const bool full = wkeys_real && q0 + HALF <= nq && wkey_max <= i0 + q0 && tfirst_max <= wkey_min;
#pragma unroll
        for (int nt = 0; nt < NTH; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int u = e >> 1, qi = q0 + nt * 8 + 2 * c + (e & 1);
            const bool vis = full || (kvis[u] && qi < nq && key[u] <= i0 + qi && key[u] >= Fs[qi]);
            const float p = vis ? ex2(fmaf(st[nt][e], sl2, -Ls[qi])) : 0.f;
            dpt[nt][e] = p * (dpt[nt][e] - Rs[qi]) * geo.scale;  // ds
            st[nt][e] = p;
          }
        mma_pt<D, HALF / 16>(dv, st, Gs, q0, lane);   // dV += P^T dO
        mma_pt<D, HALF / 16>(dk, dpt, Qs, q0, lane);  // dK += dS^T Q
      }
    }
    __syncthreads();  // every warp is done with this buffer before it is refilled
  }
  const int64_t ld = out.per_head ? geo.qd : geo.kvd, col = (out.per_head ? h : kvh) * hd;
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    if (key[u] >= t) continue;
    const int64_t r = s * t + key[u];
#pragma unroll
    for (int dn = 0; dn < DN; ++dn)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int d = dn * 8 + 2 * c + e;
        if (d < hd) {
          out.k[r * ld + col + d] = dk[dn][2 * u + e];
          out.v[r * ld + col + d] = dv[dn][2 * u + e];
        }
      }
  }
}

// dk[r, kvh, d] = sum over the group's query heads j (in order) of the partial
// [r, kvh * group + j, d]; the same for dv. Fixed order: deterministic.
__global__ void dkv_reduce_kernel(const float* pk, const float* pv, float* dk, float* dv, int64_t n, Geo geo,
                                  int64_t hd) {
  const int64_t total = n * geo.kvd;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = e / geo.kvd, c = e % geo.kvd, kvh = c / hd, d = c % hd;
    const int64_t base = r * geo.qd + kvh * geo.group * hd + d;
    float sk = 0.f, sv = 0.f;
    for (int64_t j = 0; j < geo.group; ++j) {
      sk += pk[base + j * hd];
      sv += pv[base + j * hd];
    }
    dk[e] = sk;
    dv[e] = sv;
  }
}

// ---- launch ----------------------------------------------------------------------

template <class F>
Status with_d(int64_t hd, F&& f) {
  if (hd <= 32) return f(std::integral_constant<int, 32>{});
  if (hd <= 64) return f(std::integral_constant<int, 64>{});
  return f(std::integral_constant<int, 128>{});
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <int D, bool S1>
Status launch_dq(const AttnBwdArgs& a, const Geo& geo, const float* drow, const Bf16In& in, bool vec) {
  Status s = set_smem(dq_kernel<D, S1>, dq_smem<D, S1>());
  if (!s.ok()) return s;
  const unsigned tiles = static_cast<unsigned>((a.t + kRows - 1) / kRows);
  dq_kernel<D, S1><<<dim3(tiles, static_cast<unsigned>(a.heads), static_cast<unsigned>(a.b)), kThreads,
                     dq_smem<D, S1>()>>>(a, geo, drow, in, vec);
  return launched("attn_dq_tc_kernel");
}

template <int D, bool SV>
Status launch_fwd(const AttnFwdArgs& a, const Geo& geo, const Bf16In& in, bool vec) {
  constexpr size_t bytes = fwd_smem<D, SV>();
  Status s = set_smem(fwd_kernel<D, SV>, bytes);
  if (!s.ok()) return s;
  const dim3 grid(static_cast<unsigned>((a.tq + kRows - 1) / kRows), static_cast<unsigned>(a.heads),
                  static_cast<unsigned>(a.b));
  fwd_kernel<D, SV><<<grid, kThreads, bytes>>>(a, geo, in, vec);
  return launched("attn_fwd_tc_kernel");
}

// bf16 copies of the listed fp32 operands (q, k, v[, dout]) in one scratch
// buffer, cast once here instead of in every block that loads a tile (the
// tiles of a kv head are read by all its query heads' blocks). Exact: the
// kernels round to bf16 anyway. counts[i] elements each.
inline Status bf16_copies(Scratch* sc, const float* const* src, const int64_t* counts, int n, const bf16** dst) {
  int64_t total = 0;
  for (int i = 0; i < n; ++i) total += (counts[i] + 7) / 8 * 8;  // 16-byte aligned parts
  Status st = sc->alloc(static_cast<size_t>(total) * sizeof(bf16));
  if (!st.ok()) return st;
  int64_t off = 0;
  for (int i = 0; i < n; ++i) {
    bf16* p = sc->as<bf16>(static_cast<size_t>(off) * sizeof(bf16));
    st = cast_bf16_cuda(src[i], p, counts[i]);
    if (!st.ok()) return st;
    dst[i] = p;
    off += (counts[i] + 7) / 8 * 8;
  }
  return Status::Ok();
}

// The forward with the value tile single-buffered (SV) or double-buffered.
template <bool SV>
Status fwd_tc_with(const AttnFwdArgs& a, const Geo& geo) {
  const bool vec = a.head_dim % 4 == 0 && aligned16(a.q) && aligned16(a.k) && aligned16(a.v);
  // the training / scoring layout (k / v exactly the query rows) gets bf16 copies;
  // a prefill reading a cache converts as it loads (the cache may be much larger)
  Scratch sc;
  Bf16In in;
  const bool layout = a.head_dim % 8 == 0 && a.slot0 == 0 && a.seq_stride == a.tq;
  if (layout && a.q16 && a.k16 && a.v16) {  // the caller's copies
    in.q = static_cast<const bf16*>(a.q16); in.k = static_cast<const bf16*>(a.k16); in.v = static_cast<const bf16*>(a.v16);
  } else if (layout) {
    const int64_t n = a.b * a.tq;
    const float* src[3] = {a.q, a.k, a.v};
    const int64_t counts[3] = {n * geo.qd, n * geo.kvd, n * geo.kvd};
    const bf16* dst[3];
    Status st = bf16_copies(&sc, src, counts, 3, dst);
    if (!st.ok()) return st;
    in.q = dst[0]; in.k = dst[1]; in.v = dst[2];
  }
  return with_d(a.head_dim, [&](auto dc) -> Status {
    constexpr int D = decltype(dc)::value;
    return launch_fwd<D, SV>(a, geo, in, vec);
  });
}

// The backward with the dq kernel's key / value tiles single-buffered (S1) or double-buffered.
template <bool S1>
Status bwd_tc_with(const AttnBwdArgs& a, const Geo& geo, const float* drow) {
  const bool vec = a.head_dim % 4 == 0 && aligned16(a.q) && aligned16(a.k) && aligned16(a.v) && aligned16(a.dout);
  Scratch sc;
  Bf16In in;
  if (a.head_dim % 8 == 0) {
    const int64_t n = a.b * a.t;
    const float* src[4] = {a.dout, a.q, a.k, a.v};
    const int64_t counts[4] = {n * geo.qd, n * geo.qd, n * geo.kvd, n * geo.kvd};
    const bf16* dst[4];
    const bool given = a.q16 && a.k16 && a.v16;  // the forward's copies: only dout is cast here
    Status st = bf16_copies(&sc, src, counts, given ? 1 : 4, dst);
    if (!st.ok()) return st;
    in.dout = dst[0];
    if (given) {
      in.q = static_cast<const bf16*>(a.q16); in.k = static_cast<const bf16*>(a.k16); in.v = static_cast<const bf16*>(a.v16);
    } else {
      in.q = dst[1]; in.k = dst[2]; in.v = dst[3];
    }
  }
  return with_d(a.head_dim, [&](auto dc) -> Status {
    constexpr int D = decltype(dc)::value;
    Status s = launch_dq<D, S1>(a, geo, drow, in, vec);
    if (!s.ok()) return s;
    s = set_smem(dkv_kernel<D>, dkv_smem<D>());
    if (!s.ok()) return s;
    const unsigned tiles = static_cast<unsigned>((a.t + kRows - 1) / kRows);
    DkvOut out{a.dk, a.dv, geo.group > 1};
    Scratch parts;  // per-query-head dK, dV (grouped-query attention)
    const int64_t n = a.b * a.t;
    if (out.per_head) {
      s = parts.alloc(static_cast<size_t>(2 * n * geo.qd) * sizeof(float));
      if (!s.ok()) return s;
      out.k = parts.as<float>();
      out.v = out.k + n * geo.qd;
    }
    dkv_kernel<D><<<dim3(tiles, static_cast<unsigned>(a.heads), static_cast<unsigned>(a.b)), kThreads,
                    dkv_smem<D>()>>>(a, geo, drow, in, vec, out);
    s = launched("attn_dkv_tc_kernel");
    if (!s.ok() || !out.per_head) return s;
    dkv_reduce_kernel<<<grid_for(n * geo.kvd, 256, 8192), 256>>>(out.k, out.v, a.dk, a.dv, n, geo, a.head_dim);
    return launched("attn_dkv_reduce_kernel");
  });
}

}  // namespace
}  // namespace rlvr::engine::ops::attn
