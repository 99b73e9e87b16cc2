// Vectorized grid-stride loops for the memory-bound elementwise engine ops
// (casts, SwiGLU, AdamW): 16-byte loads and stores where every pointer allows
// them, each element computed by the same expression as the scalar path, so
// results are bitwise those of a one-element-per-thread loop.
#pragma once
#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

namespace rlvr::engine::ops::vec {

template <int W>
using Width = std::integral_constant<int, W>;

// Grid-stride over [0, count): with V, each thread takes 4 consecutive
// elements at a time (f(i, Width<4>)), then the last count % 4 one at a time
// (f(i, Width<1>)); without V, all one at a time.
template <bool V, class F>
__device__ __forceinline__ void for_elems(int64_t count, F&& f) {
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t done = 0;
  if constexpr (V) {
    const int64_t quads = count / 4;
    for (int64_t q = t0; q < quads; q += stride) f(q * 4, Width<4>{});
    done = quads * 4;
  }
  for (int64_t i = done + t0; i < count; i += stride) f(i, Width<1>{});
}

template <int W>
__device__ __forceinline__ void load(const float* p, float (&x)[W]) {
  if constexpr (W == 4) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    x[0] = v.x; x[1] = v.y; x[2] = v.z; x[3] = v.w;
  } else {
    x[0] = *p;
  }
}

// bf16 values widened to fp32 (exact).
template <int W>
__device__ __forceinline__ void load(const __nv_bfloat16* p, float (&x)[W]) {
  if constexpr (W == 4) {
    const uint2 v = *reinterpret_cast<const uint2*>(p);
    x[0] = __uint_as_float(v.x << 16); x[1] = __uint_as_float(v.x & 0xffff0000u);
    x[2] = __uint_as_float(v.y << 16); x[3] = __uint_as_float(v.y & 0xffff0000u);
  } else {
    x[0] = __bfloat162float(*p);
  }
}

template <int W>
__device__ __forceinline__ void store(float* p, const float (&x)[W]) {
  if constexpr (W == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(x[0], x[1], x[2], x[3]);
  } else {
    *p = x[0];
  }
}

__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // each rounded as __float2bfloat16_rn
  return *reinterpret_cast<uint32_t*>(&v);
}

template <int W>
__device__ __forceinline__ void store(__nv_bfloat16* p, const float (&x)[W]) {
  if constexpr (W == 4) {
    *reinterpret_cast<uint2*>(p) = make_uint2(pack2(x[0], x[1]), pack2(x[2], x[3]));
  } else {
    *p = __float2bfloat16_rn(x[0]);
  }
}

// Host: every pointer (null ones ignored) 16-byte aligned, as the W = 4 path needs.
inline bool aligned16() { return true; }
template <class P, class... R>
inline bool aligned16(P p, R... rest) {
  return (reinterpret_cast<uintptr_t>(p) & 15) == 0 && aligned16(rest...);
}

}  // namespace rlvr::engine::ops::vec
