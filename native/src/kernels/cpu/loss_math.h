// Per-token loss terms and their derivatives (wrt logp; wrt the value for the
// critic's value loss), shared by the separate loss kernels and the fused
// policy-loss kernel so both compute identical math.
#pragma once
#include <cmath>

#include "kernels/kernels.h"

namespace rlvr::cpu {

struct PgTerm {
  float loss, dlogp;
  bool clipped, dual_clipped;
};

// PPO clip with optional dual clip (see kernels.h (d)).
inline PgTerm ppo_clip_term(float logp, float old_logp, float adv, float clip_low, float clip_high, float dual_clip) {
  float ratio = std::exp(logp - old_logp);
  float l1 = -adv * ratio;
  float clipped_ratio = std::fmin(std::fmax(ratio, 1.f - clip_low), 1.f + clip_high);
  float l2 = -adv * clipped_ratio;
  PgTerm t{};
  t.clipped = l2 > l1;
  // The unclipped branch is active when it is the max; at a tie both branches
  // agree inside the clip range, and the unclipped one carries the gradient.
  t.loss = t.clipped ? l2 : l1;
  t.dlogp = t.clipped ? 0.f : -adv * ratio;
  if (dual_clip > 0.f && adv < 0.f) {
    float cap = -adv * dual_clip;
    if (t.loss > cap) {
      t.loss = cap;
      t.dlogp = 0.f;
      t.dual_clipped = true;
    }
  }
  return t;
}

struct KlTerm {
  float kl, dlogp;
};

inline KlTerm kl_term(float logp, float ref_logp, kernels::KlType type) {
  float delta = logp - ref_logp;
  switch (type) {
    case kernels::KlType::K1: return {delta, 1.f};
    case kernels::KlType::Abs: return {std::fabs(delta), delta > 0.f ? 1.f : (delta < 0.f ? -1.f : 0.f)};
    case kernels::KlType::Mse: return {0.5f * delta * delta, delta};
    case kernels::KlType::LowVarKl:
    default: {
      // k3 = exp(ref - logp) - (ref - logp) - 1; d/dlogp = 1 - exp(ref - logp)
      float r = std::exp(-delta);
      float kl = r + delta - 1.f;
      if (kl > 10.f) return {10.f, 0.f};
      if (kl < -10.f) return {-10.f, 0.f};
      return {kl, 1.f - r};
    }
  }
}

struct ValueTerm {
  float loss, dvalue;  // unweighted: 0.5 * max(a, c) and d/dv of it
  bool clipped;        // c > a: the clipped term is the larger
};

// PPO clipped value loss for one token (see kernels.h (j)). Each step is one
// fp32 operation with no contraction site, so the CUDA mirror (value_term in
// native/src/kernels/cuda/common.cuh) rounds identically.
inline ValueTerm value_term(float v, float old_v, float ret, float clip) {
  const float vc = std::fmin(std::fmax(v, old_v - clip), old_v + clip);
  const float d = v - ret, e = vc - ret;
  const float a = d * d, c = e * e;
  ValueTerm t{};
  // A tie (always the case inside the clip range, where vc = v) takes the
  // unclipped branch; when c > a the clip is active on v and the clipped term
  // does not depend on v.
  t.clipped = c > a;
  t.loss = 0.5f * (t.clipped ? c : a);
  t.dvalue = t.clipped ? 0.f : d;
  return t;
}

}  // namespace rlvr::cpu
