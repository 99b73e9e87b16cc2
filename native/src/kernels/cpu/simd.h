// 16-lane fp32 vectors for the CPU kernels, on every instruction-set path.
//
// The 16 lanes are the unit of the kernels' summation order (per-lane partial
// sums, then a fixed reduction over the lanes), so every path keeps them: a
// V16<N> holds the 16 lanes as 16 / L native vectors N of L lanes (one zmm on
// AVX-512, two ymm on AVX2, four 128-bit vectors on NEON and generic), lane i
// in part i / L. Each operation runs part by part, so lane i sees the same
// float operations on every path. (A plain 64-byte GCC vector would be the
// same arithmetic, but without AVX-512 GCC keeps it in memory: ~15x slower.)
// Kernels are templates on V = VecOf<Isa>, instantiated per path (isa.h).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/cpu/isa.h"

namespace rlvr::cpu {

constexpr int kLanes = 16;
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

#define RLVR_INLINE static inline __attribute__((always_inline))

template <class N> struct IntOf;
template <> struct IntOf<vf> { using type = vi; };
template <> struct IntOf<v8f> { using type = v8i; };
template <> struct IntOf<v4f> { using type = v4i; };

template <class N>
struct V16 {
  using Native = N;
  using NativeInt = typename IntOf<N>::type;
  static constexpr int L = sizeof(N) / sizeof(float), P = kLanes / L;
  N p[P];
  float operator[](int i) const { return p[i / L][i % L]; }
};
template <class N>
struct M16 {  // lane masks (all ones / zero) of a comparison
  typename IntOf<N>::type p[V16<N>::P];
};

template <Isa I> struct NativeOf { using type = v4f; };
template <> struct NativeOf<Isa::Avx512> { using type = vf; };
template <> struct NativeOf<Isa::Avx2> { using type = v8f; };
template <Isa I> using VecOf = V16<typename NativeOf<I>::type>;

#define RLVR_V16_BINOP(op)                                                          \
  template <class N>                                                                \
  RLVR_INLINE V16<N> operator op(V16<N> a, V16<N> b) {                              \
    for (int k = 0; k < V16<N>::P; ++k) a.p[k] = a.p[k] op b.p[k];                  \
    return a;                                                                       \
  }                                                                                 \
  template <class N>                                                                \
  RLVR_INLINE V16<N>& operator op##=(V16<N>& a, V16<N> b) { return a = a op b; }
RLVR_V16_BINOP(+)
RLVR_V16_BINOP(-)
RLVR_V16_BINOP(*)
#undef RLVR_V16_BINOP
template <class N>
RLVR_INLINE V16<N> operator-(V16<N> a) {
  for (int k = 0; k < V16<N>::P; ++k) a.p[k] = -a.p[k];
  return a;
}
#define RLVR_V16_CMP(op)                                                            \
  template <class N>                                                                \
  RLVR_INLINE M16<N> operator op(V16<N> a, V16<N> b) {                              \
    M16<N> m;                                                                       \
    for (int k = 0; k < V16<N>::P; ++k) m.p[k] = a.p[k] op b.p[k];                  \
    return m;                                                                       \
  }
RLVR_V16_CMP(<)
RLVR_V16_CMP(<=)
RLVR_V16_CMP(>)
#undef RLVR_V16_CMP

template <class V> RLVR_INLINE V vsplat(float x) {
  V v;
  for (int k = 0; k < V::P; ++k) v.p[k] = typename V::Native{} + x;
  return v;
}
template <class V> RLVR_INLINE V vzero() { return V{}; }
// Part by part: one memcpy of the whole array makes GCC copy through the
// stack in 16-byte pieces and reload them wider (a store-forwarding stall).
template <class V> RLVR_INLINE V vload(const float* p) {
  V v;
  for (int k = 0; k < V::P; ++k) std::memcpy(&v.p[k], p + k * V::L, sizeof v.p[k]);
  return v;
}
template <class N> RLVR_INLINE void vstore(float* p, V16<N> v) {
  for (int k = 0; k < V16<N>::P; ++k) std::memcpy(p + k * V16<N>::L, &v.p[k], sizeof v.p[k]);
}
template <class N> RLVR_INLINE V16<N> vselect(M16<N> m, V16<N> a, V16<N> b) {
  for (int k = 0; k < V16<N>::P; ++k) a.p[k] = m.p[k] ? a.p[k] : b.p[k];
  return a;
}
template <class N> RLVR_INLINE V16<N> vmax(V16<N> a, V16<N> b) {
  for (int k = 0; k < V16<N>::P; ++k) a.p[k] = a.p[k] > b.p[k] ? a.p[k] : b.p[k];
  return a;
}

// Lane order 0..15, as with one 16-lane vector.
template <class N> RLVR_INLINE float hsum(V16<N> v) {
  float s = 0.f;
  for (int i = 0; i < kLanes; ++i) s += v[i];
  return s;
}
template <class N> RLVR_INLINE float hmax(V16<N> v) {
  float m = v[0];
  for (int i = 1; i < kLanes; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// exp(x) for x <= 0 (callers pass z - max), accurate to ~2 ulp.
// x = n*ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n by
// building the exponent bits. Inputs below -87 flush to 0 (callers mask them).
// Per part: the same operations on every lane whatever the native width.
template <class N> RLVR_INLINE N vexp_nonpos_part(N x) {
  using NI = typename IntOf<N>::type;
  const N lo = N{} - 87.0f;
  x = x < lo ? lo : x;
  const N log2e = N{} + 1.44269504088896341f;
  N n = x * log2e;
  // round to nearest via the 1.5*2^23 trick (valid for |n| < 2^22)
  const N magic = N{} + 12582912.0f;
  n = (n + magic) - magic;
  const N ln2_hi = N{} + 0.693359375f, ln2_lo = N{} - 2.12194440e-4f;
  N r = x - n * ln2_hi;
  r = r - n * ln2_lo;
  N p = N{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  NI e = (__builtin_convertvector(n, NI) + 127) << 23;
  N scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}
template <class N> RLVR_INLINE V16<N> vexp_nonpos(V16<N> x) {
  for (int k = 0; k < V16<N>::P; ++k) x.p[k] = vexp_nonpos_part(x.p[k]);
  return x;
}

// Scalar twin of vexp_nonpos (same polynomial) for tails and single targets,
// so vector and scalar paths agree closely.
RLVR_INLINE float exp_nonpos(float x) {
  if (x < -87.0f) x = -87.0f;
  float n = x * 1.44269504088896341f;
  n = (n + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

}  // namespace rlvr::cpu
