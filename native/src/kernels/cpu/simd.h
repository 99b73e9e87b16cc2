// 16-lane fp32 vectors via GCC/Clang vector extensions. The same source compiles
// to AVX-512, AVX2 or SSE depending on the target_clones of the caller, so one
// kernel body serves every x86-64 (and other ISAs, through generic lowering).
#pragma once
#include <cstdint>
#include <cstring>

namespace rlvr::cpu {

constexpr int kLanes = 16;
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));

#define RLVR_INLINE static inline __attribute__((always_inline))

RLVR_INLINE vf vsplat(float x) { return vf{} + x; }
RLVR_INLINE vf vload(const float* p) { vf v; std::memcpy(&v, p, sizeof v); return v; }
RLVR_INLINE void vstore(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
RLVR_INLINE vf vmax(vf a, vf b) { return a > b ? a : b; }
RLVR_INLINE vf vselect(vi m, vf a, vf b) { return m ? a : b; }

RLVR_INLINE float hsum(vf v) {
  float s = 0.f;
  for (int i = 0; i < kLanes; ++i) s += v[i];
  return s;
}
RLVR_INLINE float hmax(vf v) {
  float m = v[0];
  for (int i = 1; i < kLanes; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// exp(x) for x <= 0 (callers pass z - max), accurate to ~2 ulp.
// x = n*ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n by
// building the exponent bits. Inputs below -87 flush to 0 (callers mask them).
RLVR_INLINE vf vexp_nonpos(vf x) {
  const vf lo = vsplat(-87.0f);
  x = x < lo ? lo : x;
  const vf log2e = vsplat(1.44269504088896341f);
  vf n = x * log2e;
  // round to nearest via the 1.5*2^23 trick (valid for |n| < 2^22)
  const vf magic = vsplat(12582912.0f);
  n = (n + magic) - magic;
  const vf ln2_hi = vsplat(0.693359375f), ln2_lo = vsplat(-2.12194440e-4f);
  vf r = x - n * ln2_hi;
  r = r - n * ln2_lo;
  vf p = vsplat(1.9875691500e-4f);
  p = p * r + vsplat(1.3981999507e-3f);
  p = p * r + vsplat(8.3334519073e-3f);
  p = p * r + vsplat(4.1665795894e-2f);
  p = p * r + vsplat(1.6666665459e-1f);
  p = p * r + vsplat(5.0000001201e-1f);
  p = p * r * r + r + vsplat(1.0f);
  vi e = (__builtin_convertvector(n, vi) + 127) << 23;
  vf scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
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
