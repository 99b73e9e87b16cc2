// See gemm.h for the reduction-order contract. Structure:
//  - the output is cut into tasks of (kMB rows) x (kNR = 32 columns);
//  - a task walks K in blocks of kKC rows. Per block it takes its B column
//    panel (K x 32) either from a pre-packed panel buffer (sgemm_bpacked: the
//    engine's cached weights), or packs it into a contiguous thread-local
//    buffer (when it pays: many rows, strided B, or a ragged last panel), or
//    reads B in place; then runs kMR x 32 register-tiled micro-kernels over
//    its rows. Between K blocks a micro-tile's accumulators are parked in a
//    per-task fp32 scratch and reloaded unchanged, so every output element is
//    still ONE running sum over p = 0..K-1 in order (a float stored and
//    reloaded is the same float): K blocking only keeps the B block in cache;
//  - tasks are ordered M-block-major and split contiguously over the thread
//    pool, so one thread mostly reuses the same A block across N panels.
#include "engine/gemm.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/simd.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RLVR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RLVR_CLONES
#endif

namespace rlvr::engine {
namespace {

using cpu::vf;
using cpu::kLanes;

constexpr int kNR = 2 * kLanes;  // 32 columns per panel
static_assert(kNR == kPanelCols, "gemm.h's panel width");
constexpr int kMR = 6;           // rows per micro-tile
constexpr int64_t kMB = 192;     // rows per task (multiple of kMR): one M block for <= 192-row batches
constexpr int64_t kKC = 256;     // K rows per block (a 32 KB B block)
constexpr int64_t kWholePackMax = int64_t{1} << 24;  // floats (64 MB) for packing a whole raw B once

// A plain broadcast (one vbroadcastss from memory). cpu::vsplat is vf{} + x,
// an extra add per element of A (it maps -0 to +0, which cannot change a sum
// that starts at +0, so the results are the same).
RLVR_INLINE vf bcast(float x) {
  const vf v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

// One micro-tile: R rows x 32 columns over kc values of p. `b` is a panel
// block with row stride `ldb` whose 32 columns are all readable. The
// accumulators start at 0 (first) or from `park` (R x 32), and end in `park`
// (!last) or, finished, in C (+ bias, += C when accumulating).
template <int R>
RLVR_INLINE void micro(int64_t kc, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb,
                       float* park, bool first, bool last, float* c, int64_t ldc, int64_t ncols, bool accumulate,
                       const float* bias) {
  vf acc0[R], acc1[R];
  if (first) {
    for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = vf{};
  } else {
    for (int r = 0; r < R; ++r) {
      acc0[r] = cpu::vload(park + r * kNR);
      acc1[r] = cpu::vload(park + r * kNR + kLanes);
    }
  }
  for (int64_t p = 0; p < kc; ++p) {
    const vf b0 = cpu::vload(b + p * ldb), b1 = cpu::vload(b + p * ldb + kLanes);
    for (int r = 0; r < R; ++r) {
      const vf av = bcast(a[r * a_rs + p * a_cs]);
      acc0[r] += av * b0;
      acc1[r] += av * b1;
    }
  }
  if (!last) {
    for (int r = 0; r < R; ++r) {
      cpu::vstore(park + r * kNR, acc0[r]);
      cpu::vstore(park + r * kNR + kLanes, acc1[r]);
    }
    return;
  }
  for (int r = 0; r < R; ++r) {
    float* crow = c + r * ldc;
    if (ncols == kNR && !bias) {
      if (accumulate) {
        acc0[r] = cpu::vload(crow) + acc0[r];
        acc1[r] = cpu::vload(crow + kLanes) + acc1[r];
      }
      cpu::vstore(crow, acc0[r]);
      cpu::vstore(crow + kLanes, acc1[r]);
      continue;
    }
    alignas(64) float tmp[kNR];
    cpu::vstore(tmp, acc0[r]);
    cpu::vstore(tmp + kLanes, acc1[r]);
    if (bias) for (int64_t j = 0; j < ncols; ++j) tmp[j] = tmp[j] + bias[j];
    if (accumulate) {
      for (int64_t j = 0; j < ncols; ++j) crow[j] += tmp[j];
    } else {
      for (int64_t j = 0; j < ncols; ++j) crow[j] = tmp[j];
    }
  }
}

// Bp: pre-packed panels (sgemm_bpacked) or null (B, ldb raw).
// Runs the K blocks starting at kb0, kb0 + kKC, ... below kb1 of one task;
// `park` holds (m1 - m0) x 32 floats when K > kKC.
RLVR_CLONES void run_task(int64_t m0, int64_t m1, int64_t n0, int64_t K, int64_t kb0, int64_t kb1, const float* A,
                          int64_t a_rs, int64_t a_cs, const float* B, int64_t ldb, const float* Bp, int64_t N,
                          float* C, int64_t ldc, bool accumulate, const float* bias, std::vector<float>& panel,
                          float* park) {
  const int64_t ncols = std::min<int64_t>(kNR, N - n0);
  const bool ragged = ncols < kNR;
  const bool pack = !Bp && (ragged || (m1 - m0 >= 16 && ldb != kNR));
  const int64_t kc_max = std::min(K, kKC);
  if (pack) panel.resize(static_cast<size_t>(kc_max * kNR));
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
      float* dst = panel.data();
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = B + (k0 + p) * ldb + n0;
        if (!ragged) {
          cpu::vstore(dst + p * kNR, cpu::vload(src));
          cpu::vstore(dst + p * kNR + kLanes, cpu::vload(src + kLanes));
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
    const float* ak = A + k0 * a_cs;
    float* pk = park;
    int64_t i = m0;
    for (; i + kMR <= m1; i += kMR)
      micro<kMR>(kc, ak + i * a_rs, a_rs, a_cs, b, bstride, pk + (i - m0) * kNR, first, last, C + i * ldc + n0, ldc,
                 ncols, accumulate, bb);
#define RLVR_TAIL(R)                                                                                          \
  case R:                                                                                                     \
    micro<R>(kc, ak + i * a_rs, a_rs, a_cs, b, bstride, pk + (i - m0) * kNR, first, last, C + i * ldc + n0, ldc, \
             ncols, accumulate, bb);                                                                          \
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
            cpu::vstore(dst, cpu::vload(src + n0));
            cpu::vstore(dst + kLanes, cpu::vload(src + n0 + kLanes));
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
      run_task(m0, m1, np * kNR, K, kb0, kb1, A, a_rs, a_cs, B, ldb, Bp, N, C, ldc, accumulate, bias, panel, pk);
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

// Panel q of W^T from W [N, K]: 16 x 16 blocks transposed in registers.
RLVR_CLONES void pack_panel(const float* W, int64_t N, int64_t K, int64_t q, float* dst) {
  const int64_t n0 = q * kNR, ncols = std::min<int64_t>(kNR, N - n0);
  int64_t p0 = 0;
  if (ncols == kNR) {
    for (; p0 + kLanes <= K; p0 += kLanes)
      for (int jh = 0; jh < kNR; jh += kLanes) {
        vf r[kLanes];
        for (int j = 0; j < kLanes; ++j) r[j] = cpu::vload(W + (n0 + jh + j) * K + p0);
        tr_stage<1>(r);
        tr_stage<2>(r);
        tr_stage<4>(r);
        tr_stage<8>(r);
        for (int p = 0; p < kLanes; ++p) cpu::vstore(dst + (p0 + p) * kNR + jh, r[p]);
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

}  // namespace

void pack_weight_panels(const float* W, int64_t N, int64_t K, float* out) {
  const int64_t npanels = (N + kNR - 1) / kNR;
  cpu::parallel_for(npanels, 1, [&](int64_t q0, int64_t q1, int) {
    for (int64_t q = q0; q < q1; ++q) pack_panel(W, N, K, q, out + q * K * kNR);
  });
}

}  // namespace rlvr::engine
