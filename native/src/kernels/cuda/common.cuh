// Shared helpers for rlvr's CUDA kernels: error plumbing, dtype load/store,
// the online (max, sum, weighted-sum) softmax accumulator, block reductions.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "kernels/kernels.h"

namespace rlvr::cudak {

using kernels::KlType;

// ---- errors ---------------------------------------------------------------

inline Code classify(cudaError_t e) {
  switch (e) {
    case cudaErrorNoDevice:
    case cudaErrorInvalidDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorUnsupportedPtxVersion:
      return Code::Device;
    case cudaErrorMemoryAllocation:
      return Code::Memory;
    default:
      return Code::Internal;
  }
}

inline Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::Ok();
  return Status::Error(classify(e), "",
                       std::string(what) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

#define RLVR_CUDA_TRY(expr)                                                     \
  do {                                                                          \
    cudaError_t rlvr_err_ = (expr);                                             \
    if (rlvr_err_ != cudaSuccess) return ::rlvr::cudak::cuda_status(rlvr_err_, #expr); \
  } while (0)

inline Status launched(const char* name) {
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? Status::Ok() : cuda_status(e, name);
}

// Stream-ordered scratch memory on the legacy default stream; freed on scope exit.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (p_) cudaFreeAsync(p_, 0);
  }
  Status alloc(size_t bytes) {
    cudaError_t e = cudaMallocAsync(&p_, bytes, 0);
    if (e != cudaSuccess) {
      p_ = nullptr;
      return cuda_status(e, "cudaMallocAsync(scratch)");
    }
    return Status::Ok();
  }
  template <class T>
  T* as(size_t byte_offset = 0) const {
    return reinterpret_cast<T*>(static_cast<char*>(p_) + byte_offset);
  }

 private:
  void* p_ = nullptr;
};

inline Status dtype_error(DType d) {
  return Status::Error(Code::DType, "logits", "logits dtype must be f32, f16 or bf16 (got " +
                                                  std::to_string(static_cast<int>(d)) + ")");
}

// Grid size for grid-stride elementwise kernels.
inline unsigned grid_for(int64_t n, int threads, unsigned cap = 4096) {
  int64_t g = (n + threads - 1) / threads;
  if (g < 1) g = 1;
  return static_cast<unsigned>(g < cap ? g : cap);
}

// ---- constants and fast math ----------------------------------------------

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
constexpr int kMaxThreads = 1024;

// 2^x with flush-to-zero: exp2(-inf) = 0, exp2(x < -126) = 0.
__device__ __forceinline__ float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// max that propagates NaN (fmaxf ignores it), so a NaN logit poisons the row max.
__device__ __forceinline__ float max_nan(float a, float b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  float r;
  asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
#else
  return (a != a || b != b) ? __int_as_float(0x7fffffff) : fmaxf(a, b);
#endif
}

// ---- dtype traits: scalar and 16-byte vector load/store -------------------

template <class T> struct Elem;
template <> struct Elem<float> {
  static constexpr int kVec = 4;  // elements per 16 bytes
  __device__ static float load(const float* p) { return *p; }
  __device__ static void store(float* p, float x) { *p = x; }
  __device__ static void unpack(const uint4& u, float* f) {
    f[0] = __uint_as_float(u.x); f[1] = __uint_as_float(u.y);
    f[2] = __uint_as_float(u.z); f[3] = __uint_as_float(u.w);
  }
  __device__ static uint4 pack(const float* f) {
    return make_uint4(__float_as_uint(f[0]), __float_as_uint(f[1]), __float_as_uint(f[2]), __float_as_uint(f[3]));
  }
};
template <> struct Elem<__half> {
  static constexpr int kVec = 8;
  __device__ static float load(const __half* p) { return __half2float(*p); }
  __device__ static void store(__half* p, float x) { *p = __float2half_rn(x); }
  __device__ static void unpack(const uint4& u, float* f) {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      float2 t = __half22float2(*reinterpret_cast<const __half2*>(&w[k]));
      f[2 * k] = t.x; f[2 * k + 1] = t.y;
    }
  }
  __device__ static uint4 pack(const float* f) {
    uint32_t w[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      __half2 h = __floats2half2_rn(f[2 * k], f[2 * k + 1]);
      w[k] = *reinterpret_cast<uint32_t*>(&h);
    }
    return make_uint4(w[0], w[1], w[2], w[3]);
  }
};
template <> struct Elem<__nv_bfloat16> {
  static constexpr int kVec = 8;
  __device__ static float load(const __nv_bfloat16* p) { return __bfloat162float(*p); }
  __device__ static void store(__nv_bfloat16* p, float x) { *p = __float2bfloat16_rn(x); }
  __device__ static void unpack(const uint4& u, float* f) {
    // bf16 -> f32 is a 16-bit shift; do it directly on the packed words.
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      f[2 * k] = __uint_as_float(w[k] << 16);
      f[2 * k + 1] = __uint_as_float(w[k] & 0xffff0000u);
    }
  }
  __device__ static uint4 pack(const float* f) {
    uint32_t w[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      __nv_bfloat162 h = __floats2bfloat162_rn(f[2 * k], f[2 * k + 1]);
      w[k] = *reinterpret_cast<uint32_t*>(&h);
    }
    return make_uint4(w[0], w[1], w[2], w[3]);
  }
  // Half a vector: the output of an f32 chunk (4 values) stored as bf16.
  __device__ static uint2 pack4(const float* f) {
    __nv_bfloat162 lo = __floats2bfloat162_rn(f[0], f[1]), hi = __floats2bfloat162_rn(f[2], f[3]);
    return make_uint2(*reinterpret_cast<uint32_t*>(&lo), *reinterpret_cast<uint32_t*>(&hi));
  }
};

