// Deterministic, cache-blocked, vectorized fp32 GEMM of the CPU backend (cpu_ops.h).
//
//   C[i, j] (= | +=) sum_{p=0}^{K-1} A(i, p) * B[p * ldb + j]  (+ bias[j])
//   A(i, p) = A[i * a_rs + p * a_cs]   (row-major A: a_rs = lda, a_cs = 1;
//                                        transposed A: a_rs = 1, a_cs = lda)
//
// Reduction order contract (what decode-vs-score bitwise equality rests on):
// every output element is produced by ONE accumulator lane that starts at 0
// and adds A(i,p)*B(p,j) for p = 0, 1, ..., K-1 in that order, with no
// split-K (K blocking only parks that one running sum in memory and reloads
// it unchanged). The result is then (optionally) added to bias[j]
// and then (optionally) added to C. Tiling over M and N, the number of rows
// in a micro-tile, thread partitioning and panel packing only decide WHICH
// lane computes an element, never the sequence of floating-point operations,
// so C[i, :] depends only on A(i, :), B and K: not on M, not on the other
// rows, not on the thread count. (All micro-kernel variants share one source
// expression, so the compiler contracts a*b+c to FMA identically in each. The
// instruction-set path, kernels/cpu/isa.h, picks the tile; paths with FMA give
// bit-identical results, x86 generic rounds the product first.)
#pragma once
#include <cstdint>

namespace rlvr::engine {

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* B, int64_t ldb,
           float* C, int64_t ldc, bool accumulate, const float* bias = nullptr);

// Pre-packed B: W^T [K, N] stored as ceil(N / 32) column panels, panel q
// holding rows p = 0..K-1 of columns 32q..32q+31 contiguously (p * 32 + j),
// zero padded past N. Same arithmetic as sgemm on the unpacked matrix.
constexpr int kPanelCols = 32;
inline int64_t packed_panel_floats(int64_t N, int64_t K) {
  return (N + kPanelCols - 1) / kPanelCols * kPanelCols * K;
}
// out (packed_panel_floats(N, K)) = panels of W^T, from W [N, K] row-major.
void pack_weight_panels(const float* W, int64_t N, int64_t K, float* out);
void sgemm_bpacked(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* Bp,
                   float* C, int64_t ldc, bool accumulate, const float* bias = nullptr);

// y[M, N] = x[M, K] @ W[N, K]^T (+ bias), given Wp = pack_weight_panels(W).
inline void linear_fwd(int64_t M, int64_t N, int64_t K, const float* x, const float* Wp, const float* bias, float* y,
                       bool accumulate = false) {
  sgemm_bpacked(M, N, K, x, K, 1, Wp, y, N, accumulate, bias);
}
// dx[M, K] (+)= dy[M, N] @ W[N, K]
inline void linear_bwd_input(int64_t M, int64_t N, int64_t K, const float* dy, const float* W, float* dx,
                             bool accumulate) {
  sgemm(M, K, N, dy, N, 1, W, K, dx, K, accumulate);
}
// dW[N, K] += dy[M, N]^T @ x[M, K]
inline void linear_bwd_weight(int64_t M, int64_t N, int64_t K, const float* dy, const float* x, float* dW) {
  sgemm(N, K, M, dy, 1, N, x, K, dW, K, true);
}

}  // namespace rlvr::engine
