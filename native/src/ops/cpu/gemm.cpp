// See gemm.h for the reduction-order contract. Structure:
//  - the output is cut into tasks of (kMB rows) x (kNR = 32 columns);
//  - a task walks K in blocks of kKC rows. Per block it takes its B column
//    panel (K x 32) either from a pre-packed panel buffer (sgemm_bpacked: the
//    engine's cached weights), or packs it into a contiguous thread-local
//    buffer (when it pays: many rows, strided B, or a ragged last panel), or
//    reads B in place; then runs register-tiled micro-kernels (below) over
//    its rows. Between K blocks a micro-tile's accumulators are parked in a
//    per-task fp32 scratch and reloaded unchanged, so every output element is
//    still ONE running sum over p = 0..K-1 in order (a float stored and
//    reloaded is the same float): K blocking only keeps the B block in cache;
//  - tasks are ordered M-block-major and split contiguously over the thread
//    pool, so one thread mostly reuses the same A block across N panels.
// Micro-tile per instruction-set path (kernels/cpu/isa.h), sized to the
// vector registers so the accumulators never spill:
//    avx512: 6 rows x 32 columns, 12 zmm accumulators (of 32);
//    avx2:   6 x 16 (each half of a panel in turn), 12 ymm (of 16);
//    neon:   5 x 16, 20 q accumulators (+ 4 for B, 5 for A: 29 of 32);
//    generic: 2 x 16 in 128-bit vectors, 8 (of SSE2's 16).
// The tile only decides which lane computes an element, never its sequence
// of operations, so the paths agree bitwise wherever they agree on FMA.
#include "ops/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/simd.h"

namespace rlvr::engine {
namespace {

using cpu::vf;
using cpu::kLanes;

constexpr int kNR = 2 * kLanes;  // 32 columns per panel
static_assert(kNR == kPanelCols, "gemm.h's panel width");
constexpr int64_t kMB = 192;     // rows per task: one M block for <= 192-row batches
constexpr int64_t kKC = 256;     // K rows per block (a 32 KB B block)
constexpr int64_t kWholePackMax = int64_t{1} << 24;  // floats (64 MB) for packing a whole raw B once

using cpu::v4f;
using cpu::v8f;

// The micro-tile of each path: V the register vector, R rows, C columns
// (C = 32: the whole panel at once; C = 16: its two halves in turn).
template <cpu::Isa I> struct Tile;
#if defined(RLVR_ISA_X86)
template <> struct Tile<cpu::Isa::Avx512> { using V = vf; static constexpr int R = 6, C = 32; };
template <> struct Tile<cpu::Isa::Avx2> { using V = v8f; static constexpr int R = 6, C = 16; };
#endif
#if defined(RLVR_ISA_ARM64)
template <> struct Tile<cpu::Isa::Neon> { using V = v4f; static constexpr int R = 5, C = 16; };
#endif
template <> struct Tile<cpu::Isa::Generic> { using V = v4f; static constexpr int R = 2, C = 16; };

template <class V> RLVR_INLINE V vld(const float* p) { V v; std::memcpy(&v, p, sizeof v); return v; }
template <class V> RLVR_INLINE void vst(float* p, V v) { std::memcpy(p, &v, sizeof v); }

// A plain broadcast (one vbroadcastss / dup). cpu::vsplat is vf{} + x, an
// extra add per element of A (it maps -0 to +0, which cannot change a sum that
// starts at +0, so the results are the same). Spelled out per width: GCC 12
// turns a pack-expanded index list into lane-by-lane inserts.
template <class V> RLVR_INLINE V bcast(float x);
#if defined(RLVR_ISA_X86)
template <> inline __attribute__((always_inline)) vf bcast<vf>(float x) {
  const vf v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
template <> inline __attribute__((always_inline)) v8f bcast<v8f>(float x) {
  const v8f v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
}
#endif
template <> inline __attribute__((always_inline)) v4f bcast<v4f>(float x) {
  const v4f v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0);
}

// One micro-tile: R rows x C columns over kc values of p. `b` (row stride
// `ldb`), `park` (row stride kNR), c and bias point at the tile's first
// column; all C columns of b are readable, `ncols` (<= C) of them are real.
// The accumulators start at 0 (first) or from `park`, and end in `park`
// (!last) or, finished, in C (+ bias, += C when accumulating).
template <class V, int R, int C>
RLVR_INLINE void micro(int64_t kc, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb,
                       float* park, bool first, bool last, float* c, int64_t ldc, int64_t ncols, bool accumulate,
                       const float* bias) {
  constexpr int L = sizeof(V) / sizeof(float), NV = C / L;
  static_assert(C % L == 0, "tile width is whole vectors");
  V acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = first ? V{} : vld<V>(park + r * kNR + v * L);
  for (int64_t p = 0; p < kc; ++p) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = vld<V>(b + p * ldb + v * L);
    for (int r = 0; r < R; ++r) {
      const V av = bcast<V>(a[r * a_rs + p * a_cs]);
      for (int v = 0; v < NV; ++v) acc[r][v] += av * bv[v];
    }
  }
  if (!last) {
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) vst<V>(park + r * kNR + v * L, acc[r][v]);
    return;
  }
  for (int r = 0; r < R; ++r) {
    float* crow = c + r * ldc;
    if (ncols == C && !bias) {
      for (int v = 0; v < NV; ++v) {
        V x = acc[r][v];
        if (accumulate) x = vld<V>(crow + v * L) + x;
        vst<V>(crow + v * L, x);
      }
      continue;
    }
    alignas(64) float tmp[C];
    for (int v = 0; v < NV; ++v) vst<V>(tmp + v * L, acc[r][v]);
    if (bias) for (int64_t j = 0; j < ncols; ++j) tmp[j] = tmp[j] + bias[j];
    if (accumulate) {
      for (int64_t j = 0; j < ncols; ++j) crow[j] += tmp[j];
    } else {
      for (int64_t j = 0; j < ncols; ++j) crow[j] = tmp[j];
    }
  }
}

