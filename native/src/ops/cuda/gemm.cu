// GEMM for the engine (see ops.h): C (=|+=) op(A) op(B) (+ bias), any of the
// four transpose combinations, arbitrary m, n, k and leading dimensions.
//  - F32: SIMT, 128x128x8 block tile, 256 threads, 8x8 outputs per thread.
//  - BF16: tensor cores through WMMA (m16n16k16, fp32 accumulate), 128x128x32
//    block tile, 8 warps of 64x32, 3-stage cp.async pipeline. Tiles keep the
//    global layout in shared memory (the WMMA row/col-major fragment loads do
//    the transposes). 16-byte cp.async where a chunk of 8 elements is in range
//    and aligned, a guarded scalar path (zero fill) elsewhere, so odd shapes
//    and unaligned leading dimensions work, just slower at the edges.
// Both: no split-K, fixed reduction order per output -> deterministic.
// BF16 goes to cuBLAS instead when it loads (cublas_gemm.h): same operands and
// fp32 accumulation, its own (deterministic) summation order; this kernel is
// then the fallback and the reference it is checked against.
#include <mma.h>

#include "kernels/cuda/common.cuh"
#include "ops/cuda/cublas_gemm.h"
#include "ops/cuda/elementwise_vec.cuh"
#include "ops/ops.h"

namespace rlvr::engine::ops {
namespace {

using namespace rlvr::cudak;

// ---------------------------------------------------------------------------
// fp32 SIMT

constexpr int kF32BM = 128, kF32BN = 128, kF32BK = 8, kF32Threads = 256;

template <bool TA, bool TB>
__global__ void __launch_bounds__(kF32Threads) sgemm_kernel(GemmArgs g) {
  __shared__ float As[kF32BK][kF32BM];
  __shared__ float Bs[kF32BK][kF32BN];
  const float* A = static_cast<const float*>(g.a);
  const float* B = static_cast<const float*>(g.b);
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kF32BM, n0 = static_cast<int64_t>(blockIdx.x) * kF32BN;
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.f;

  for (int64_t k0 = 0; k0 < g.k; k0 += kF32BK) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int idx = tid + l * kF32Threads;
      // A tile: As[kk][row] = A(m0 + row, k0 + kk)
      int row, kk;
      if (TA) { kk = idx / kF32BM; row = idx % kF32BM; }  // contiguous along m
      else { row = idx / kF32BK; kk = idx % kF32BK; }     // contiguous along k
      const int64_t gi = m0 + row, gp = k0 + kk;
      float av = 0.f;
      if (gi < g.m && gp < g.k) av = TA ? A[gp * g.lda + gi] : A[gi * g.lda + gp];
      As[kk][row] = av;
      // B tile: Bs[kk][col] = B(k0 + kk, n0 + col)
      int col;
      if (TB) { col = idx / kF32BK; kk = idx % kF32BK; }  // contiguous along k
      else { kk = idx / kF32BN; col = idx % kF32BN; }     // contiguous along n
      const int64_t gj = n0 + col, gq = k0 + kk;
      float bv = 0.f;
      if (gj < g.n && gq < g.k) bv = TB ? B[gj * g.ldb + gq] : B[gq * g.ldb + gj];
      Bs[kk][col] = bv;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kF32BK; ++kk) {
      float a[8], b[8];
#pragma unroll
      for (int i = 0; i < 8; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 8; ++j) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t gi = m0 + ty + 16 * i;
    if (gi >= g.m) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int64_t gj = n0 + tx + 16 * j;
      if (gj >= g.n) continue;
      float r = acc[i][j];
      if (g.bias) r += g.bias[gj];
      float* c = g.c + gi * g.ldc + gj;
      *c = g.accumulate ? *c + r : r;
    }
  }
}

// ---------------------------------------------------------------------------
// bf16 tensor cores (WMMA)

