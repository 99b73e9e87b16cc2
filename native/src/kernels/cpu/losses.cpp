// (d) PPO clip loss, (e) KL penalties and (f) aggregation weights, on CPU.
// These are O(tokens) and memory-light, so they run single-threaded.
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

}  // namespace rlvr::kernels