// The rows [m0, m1) of one K block against one panel block, tile by tile.
template <cpu::Isa I>
RLVR_INLINE void tile_rows(int64_t m0, int64_t m1, int64_t kc, const float* ak, int64_t a_rs, int64_t a_cs,
                           const float* b, int64_t bstride, float* park, bool first, bool last, float* C, int64_t ldc,
                           int64_t n0, int64_t ncols, bool accumulate, const float* bb) {
  using T = Tile<I>;
  using V = typename T::V;
  constexpr int R = T::R, TC = T::C;
  for (int c0 = 0; c0 < kNR && c0 < ncols; c0 += TC) {
    const int64_t nc = std::min<int64_t>(TC, ncols - c0);
    const float* bc = b + c0;
    const float* biasc = bb ? bb + c0 : nullptr;
    int64_t i = m0;
    for (; i + R <= m1; i += R)
      micro<V, R, TC>(kc, ak + i * a_rs, a_rs, a_cs, bc, bstride, park + (i - m0) * kNR + c0, first, last,
                      C + i * ldc + n0 + c0, ldc, nc, accumulate, biasc);
#define RLVR_TAIL(Rt)                                                                                        \
  case Rt:                                                                                                   \
    if constexpr (Rt < R)                                                                                    \
      micro<V, Rt, TC>(kc, ak + i * a_rs, a_rs, a_cs, bc, bstride, park + (i - m0) * kNR + c0, first, last, \
                       C + i * ldc + n0 + c0, ldc, nc, accumulate, biasc);                                   \
    break;
    switch (m1 - i) {
      RLVR_TAIL(5)
      RLVR_TAIL(4)
      RLVR_TAIL(3)
      RLVR_TAIL(2)
      RLVR_TAIL(1)
      default: break;
    }
#undef RLVR_TAIL
  }
}

