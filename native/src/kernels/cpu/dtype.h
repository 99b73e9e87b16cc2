// fp16 / bf16 <-> fp32 conversions for the CPU kernels (bit exact, portable).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace rlvr::cpu {

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f32_to_bf16(float f) {  // round to nearest even; NaN stays NaN
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float f16_to_f32(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do { ++e; man <<= 1; } while (!(man & 0x400u));
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | man << 13;
  } else {
    u = sign | (exp + 112) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f32_to_f16(float f) {  // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (a < 0x38800000u) {  // subnormal or zero in fp16
    float af;
    std::memcpy(&af, &a, 4);
    // scale so the fp16 subnormal unit (2^-24) becomes 1, then round to nearest even
    float scaled = af * 16777216.0f;
    uint32_t m = static_cast<uint32_t>(scaled);
    float rem = scaled - static_cast<float>(m);
    if (rem > 0.5f || (rem == 0.5f && (m & 1u))) ++m;
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - (112u << 23);
  return static_cast<uint16_t>(sign | (r >> 13));
}

// Loads n logits of dtype d starting at element offset `off` into fp32 `out`.
inline void load_f32(const void* base, DType d, int64_t off, int64_t n, float* out) {
  if (d == DType::F32) {
    std::memcpy(out, static_cast<const float*>(base) + off, n * sizeof(float));
  } else if (d == DType::BF16) {
    const uint16_t* p = static_cast<const uint16_t*>(base) + off;
    for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(p[i]);
  } else {
    const uint16_t* p = static_cast<const uint16_t*>(base) + off;
    for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(p[i]);
  }
}

inline void store_f32(void* base, DType d, int64_t off, int64_t n, const float* in) {
  if (d == DType::F32) {
    std::memcpy(static_cast<float*>(base) + off, in, n * sizeof(float));
  } else if (d == DType::BF16) {
    uint16_t* p = static_cast<uint16_t*>(base) + off;
    for (int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(in[i]);
  } else {
    uint16_t* p = static_cast<uint16_t*>(base) + off;
    for (int64_t i = 0; i < n; ++i) p[i] = f32_to_f16(in[i]);
  }
}

}  // namespace rlvr::cpu