constexpr int kBM = 128, kBN = 128, kBK = 32, kStages = 3, kThreads = 256, kPad = 8;
// Elements per stage for one operand: the larger of [128][32+8] and [32][128+8].
constexpr int kTileElems = (kBM * (kBK + kPad) > kBK * (kBM + kPad)) ? kBM * (kBK + kPad) : kBK * (kBM + kPad);
constexpr size_t kSmemBytes = size_t(kStages) * 2 * kTileElems * sizeof(__nv_bfloat16);

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Loads a (rows x cols) tile of a row-major matrix X (ld) starting at (r0, c0)
// into smem [rows][cols + kPad], zero-filling outside (nr, nc). vec: ld and
// the base pointer allow 16-byte chunks.
template <int ROWS, int COLS>
__device__ __forceinline__ void load_tile(__nv_bfloat16* s, const __nv_bfloat16* X, int64_t ld, int64_t r0, int64_t c0,
                                          int64_t nr, int64_t nc, bool vec) {
  constexpr int kChunksPerRow = COLS / 8, kChunks = ROWS * kChunksPerRow;
  static_assert(kChunks % kThreads == 0, "tile chunks must divide over the block");
#pragma unroll
  for (int l = 0; l < kChunks / kThreads; ++l) {
    const int idx = threadIdx.x + l * kThreads;
    const int r = idx / kChunksPerRow, c = (idx % kChunksPerRow) * 8;
    __nv_bfloat16* dst = s + r * (COLS + kPad) + c;
    const int64_t gr = r0 + r, gc = c0 + c;
    if (vec && gr < nr && gc + 8 <= nc) {
      cp_async16(dst, X + gr * ld + gc);
    } else {
      const uint16_t* src = reinterpret_cast<const uint16_t*>(X);
      uint16_t tmp[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) tmp[e] = (gr < nr && gc + e < nc) ? src[gr * ld + gc + e] : uint16_t(0);
      uint4 u;
      u.x = tmp[0] | (uint32_t(tmp[1]) << 16); u.y = tmp[2] | (uint32_t(tmp[3]) << 16);
      u.z = tmp[4] | (uint32_t(tmp[5]) << 16); u.w = tmp[6] | (uint32_t(tmp[7]) << 16);
      *reinterpret_cast<uint4*>(dst) = u;
    }
  }
}

template <bool TA, bool TB>
__global__ void __launch_bounds__(kThreads, 2) hgemm_kernel(GemmArgs g, bool vec_a, bool vec_b) {
  using namespace nvcuda;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  __nv_bfloat16* smem = reinterpret_cast<__nv_bfloat16*>(smem_raw);
  const __nv_bfloat16* A = static_cast<const __nv_bfloat16*>(g.a);
  const __nv_bfloat16* B = static_cast<const __nv_bfloat16*>(g.b);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / 4, wn = warp % 4;  // 2 x 4 warps, each 64 x 32
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kBM, n0 = static_cast<int64_t>(blockIdx.x) * kBN;
  const int64_t ktiles = (g.k + kBK - 1) / kBK;

  auto a_stage = [&](int s) { return smem + (size_t(s) * 2) * kTileElems; };
  auto b_stage = [&](int s) { return smem + (size_t(s) * 2 + 1) * kTileElems; };
  auto issue = [&](int64_t kt, int s) {
    const int64_t k0 = kt * kBK;
    // A(i, p): row-major [m][k] (TA = false) or [k][m] (TA = true)
    if (TA) load_tile<kBK, kBM>(a_stage(s), A, g.lda, k0, m0, g.k, g.m, vec_a);
    else load_tile<kBM, kBK>(a_stage(s), A, g.lda, m0, k0, g.m, g.k, vec_a);
    // B(p, j): [n][k] (TB = true) or [k][n] (TB = false)
    if (TB) load_tile<kBN, kBK>(b_stage(s), B, g.ldb, n0, k0, g.n, g.k, vec_b);
    else load_tile<kBK, kBN>(b_stage(s), B, g.ldb, k0, n0, g.k, g.n, vec_b);
  };

  using ALayout = typename std::conditional<TA, wmma::col_major, wmma::row_major>::type;
  using BLayout = typename std::conditional<TB, wmma::col_major, wmma::row_major>::type;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < ktiles) issue(s, s);
    cp_async_commit();
  }
  for (int64_t kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<kStages - 2>();
    __syncthreads();
    {
      const int64_t nk = kt + kStages - 1;
      if (nk < ktiles) issue(nk, static_cast<int>(nk % kStages));
      cp_async_commit();
    }
    const int s = static_cast<int>(kt % kStages);
    const __nv_bfloat16* As = a_stage(s);
    const __nv_bfloat16* Bs = b_stage(s);
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, ALayout> fa[4];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, BLayout> fb[2];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int mr = wm * 64 + i * 16;
        if (TA) wmma::load_matrix_sync(fa[i], As + kk * (kBM + kPad) + mr, kBM + kPad);
        else wmma::load_matrix_sync(fa[i], As + mr * (kBK + kPad) + kk, kBK + kPad);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int nc = wn * 32 + j * 16;
        if (TB) wmma::load_matrix_sync(fb[j], Bs + nc * (kBK + kPad) + kk, kBK + kPad);
        else wmma::load_matrix_sync(fb[j], Bs + kk * (kBN + kPad) + nc, kBN + kPad);
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // the pipeline buffers become per-warp epilogue scratch
  float* scratch = reinterpret_cast<float*>(smem_raw) + warp * 256;
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      const int64_t bi = m0 + wm * 64 + i * 16, bj = n0 + wn * 32 + j * 16;
#pragma unroll
      for (int e = lane; e < 256; e += 32) {
        const int64_t gi = bi + e / 16, gj = bj + e % 16;
        if (gi < g.m && gj < g.n) {
          float r = scratch[e];
          if (g.bias) r += g.bias[gj];
          float* c = g.c + gi * g.ldc + gj;
          *c = g.accumulate ? *c + r : r;
        }
      }
      __syncwarp();
    }
}