// Bp: pre-packed panels (sgemm_bpacked) or null (B, ldb raw).
// Runs the K blocks starting at kb0, kb0 + kKC, ... below kb1 of one task;
// `park` holds (m1 - m0) x 32 floats when K > kKC.
template <cpu::Isa I>
RLVR_INLINE void run_task_body(int64_t m0, int64_t m1, int64_t n0, int64_t K, int64_t kb0, int64_t kb1,
                               const float* A, int64_t a_rs, int64_t a_cs, const float* B, int64_t ldb,
                               const float* Bp, int64_t N, float* C, int64_t ldc, bool accumulate, const float* bias,
                               std::vector<float>* panel, float* park) {
  const int64_t ncols = std::min<int64_t>(kNR, N - n0);
  const bool ragged = ncols < kNR;
  const bool pack = !Bp && (ragged || (m1 - m0 >= 16 && ldb != kNR));
  const int64_t kc_max = std::min(K, kKC);
  if (pack) panel->resize(static_cast<size_t>(kc_max * kNR));
  const float* bb = bias ? bias + n0 : nullptr;
  for (int64_t k0 = kb0; k0 < kb1; k0 += kKC) {
    const int64_t kc = std::min(kKC, K - k0);
    const bool first = k0 == 0, last = k0 + kc == K;
    const float* b;
    int64_t bstride;
    if (Bp) {
      b = Bp + (n0 / kNR) * K * kNR + k0 * kNR;
      bstride = kNR;
    } else if (pack) {
      float* dst = panel->data();
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = B + (k0 + p) * ldb + n0;
        if (!ragged) {
          std::memcpy(dst + p * kNR, src, sizeof(float) * kNR);
        } else {
          std::memcpy(dst + p * kNR, src, sizeof(float) * ncols);
          for (int64_t j = ncols; j < kNR; ++j) dst[p * kNR + j] = 0.f;
        }
      }
      b = dst;
      bstride = kNR;
    } else {
      b = B + k0 * ldb + n0;
      bstride = ldb;
    }
    tile_rows<I>(m0, m1, kc, A + k0 * a_cs, a_rs, a_cs, b, bstride, park, first, last, C, ldc, n0, ncols, accumulate,
                 bb);
  }
}
RLVR_ISA_DISPATCH(void, run_task,
                  (int64_t m0, int64_t m1, int64_t n0, int64_t K, int64_t kb0, int64_t kb1, const float* A,
                   int64_t a_rs, int64_t a_cs, const float* B, int64_t ldb, const float* Bp, int64_t N, float* C,
                   int64_t ldc, bool accumulate, const float* bias, std::vector<float>* panel, float* park),
                  (m0, m1, n0, K, kb0, kb1, A, a_rs, a_cs, B, ldb, Bp, N, C, ldc, accumulate, bias, panel, park))

void gemm_driver(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* B,
                 int64_t ldb, const float* Bp, float* C, int64_t ldc, bool accumulate, const float* bias) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // empty sum: 0 (+ bias)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float v = bias ? 0.f + bias[j] : 0.f;
        C[i * ldc + j] = accumulate ? C[i * ldc + j] + v : v;
      }
    return;
  }
  const int64_t mblocks = (M + kMB - 1) / kMB, npanels = (N + kNR - 1) / kNR;
  // A raw B used by several M blocks would be packed once per task (and read
  // with a large stride each time): pack it once, reading whole rows.
  thread_local std::vector<float> whole;
  if (!Bp && mblocks > 1 && K * npanels * kNR <= kWholePackMax) {
    whole.resize(static_cast<size_t>(K * npanels * kNR));
    float* out = whole.data();
    cpu::parallel_for(K, 16, [&](int64_t p0, int64_t p1, int) {
      for (int64_t p = p0; p < p1; ++p) {
        const float* src = B + p * ldb;
        for (int64_t q = 0; q < npanels; ++q) {
          float* dst = out + q * K * kNR + p * kNR;
          const int64_t n0 = q * kNR, nc = std::min<int64_t>(kNR, N - n0);
          if (nc == kNR) {
            std::memcpy(dst, src + n0, sizeof(float) * kNR);
          } else {
            for (int64_t j = 0; j < kNR; ++j) dst[j] = j < nc ? src[n0 + j] : 0.f;
          }
        }
      }
    });
    Bp = out;
  }
  const int64_t tasks = mblocks * npanels;
  const int64_t flops_per_task = std::min<int64_t>(M, kMB) * kNR * K;
  const int64_t min_tasks = std::max<int64_t>(1, (1 << 18) / std::max<int64_t>(1, flops_per_task));
  // Loop order. Task-major (each task runs its whole K; a thread's tasks
  // share their A block) suits A blocks that stay in cache. When A is large
  // (long K, e.g. the LM-head backward's dlogits [rows, vocab]) and the output
  // small, every panel would stream all of A again: then K-block-major (each
  // thread runs one K block over all its tasks, parking their accumulators),
  // so A is read once. Both run the same micro-kernel sequence per element.
  const bool k_outer = K > kKC && M * K * 4 > (int64_t{1} << 20) && M * N * 4 <= (int64_t{4} << 20);
  cpu::parallel_for(tasks, min_tasks, [&](int64_t t0, int64_t t1, int) {
    thread_local std::vector<float> panel, park;
    auto task = [&](int64_t t, int64_t kb0, int64_t kb1, float* pk) {
      const int64_t mb = t / npanels, np = t % npanels;
      const int64_t m0 = mb * kMB, m1 = std::min(M, m0 + kMB);
      run_task(m0, m1, np * kNR, K, kb0, kb1, A, a_rs, a_cs, B, ldb, Bp, N, C, ldc, accumulate, bias, &panel, pk);
    };
    if (!k_outer) {
      if (K > kKC) park.resize(static_cast<size_t>(std::min(M, kMB) * kNR));
      for (int64_t t = t0; t < t1; ++t) task(t, 0, K, park.data());
      return;
    }
    const int64_t stride = std::min(M, kMB) * kNR;  // park floats per task
    park.resize(static_cast<size_t>((t1 - t0) * stride));
    for (int64_t k0 = 0; k0 < K; k0 += kKC)
      for (int64_t t = t0; t < t1; ++t) task(t, k0, std::min(K, k0 + kKC), park.data() + (t - t0) * stride);
  });
}

}  // namespace

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* B, int64_t ldb,
           float* C, int64_t ldc, bool accumulate, const float* bias) {
  gemm_driver(M, N, K, A, a_rs, a_cs, B, ldb, nullptr, C, ldc, accumulate, bias);
}

