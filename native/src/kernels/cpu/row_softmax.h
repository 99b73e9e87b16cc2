// Row-level building blocks of the fused log-prob / entropy kernels: a single
// streaming (online) pass computing max, sum e^(z-m) and sum e^(z-m)(z-m),
// and the backward over one row. Defined in row_softmax.cpp once per
// instruction-set path (kernels/cpu/isa.h), run on the active one.
#pragma once
#include <cstdint>

#include "kernels/kernels.h"

namespace rlvr::cpu {

struct RowResult {
  float lse = 0.f;      // logsumexp(z)
  float entropy = 0.f;  // lse - sum softmax(z) * z, clamped to >= 0
  float z_target = 0.f; // z[target]
  float logp = 0.f;     // z[target] - lse, clamped to <= 0 (rounding of the fused z - m can cross 0)
  bool bad = false;     // NaN / +inf present, or every entry -inf
};

// z = logits[row] * inv_temp. `row` points at the row's first element.
RowResult row_forward(const void* row, DType dtype, int64_t v, int32_t target, float inv_temp);

// Writes dz_j = inv_temp * (g_logp * (onehot_j - p_j) - g_entropy * p_j * (log p_j + H))
// into `out` of out_dtype, p_j = exp(z_j - lse). Every element is computed in
// fp32 exactly as for f32 out and then rounded once, so any out_dtype gives the
// f32 result rounded to nearest even. `out` may alias `row` only when the
// dtypes are equal.
void row_backward(const void* row, DType dtype, void* out, DType out_dtype, int64_t v, int32_t target,
                  float inv_temp, float lse, float entropy, float g_logp, float g_entropy);

}  // namespace rlvr::cpu
