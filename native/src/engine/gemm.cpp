// See gemm.h for the reduction-order contract. Structure:
//  - the output is cut into tasks of (kMB rows) x (kNR = 32 columns);
//  - a task packs its B column panel (K x 32, zero padded past N) into a
//    contiguous thread-local buffer (when it pays: many rows, strided B, or a
//    ragged last panel), then runs kMR x 32 register-tiled micro-kernels over
//    its rows, each looping over the whole K;
//  - tasks are ordered M-block-major and split contiguously over the thread
//    pool, so one thread mostly reuses the same A block across N panels.
#include "engine/gemm.h"

#include <algorithm>
#include <cstring>
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
constexpr int kMR = 6;           // rows per micro-tile
constexpr int64_t kMB = 96;      // rows per task (multiple of kMR)

// One micro-tile: R rows x 32 columns, full K. `b` is a panel with row stride
// `ldb` whose 32 columns are all readable.
template <int R>
RLVR_INLINE void micro(int64_t K, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
                       int64_t ldc, int64_t ncols, bool accumulate, const float* bias) {
  vf acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = vf{};
  for (int64_t p = 0; p < K; ++p) {
    const vf b0 = cpu::vload(b + p * ldb), b1 = cpu::vload(b + p * ldb + kLanes);
    for (int r = 0; r < R; ++r) {
      const vf av = cpu::vsplat(a[r * a_rs + p * a_cs]);
      acc0[r] += av * b0;
      acc1[r] += av * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    alignas(64) float tmp[kNR];
    cpu::vstore(tmp, acc0[r]);
    cpu::vstore(tmp + kLanes, acc1[r]);
    float* crow = c + r * ldc;
    if (bias) for (int64_t j = 0; j < ncols; ++j) tmp[j] = tmp[j] + bias[j];
    if (accumulate) {
      for (int64_t j = 0; j < ncols; ++j) crow[j] += tmp[j];
    } else {
      for (int64_t j = 0; j < ncols; ++j) crow[j] = tmp[j];
    }
  }
}

RLVR_CLONES void run_task(int64_t m0, int64_t m1, int64_t n0, int64_t K, const float* A, int64_t a_rs, int64_t a_cs,
                          const float* B, int64_t ldb, int64_t N, float* C, int64_t ldc, bool accumulate,
                          const float* bias, std::vector<float>& panel) {
  const int64_t ncols = std::min<int64_t>(kNR, N - n0);
  const float* b = B + n0;
  int64_t bstride = ldb;
  const bool ragged = ncols < kNR;
  if (ragged || (m1 - m0 >= 16 && ldb != kNR)) {
    panel.resize(static_cast<size_t>(K * kNR));
    float* dst = panel.data();
    for (int64_t p = 0; p < K; ++p) {
      const float* src = B + p * ldb + n0;
      std::memcpy(dst + p * kNR, src, sizeof(float) * ncols);
      for (int64_t j = ncols; j < kNR; ++j) dst[p * kNR + j] = 0.f;
    }
    b = dst;
    bstride = kNR;
  }
  const float* bb = bias ? bias + n0 : nullptr;
  int64_t i = m0;
  for (; i + kMR <= m1; i += kMR)
    micro<kMR>(K, A + i * a_rs, a_rs, a_cs, b, bstride, C + i * ldc + n0, ldc, ncols, accumulate, bb);
  switch (m1 - i) {
    case 5: micro<5>(K, A + i * a_rs, a_rs, a_cs, b, bstride, C + i * ldc + n0, ldc, ncols, accumulate, bb); break;
    case 4: micro<4>(K, A + i * a_rs, a_rs, a_cs, b, bstride, C + i * ldc + n0, ldc, ncols, accumulate, bb); break;
    case 3: micro<3>(K, A + i * a_rs, a_rs, a_cs, b, bstride, C + i * ldc + n0, ldc, ncols, accumulate, bb); break;
    case 2: micro<2>(K, A + i * a_rs, a_rs, a_cs, b, bstride, C + i * ldc + n0, ldc, ncols, accumulate, bb); break;
    case 1: micro<1>(K, A + i * a_rs, a_rs, a_cs, b, bstride, C + i * ldc + n0, ldc, ncols, accumulate, bb); break;
    default: break;
  }
}

}  // namespace

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* B, int64_t ldb,
           float* C, int64_t ldc, bool accumulate, const float* bias) {
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
  const int64_t tasks = mblocks * npanels;
  const int64_t flops_per_task = std::min<int64_t>(M, kMB) * kNR * K;
  const int64_t min_tasks = std::max<int64_t>(1, (1 << 18) / std::max<int64_t>(1, flops_per_task));
  cpu::parallel_for(tasks, min_tasks, [&](int64_t t0, int64_t t1, int) {
    thread_local std::vector<float> panel;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t mb = t / npanels, np = t % npanels;
      const int64_t m0 = mb * kMB, m1 = std::min(M, m0 + kMB);
      run_task(m0, m1, np * kNR, K, A, a_rs, a_cs, B, ldb, N, C, ldc, accumulate, bias, panel);
    }
  });
}

}  // namespace rlvr::engine