void sgemm_bpacked(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* Bp,
                   float* C, int64_t ldc, bool accumulate, const float* bias) {
  gemm_driver(M, N, K, A, a_rs, a_cs, nullptr, 0, Bp, C, ldc, accumulate, bias);
}

namespace {

// 16 x 16 transpose of r[0..16) in registers: four butterfly stages; at
// distance S rows i and i + S swap their off-diagonal S-blocks.
template <int S, size_t... C>
RLVR_INLINE vf tr_lo(vf a, vf b, std::index_sequence<C...>) {
  return __builtin_shufflevector(a, b, ((C & S) ? (16 + C - S) : C)...);
}
template <int S, size_t... C>
RLVR_INLINE vf tr_hi(vf a, vf b, std::index_sequence<C...>) {
  return __builtin_shufflevector(a, b, ((C & S) ? (16 + C) : (C + S))...);
}
template <int S>
RLVR_INLINE void tr_stage(vf* r) {
  for (int i = 0; i < kLanes; ++i)
    if (!(i & S)) {
      const vf a = r[i], b = r[i + S];
      r[i] = tr_lo<S>(a, b, std::make_index_sequence<kLanes>{});
      r[i + S] = tr_hi<S>(a, b, std::make_index_sequence<kLanes>{});
    }
}
static_assert(kLanes == 16, "tr_stage assumes 16 lanes");

// Panel q of W^T from W [N, K]: 16 x 16 blocks transposed in registers (a
// data move: the same floats on every path).
template <cpu::Isa I>
RLVR_INLINE void pack_panel_body(const float* W, int64_t N, int64_t K, int64_t q, float* dst) {
  const int64_t n0 = q * kNR, ncols = std::min<int64_t>(kNR, N - n0);
  int64_t p0 = 0;
  // 16 x 16 register blocks only where a vf is one register (AVX-512);
  // elsewhere the element loop below moves the same floats.
  if constexpr (I == cpu::Isa::Avx512) {
    if (ncols == kNR) {
      for (; p0 + kLanes <= K; p0 += kLanes)
        for (int jh = 0; jh < kNR; jh += kLanes) {
          vf r[kLanes];
          for (int j = 0; j < kLanes; ++j) r[j] = vld<vf>(W + (n0 + jh + j) * K + p0);
          tr_stage<1>(r);
          tr_stage<2>(r);
          tr_stage<4>(r);
          tr_stage<8>(r);
          for (int p = 0; p < kLanes; ++p) vst<vf>(dst + (p0 + p) * kNR + jh, r[p]);
        }
    }
  }
  for (int64_t j = 0; j < kNR; ++j) {
    if (j < ncols) {
      const float* src = W + (n0 + j) * K;
      for (int64_t p = p0; p < K; ++p) dst[p * kNR + j] = src[p];
    } else {
      for (int64_t p = p0; p < K; ++p) dst[p * kNR + j] = 0.f;
    }
  }
}

RLVR_ISA_DISPATCH(void, pack_panel, (const float* W, int64_t N, int64_t K, int64_t q, float* dst),
                  (W, N, K, q, dst))

}  // namespace

void pack_weight_panels(const float* W, int64_t N, int64_t K, float* out) {
  const int64_t npanels = (N + kNR - 1) / kNR;
  cpu::parallel_for(npanels, 1, [&](int64_t q0, int64_t q1, int) {
    for (int64_t q = q0; q < q1; ++q) pack_panel(W, N, K, q, out + q * K * kNR);
  });
}

}  // namespace rlvr::engine