// A chunk of N values written as TOut: 16 bytes (the input's own dtype), or
// 8 bytes (an f32 chunk of 4 written as bf16).
template <class TOut, int N>
using OutChunk = std::conditional_t<N * sizeof(TOut) == 16, uint4, uint2>;
template <class TOut, int N>
__device__ __forceinline__ OutChunk<TOut, N> pack_chunk(const float* x) {
  if constexpr (N * sizeof(TOut) == 16) {
    return Elem<TOut>::pack(x);
  } else {
    static_assert(std::is_same_v<TOut, __nv_bfloat16> && N == 4, "unsupported output chunk");
    return Elem<TOut>::pack4(x);
  }
}

// Calls f.template operator()<T>() with T the C++ type of the logits dtype.
template <class F>
Status dispatch_logits(DType d, F&& f) {
  switch (d) {
    case DType::F32: return f(float{});
    case DType::F16: return f(__half{});
    case DType::BF16: return f(__nv_bfloat16{});
    default: return dtype_error(d);
  }
}

// ---- row traversal ----------------------------------------------------------

template <int N> using Count = std::integral_constant<int, N>;

// Visits row[0, v) with blockDim.x threads: a scalar head up to 16-byte
// alignment, an unrolled body of 16-byte vectors, and a scalar tail.
// body(float* x, Count<N>, int64_t first_index) sees chunks of N = 1 or
// Elem<T>::kVec values; kUnroll vectors are loaded before any is consumed so
// that enough loads are in flight. When out is non-null, the (possibly
// modified) chunk is stored to the same positions of out as TOut (T, or bf16
// for f32 in; see OutChunk); out may alias in when TOut is T.
template <class T, int kUnroll, class TOut, class Body>
__device__ __forceinline__ void for_row(const T* in, TOut* out, int64_t v, Body&& body) {
  constexpr int V = Elem<T>::kVec;
  const int tid = threadIdx.x, nt = blockDim.x;
  const uintptr_t ain = reinterpret_cast<uintptr_t>(in);
  int64_t head = static_cast<int64_t>(((16 - (ain & 15)) & 15) / sizeof(T));
  // Vectorize only when out's chunks are aligned too: in and out share their
  // alignment (always true in place), or a narrower TOut's chunks start on their size.
  const uintptr_t aout = reinterpret_cast<uintptr_t>(out);
  if (ain % sizeof(T) != 0 ||
      (out && (std::is_same_v<T, TOut> ? ((aout ^ ain) & 15) != 0
                                       : (aout + head * sizeof(TOut)) % (V * sizeof(TOut)) != 0)))
    head = v;
  if (head > v) head = v;
  for (int64_t j = tid; j < head; j += nt) {
    float x = Elem<T>::load(in + j);
    body(&x, Count<1>{}, j);
    if (out) Elem<TOut>::store(out + j, x);
  }
  const int64_t nvec = (v - head) / V;
  const uint4* vin = reinterpret_cast<const uint4*>(in + head);
  using Chunk = OutChunk<TOut, V>;
  Chunk* vout = out ? reinterpret_cast<Chunk*>(out + head) : nullptr;
  int64_t i = tid;
  for (; i + (kUnroll - 1) * nt < nvec; i += kUnroll * nt) {
    uint4 u[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) u[k] = __ldcs(vin + i + k * nt);
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      float x[V];
      Elem<T>::unpack(u[k], x);
      body(x, Count<V>{}, head + (i + k * nt) * V);
      if (out) __stcs(vout + i + k * nt, pack_chunk<TOut, V>(x));
    }
  }
  for (; i < nvec; i += nt) {
    float x[V];
    Elem<T>::unpack(__ldcs(vin + i), x);
    body(x, Count<V>{}, head + i * V);
    if (out) __stcs(vout + i, pack_chunk<TOut, V>(x));
  }
  for (int64_t j = head + nvec * V + tid; j < v; j += nt) {
    float x = Elem<T>::load(in + j);
    body(&x, Count<1>{}, j);
    if (out) Elem<TOut>::store(out + j, x);
  }
}