template <bool TA, bool TB>
Status launch_hgemm(const GemmArgs& g) {
  static bool configured = false;  // attribute set once per instantiation (per process, device 0 style)
  if (!configured) {
    RLVR_CUDA_TRY(cudaFuncSetAttribute(hgemm_kernel<TA, TB>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(kSmemBytes)));
    configured = true;
  }
  auto aligned = [](const void* p, int64_t ld) { return (reinterpret_cast<uintptr_t>(p) % 16 == 0) && ld % 8 == 0; };
  const dim3 grid(static_cast<unsigned>((g.n + kBN - 1) / kBN), static_cast<unsigned>((g.m + kBM - 1) / kBM));
  hgemm_kernel<TA, TB><<<grid, kThreads, kSmemBytes>>>(g, aligned(g.a, g.lda), aligned(g.b, g.ldb));
  return launched("hgemm_kernel");
}

template <bool TA, bool TB>
Status launch_sgemm(const GemmArgs& g) {
  const dim3 grid(static_cast<unsigned>((g.n + kF32BN - 1) / kF32BN), static_cast<unsigned>((g.m + kF32BM - 1) / kF32BM));
  sgemm_kernel<TA, TB><<<grid, kF32Threads>>>(g);
  return launched("sgemm_kernel");
}

template <bool V>
__global__ void cast_bf16_kernel(const float* x, __nv_bfloat16* y, int64_t count) {
  vec::for_elems<V>(count, [&](int64_t i, auto w) {
    float v[decltype(w)::value];
    vec::load(x + i, v);
    vec::store(y + i, v);
  });
}

// C rows [m, n] (ldc) from fp32 rows (ld n) to bf16.
__global__ void cast_rows_bf16_kernel(const float* x, __nv_bfloat16* y, int64_t m, int64_t n, int64_t ldc) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m * n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[(i / n) * ldc + i % n] = __float2bfloat16_rn(x[i]);
}

}  // namespace

Status gemm_cuda(const GemmArgs& g) {
  if (g.m < 0 || g.n < 0 || g.k < 0) return Status::Error(Code::Shape, "gemm", "negative shape");
  if (g.c16 && (g.c || g.bias || g.accumulate))
    return Status::Error(Code::Value, "gemm", "a bf16 C (c16) takes no c, bias or accumulate");
  if (g.m == 0 || g.n == 0) return Status::Ok();
  if (g.c16) {
    Status st = Status::Ok();
    if (g.dtype == DType::BF16 && cublas_gemm_bf16(g, &st)) return st;  // cuBLAS writes bf16 C itself
    // otherwise: the fp32 result into scratch, then rounded
    Scratch sc;
    st = sc.alloc(static_cast<size_t>(g.m * g.n) * sizeof(float));
    if (!st.ok()) return st;
    GemmArgs f = g;
    f.c16 = nullptr;
    f.c = sc.as<float>();
    f.ldc = g.n;
    st = gemm_cuda(f);
    if (!st.ok()) return st;
    cast_rows_bf16_kernel<<<grid_for(g.m * g.n, 256, 8192), 256>>>(f.c, static_cast<__nv_bfloat16*>(g.c16), g.m, g.n,
                                                                   g.ldc);
    return launched("cast_rows_bf16_kernel");
  }
  if ((g.n + kBN - 1) / kBN > 0x7fffffff || (g.m + kBM - 1) / kBM > 65535)
    return Status::Error(Code::Shape, "gemm", "m too large for one launch (m / 128 > 65535)");
  if (g.dtype == DType::F32) {
    if (g.trans_a) return g.trans_b ? launch_sgemm<true, true>(g) : launch_sgemm<true, false>(g);
    return g.trans_b ? launch_sgemm<false, true>(g) : launch_sgemm<false, false>(g);
  }
  if (g.dtype == DType::BF16) {
    Status st = Status::Ok();
    if (cublas_gemm_bf16(g, &st)) return st;
    if (g.trans_a) return g.trans_b ? launch_hgemm<true, true>(g) : launch_hgemm<true, false>(g);
    return g.trans_b ? launch_hgemm<false, true>(g) : launch_hgemm<false, false>(g);
  }
  return Status::Error(Code::DType, "gemm", "inputs must be f32 or bf16");
}

Status cast_bf16_cuda(const float* x, void* y, int64_t count) {
  if (count <= 0) return Status::Ok();
  __nv_bfloat16* yb = static_cast<__nv_bfloat16*>(y);
  if (vec::aligned16(x, y))
    cast_bf16_kernel<true><<<grid_for((count + 3) / 4, 256, 8192), 256>>>(x, yb, count);
  else
    cast_bf16_kernel<false><<<grid_for(count, 256, 8192), 256>>>(x, yb, count);
  return launched("cast_bf16_kernel");
}

}  // namespace rlvr::engine::ops
