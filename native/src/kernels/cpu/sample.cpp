// (i) Token sampling on CPU: greedy, temperature, top-k and exact top-p.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/dtype.h"
#include "kernels/cpu/parallel.h"
#include "kernels/kernels.h"

namespace rlvr::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Cand {
  float p;
  int32_t id;
};
// descending probability, ties to the lower index: a total order, so results are deterministic
inline bool before(const Cand& a, const Cand& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); }

// Returns the sampled id, or -1 when the row is invalid (NaN, +inf, all -inf).
int32_t sample_row(const float* z, int64_t v, const SampleArgs& a, float u, std::vector<Cand>& cand) {
  float m = -kInf;
  int64_t arg = -1;
  for (int64_t j = 0; j < v; ++j) {
    if (std::isnan(z[j]) || z[j] == kInf) return -1;
    if (z[j] > m) { m = z[j]; arg = j; }
  }
  if (arg < 0) return -1;
  if (a.temperature == 0.f) return static_cast<int32_t>(arg);
  const float inv_t = 1.f / a.temperature, mt = m * inv_t;
  const bool top_k = a.top_k > 0 && a.top_k < v, top_p = a.top_p < 1.f;
  if (!top_k && !top_p) {
    double total = 0;
    for (int64_t j = 0; j < v; ++j) total += std::exp(z[j] * inv_t - mt);
    const double target = static_cast<double>(u) * total;
    double cum = 0;
    int64_t last = arg;
    for (int64_t j = 0; j < v; ++j) {
      const double p = std::exp(z[j] * inv_t - mt);
      if (p == 0) continue;
      cum += p;
      last = j;
      if (cum > target) return static_cast<int32_t>(j);
    }
    return static_cast<int32_t>(last);  // rounding left target at the very end
  }
  cand.clear();
  for (int64_t j = 0; j < v; ++j) {
    float p = std::exp(z[j] * inv_t - mt);
    if (p > 0.f) cand.push_back({p, static_cast<int32_t>(j)});
  }
  if (top_k && static_cast<int64_t>(cand.size()) > a.top_k) {
    std::nth_element(cand.begin(), cand.begin() + (a.top_k - 1), cand.end(), before);
    cand.resize(a.top_k);
  }
  size_t keep = cand.size();
  if (top_p) {
    double mass = 0;
    for (const Cand& c : cand) mass += c.p;
    const double need = static_cast<double>(a.top_p) * mass;
    // Shrink to {p >= t} with t halving from the max until that set holds the
    // nucleus mass: the nucleus is a prefix of the sorted order, hence inside it.
    float t = 1.f;  // max p is exactly 1 (z = max)
    for (;;) {
      double s = 0;
      for (const Cand& c : cand) if (c.p >= t) s += c.p;
      if (s >= need || t == 0.f) break;
      t *= 0.5f;
      if (t < 1e-38f) t = 0.f;
    }
    auto mid = std::partition(cand.begin(), cand.end(), [t](const Cand& c) { return c.p >= t; });
    cand.erase(mid, cand.end());
    std::sort(cand.begin(), cand.end(), before);
    double cum = 0;
    keep = cand.size();
    for (size_t i = 0; i < cand.size(); ++i) {
      cum += cand[i].p;
      if (cum >= need) { keep = i + 1; break; }
    }
  } else {
    std::sort(cand.begin(), cand.end(), before);
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += cand[i].p;
  const double target = static_cast<double>(u) * total;
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += cand[i].p;
    if (cum > target) return cand[i].id;
  }
  return cand[keep - 1].id;
}

}  // namespace

Status sample_cpu(const SampleArgs& a) {
  std::atomic<int64_t> bad{a.b};
  cpu::parallel_for(a.b, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, a.v)), [&](int64_t lo, int64_t hi, int) {
    std::vector<float> buf(a.logits_dtype == DType::F32 ? 0 : a.v);
    std::vector<Cand> cand;
    for (int64_t r = lo; r < hi; ++r) {
      const float* z;
      if (a.logits_dtype == DType::F32) {
        z = static_cast<const float*>(a.logits) + r * a.v;
      } else {
        cpu::load_f32(a.logits, a.logits_dtype, r * a.v, a.v, buf.data());
        z = buf.data();
      }
      int32_t id = sample_row(z, a.v, a, a.uniforms[r], cand);
      if (id < 0) {
        int64_t cur = bad.load();
        while (r < cur && !bad.compare_exchange_weak(cur, r)) {}
        id = 0;
      }
      a.tokens[r] = id;
    }
  });
  if (a.bad_row) *a.bad_row = bad.load() == a.b ? -1 : bad.load();
  return Status::Ok();
}

}  // namespace rlvr::kernels