// ---- online softmax statistics ----------------------------------------------

// Over the scaled logits y = x / T (rounded exactly as the CPU does, so both
// overflow at the same point): m = max y in natural units, and in base 2
//   s = sum 2^d,  w = sum 2^d d,  d = (y - m) log2(e).
// Then lse = m + ln2 log2 s and entropy = ln2 (log2 s - w / s).
struct OnlineStats {
  float m = -INFINITY, s = 0.f, w = 0.f;

  // Adds a chunk of raw logits x[0..N); it = 1 / T.
  template <int N>
  __device__ __forceinline__ void add(const float* x, float it) {
    float mx = x[0];
#pragma unroll
    for (int k = 1; k < N; ++k) mx = max_nan(mx, x[k]);
    const float mn = max_nan(m, mx * it);
    if (mn != m) {  // a new max; NaN / +inf poison m for good
      if (s > 0.f) {
        // clamp: m - mn can overflow to -inf (maxima of opposite huge sign); 2^-256 is 0 anyway
        const float d = fmaxf((m - mn) * kLog2e, -256.f), a = ex2(d);
        w = a * fmaf(d, s, w);
        s *= a;
      }
      m = mn;
    }
    if (m == -INFINITY) return;  // everything so far is -inf
#pragma unroll
    for (int k = 0; k < N; ++k) {
      // y - m is exact when y is near m (Sterbenz); the clamp maps -inf (and
      // an overflowed difference) to a finite exponent so that e * d is 0, not NaN.
      const float d = fmaxf((x[k] * it - m) * kLog2e, -256.f);
      const float e = ex2(d);
      s += e;
      w = fmaf(e, d, w);
    }
  }

