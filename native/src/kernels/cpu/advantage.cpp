// (c) GRPO outcome advantages and (g) GAE, on CPU.
#include <cmath>

#include "kernels/kernels.h"

namespace rlvr::kernels {

Status grpo_advantage_cpu(const GrpoAdvantageArgs& a) {
  const int64_t g = a.group_size;
  for (int64_t start = 0; start < a.b; start += g) {
    double mean = 0, std = 1;
    if (g > 1) {
      double sum = 0;
      for (int64_t i = 0; i < g; ++i) sum += a.scores[start + i];
      mean = sum / static_cast<double>(g);
      double ss = 0;
      for (int64_t i = 0; i < g; ++i) {
        double d = a.scores[start + i] - mean;
        ss += d * d;
      }
      std = std::sqrt(ss / static_cast<double>(g - 1));  // unbiased, as the reference implementation
    } else {
      mean = 0;  // a lone response has no group baseline
    }
    for (int64_t i = 0; i < g; ++i) {
      double d = a.scores[start + i] - mean;
      a.advantages[start + i] = static_cast<float>(a.norm_std ? d / (std + a.eps) : d);
    }
  }
  if (a.token_advantages) {
    for (int64_t r = 0; r < a.b; ++r)
      for (int64_t j = 0; j < a.t; ++j) a.token_advantages[r * a.t + j] = a.advantages[r] * a.mask[r * a.t + j];
  }
  return Status::Ok();
}

Status gae_cpu(const GaeArgs& a) {
  for (int64_t r = 0; r < a.b; ++r) {
    const float* rew = a.rewards + r * a.t;
    const float* val = a.values + r * a.t;
    const float* m = a.mask + r * a.t;
    float* adv = a.advantages + r * a.t;
    float* ret = a.returns + r * a.t;
    float next_value = 0.f, next_adv = 0.f;
    for (int64_t j = a.t - 1; j >= 0; --j) {
      if (m[j] == 0.f) {
        adv[j] = 0.f;
        ret[j] = 0.f;
        continue;
      }
      float delta = rew[j] + a.gamma * next_value - val[j];
      next_adv = delta + a.gamma * a.lambda * next_adv;
      next_value = val[j];
      adv[j] = next_adv;
      ret[j] = next_adv + val[j];
    }
  }
  if (a.whiten) {
    const int64_t total = a.b * a.t;
    double sum = 0, count = 0;
    for (int64_t i = 0; i < total; ++i) {
      sum += static_cast<double>(a.advantages[i]) * a.mask[i];
      count += a.mask[i];
    }
    double mean = count > 0 ? sum / count : 0.0;
    double ss = 0;
    for (int64_t i = 0; i < total; ++i) {
      double d = a.advantages[i] - mean;
      ss += d * d * a.mask[i];
    }
    // masked unbiased variance (count - 1); a single token has none: treat as 0
    double var = count > 1 ? ss / (count - 1) : 0.0;
    double inv = 1.0 / std::sqrt(var + 1e-8);
    for (int64_t i = 0; i < total; ++i)
      a.advantages[i] = static_cast<float>((a.advantages[i] - mean) * inv * a.mask[i]);
  }
  return Status::Ok();
}

}  // namespace rlvr::kernels
