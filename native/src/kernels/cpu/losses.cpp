// (d) PPO clip loss, (e) KL penalties, (f) aggregation weights and (j) the
// critic's clipped value loss, on CPU. These are O(tokens) and memory-light,
// so they run single-threaded.
#include <cmath>

#include "kernels/cpu/loss_math.h"
#include "kernels/kernels.h"

namespace rlvr::kernels {

Status ppo_clip_cpu(const PpoClipArgs& a) {
  for (int64_t i = 0; i < a.n; ++i) {
    cpu::PgTerm t = cpu::ppo_clip_term(a.logp[i], a.old_logp[i], a.advantages[i], a.clip_low, a.clip_high,
                                       a.dual_clip);
    a.loss[i] = t.loss;
    a.dlogp[i] = t.dlogp;
    if (a.clipped) a.clipped[i] = t.clipped;
    if (a.dual_clipped) a.dual_clipped[i] = t.dual_clipped;
  }
  return Status::Ok();
}

Status kl_penalty_cpu(const KlArgs& a) {
  for (int64_t i = 0; i < a.n; ++i) {
    cpu::KlTerm t = cpu::kl_term(a.logp[i], a.ref_logp[i], a.type);
    a.kl[i] = t.kl;
    if (a.dlogp) a.dlogp[i] = t.dlogp;
  }
  return Status::Ok();
}

Status agg_weights_cpu(const AggWeightsArgs& a) {
  const int64_t total = a.b * a.t;
  if (a.mode == AggMode::TokenMean) {
    double sum = 0;
    for (int64_t i = 0; i < total; ++i) sum += a.mask[i];
    const float inv = sum > 0 ? static_cast<float>(1.0 / sum) : 0.f;
    for (int64_t i = 0; i < total; ++i) a.weights[i] = a.mask[i] * inv;
    return Status::Ok();
  }
  const double inv_b = a.b > 0 ? 1.0 / static_cast<double>(a.b) : 0.0;
  for (int64_t r = 0; r < a.b; ++r) {
    const float* m = a.mask + r * a.t;
    float* w = a.weights + r * a.t;
    double scale = inv_b;
    if (a.mode == AggMode::SeqMeanTokenMean) {
      double len = 0;
      for (int64_t j = 0; j < a.t; ++j) len += m[j];
      scale = len > 0 ? inv_b / len : 0.0;
    }
    for (int64_t j = 0; j < a.t; ++j) w[j] = static_cast<float>(m[j] * scale);
  }
  return Status::Ok();
}

Status value_loss_cpu(const ValueLossArgs& a) {
  if (a.stats) *a.stats = ValueLossStats{};
  if (a.n < 0) return Status::Error(Code::Shape, "values", "negative length");
  if (!(a.clip > 0.f) || !std::isfinite(a.clip))
    return Status::Error(Code::Value, "clip", "clip must be finite and > 0");
  if (a.n == 0) return Status::Ok();  // empty inputs may come with null pointers
  if (!a.values || !a.old_values || !a.returns || !a.weights)
    return Status::Error(Code::Value, "values", "null values, old_values, returns or weights");
  ValueLossStats s;
  for (int64_t i = 0; i < a.n; ++i) {
    const float w = a.weights[i];
    // A token with weight 0 (padding) contributes nothing and gets +0, so
    // garbage there cannot poison the sums (the CUDA kernel does the same).
    if (w == 0.f) {
      if (a.dvalues) a.dvalues[i] = 0.f;
      continue;
    }
    const cpu::ValueTerm t = cpu::value_term(a.values[i], a.old_values[i], a.returns[i], a.clip);
    if (a.dvalues) a.dvalues[i] = w * t.dvalue;
    s.total += static_cast<double>(w) * t.loss;
    s.clipfrac += t.clipped ? static_cast<double>(w) : 0.0;
    s.weight_sum += w;
  }
  if (s.weight_sum > 0) s.clipfrac /= s.weight_sum;
  if (a.stats) *a.stats = s;
  return Status::Ok();
}

}  // namespace rlvr::kernels