  // Invariant: m finite <=> s >= 1 and w finite; m = -inf <=> empty; m NaN/+inf = poisoned.
  __device__ __forceinline__ void merge(const OnlineStats& o) {
    const float M = max_nan(m, o.m);
    if (M == -INFINITY) return;
    if (!isfinite(M)) { m = M; s = w = __int_as_float(0x7fffffff); return; }
    float s1 = 0.f, w1 = 0.f, s2 = 0.f, w2 = 0.f;
    if (m != -INFINITY) { const float d = fmaxf((m - M) * kLog2e, -256.f), a = ex2(d); s1 = a * s; w1 = a * fmaf(d, s, w); }
    if (o.m != -INFINITY) { const float d = fmaxf((o.m - M) * kLog2e, -256.f), a = ex2(d); s2 = a * o.s; w2 = a * fmaf(d, o.s, o.w); }
    m = M; s = s1 + s2; w = w1 + w2;
  }

  __device__ __forceinline__ bool valid() const { return isfinite(m) && s > 0.f; }
  // Natural-log results for a row with valid().
  __device__ __forceinline__ float lse() const { return m + kLn2 * __log2f(s); }
  // clamped to >= 0 like the CPU: rounding can push a near-zero entropy below 0
  __device__ __forceinline__ float entropy() const {
    const float h = kLn2 * (__log2f(s) - w / s);
    return h < 0.f ? 0.f : h;
  }
};

__device__ __forceinline__ OnlineStats shfl_xor(const OnlineStats& a, int off) {
  OnlineStats o;
  o.m = __shfl_xor_sync(0xffffffffu, a.m, off);
  o.s = __shfl_xor_sync(0xffffffffu, a.s, off);
  o.w = __shfl_xor_sync(0xffffffffu, a.w, off);
  return o;
}

// Block-wide merge of OnlineStats; the result is returned to every thread.
__device__ __forceinline__ OnlineStats block_merge(OnlineStats st) {
  __shared__ float sm[3][kMaxThreads / 32];
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) st.merge(shfl_xor(st, off));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  if (nw == 1) return st;
  __syncthreads();  // sm may still be read by a previous call
  if (lane == 0) { sm[0][warp] = st.m; sm[1][warp] = st.s; sm[2][warp] = st.w; }
  __syncthreads();
  // Every warp reduces the per-warp partials itself: no second barrier needed.
  OnlineStats a;
  if (lane < nw) { a.m = sm[0][lane]; a.s = sm[1][lane]; a.w = sm[2][lane]; }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) a.merge(shfl_xor(a, off));
  return a;
}

// Block-wide sum of K doubles (or floats); the result is valid in thread 0.
// blockDim.x must be a multiple of 32.
template <class T, int K>
__device__ __forceinline__ void block_sum(T (&x)[K]) {
  __shared__ T sm[K][kMaxThreads / 32];
#pragma unroll
  for (int k = 0; k < K; ++k)
    for (int off = 16; off > 0; off >>= 1) x[k] += __shfl_xor_sync(0xffffffffu, x[k], off);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  if (nw == 1) return;
  __syncthreads();  // sm may be reused by back-to-back calls
  if (lane == 0)
    for (int k = 0; k < K; ++k) sm[k][warp] = x[k];
  __syncthreads();
  if (warp == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      x[k] = lane < nw ? sm[k][lane] : T(0);
      for (int off = 16; off > 0; off >>= 1) x[k] += __shfl_xor_sync(0xffffffffu, x[k], off);
    }
  }
}

// Threads per row for the row kernels. Large rows get 512 threads (3 blocks per
// SM): with one row per block, bigger blocks mean more, shorter waves and less
// wave-quantization loss at the end of the grid.
constexpr int kRowThreadsMax = 512;
inline int row_threads(int64_t v) {
  if (v >= 32768) return 512;
  if (v >= 8192) return 256;
  if (v >= 2048) return 128;
  if (v >= 512) return 64;
  return 32;
}

// Device flag holding the first bad row (UINT64_MAX = none).
__device__ __forceinline__ void flag_bad_row(unsigned long long* flag, int64_t row) {
  if (flag) atomicMin(flag, static_cast<unsigned long long>(row));
}

// ---- per-token loss terms (shared by the elementwise and the fused kernels) ----

struct PgTerm {
  float loss, grad;  // grad = d loss / d logp
  bool clipped, dual;
};
__device__ __forceinline__ PgTerm pg_term(float logp, float old_logp, float adv, float clip_low,
                                          float clip_high, float dual_clip) {
  const float ratio = expf(logp - old_logp);
  const float l1 = -adv * ratio;
  const float l2 = -adv * fminf(fmaxf(ratio, 1.f - clip_low), 1.f + clip_high);
  PgTerm r;
  r.clipped = l2 > l1;
  r.loss = r.clipped ? l2 : l1;
  r.grad = r.clipped ? 0.f : l1;
  r.dual = false;
  if (dual_clip > 0.f && adv < 0.f) {  // the binding enforces dual_clip = 0 or > 1
    const float l3 = -adv * dual_clip;
    if (r.loss > l3) { r.loss = l3; r.grad = 0.f; r.dual = true; }
  }
  return r;
}

struct KlTerm { float kl, grad; };
__device__ __forceinline__ KlTerm kl_term(float logp, float ref_logp, KlType type) {
  const float d = logp - ref_logp;
  switch (type) {
    case KlType::K1: return {d, 1.f};
    case KlType::Abs: return {fabsf(d), d > 0.f ? 1.f : (d < 0.f ? -1.f : 0.f)};
    case KlType::Mse: return {0.5f * d * d, d};
    default: {
      const float e = expf(-d), k = e + d - 1.f;
      if (k > 10.f) return {10.f, 0.f};
      if (k < -10.f) return {-10.f, 0.f};
      return {k, 1.f - e};
    }
  }
}

// PPO clipped value loss for one token, mirroring cpu::value_term
// (native/src/kernels/cpu/loss_math.h) operation for operation: no step is an
// a*b+c, so nothing is contracted into an FMA and both round identically.
struct ValueTerm {
  float loss, grad;  // unweighted 0.5 * max(a, c) and d/dv of it
  bool clipped;      // c > a (a tie is unclipped)
};
__device__ __forceinline__ ValueTerm value_term(float v, float old_v, float ret, float clip) {
  const float vc = fminf(fmaxf(v, old_v - clip), old_v + clip);
  const float d = v - ret, e = vc - ret;
  const float a = d * d, c = e * e;
  ValueTerm r;
  r.clipped = c > a;
  r.loss = 0.5f * (r.clipped ? c : a);
  r.grad = r.clipped ? 0.f : d;
  return r;
}

// ---- deterministic whole-batch sums ---------------------------------------------

constexpr int kSumThreads = 256;
constexpr int kSumMaxBlocks = 256;

template <int K, class F>
__global__ void __launch_bounds__(kSumThreads) partial_sums_kernel(int64_t n, F f, double* partials) {
  double acc[K] = {};
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i, acc);
  block_sum(acc);
  if (threadIdx.x == 0)
    for (int k = 0; k < K; ++k) partials[blockIdx.x * K + k] = acc[k];
}

template <int K>
__global__ void __launch_bounds__(kSumThreads) final_sums_kernel(const double* partials, int blocks, double* out) {
  double acc[K] = {};
  for (int i = threadIdx.x; i < blocks; i += blockDim.x)
    for (int k = 0; k < K; ++k) acc[k] += partials[i * K + k];
  block_sum(acc);
  if (threadIdx.x == 0)
    for (int k = 0; k < K; ++k) out[k] = acc[k];
}

// out[k] = sum over i < n of the k-th value that f(i, double (&acc)[K]) adds,
// in fp64 and in a fixed order (bitwise reproducible for a given n).
// partials must hold kSumMaxBlocks * K doubles; out is device memory.
template <int K, class F>
Status batch_sums(int64_t n, const F& f, double* partials, double* out) {
  const unsigned blocks = grid_for(n, kSumThreads, kSumMaxBlocks);
  partial_sums_kernel<K><<<blocks, kSumThreads>>>(n, f, partials);
  final_sums_kernel<K><<<1, kSumThreads>>>(partials, static_cast<int>(blocks), out);
  return launched("batch_sums");
}

}  // namespace rlvr::cudak
