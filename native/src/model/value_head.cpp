// The critic's value head (PPO): a scalar Linear(h, 1) on the final-normed hidden
// state, as HF's *ForTokenClassification with num_labels = 1 (verl's critic model).
// The value of response token j is read at the row where its log-prob is read
// (the position before it), so values share the policy's row layout.
#include <cmath>
#include <string>
#include <vector>

#include "model/model_errors.h"
#include "model/model.h"

namespace rlvr::engine {
namespace {

// v = w . x + b with a double accumulator (h terms; fixed order, so bitwise reproducible).
float head_value(const float* x, const float* w, float b, int64_t h) {
  double s = 0;
  for (int64_t c = 0; c < h; ++c) s += static_cast<double>(x[c]) * w[c];
  return static_cast<float>(s + b);
}

}  // namespace

Status Model::values(const Batch& x, const float* row_mask, float* out) {
  if (!cfg_.value_head) return no_value_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  std::vector<float> xf;
  body_forward(x, xf);
  const float* w = param(score_w_idx_);
  const float b = *param(score_b_idx_);
  for (int64_t r = 0; r < n; ++r) {
    out[r] = 0.f;
    if ((row_mask ? row_mask[r] : x.mask[r]) == 0.f) continue;
    out[r] = head_value(xf.data() + r * H, w, b, H);
    if (!std::isfinite(out[r])) return bad_value(r);
  }
  return Status::Ok();
}

Status Model::value_forward_backward(const Batch& x, const float* old_values, const float* returns,
                                     const float* weights, float clip, float* values_out,
                                     kernels::ValueLossStats* stats) {
  if (!cfg_.value_head) return no_value_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  return train_body(x, [&](const float* xf, float* dxf) -> Status {
    const float* w = param(score_w_idx_);
    const float b = *param(score_b_idx_);
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < n; ++r) {
      if (values_out) values_out[r] = 0.f;
      if (weights[r] != 0.f) rows.push_back(r);
    }
    const int64_t R = static_cast<int64_t>(rows.size());
    std::vector<float> v(R), ov(R), ret(R), wt(R), dv(R);
    for (int64_t i = 0; i < R; ++i) {
      const int64_t r = rows[i];
      v[i] = head_value(xf + r * H, w, b, H);
      if (!std::isfinite(v[i])) {
        zero_grad();
        return bad_value(r);
      }
      ov[i] = old_values[r];
      ret[i] = returns[r];
      wt[i] = weights[r];
      if (values_out) values_out[r] = v[i];
    }
    kernels::ValueLossArgs a;
    a.n = R; a.values = v.data(); a.old_values = ov.data(); a.returns = ret.data(); a.weights = wt.data();
    a.clip = clip; a.dvalues = dv.data();
    kernels::ValueLossStats st;
    a.stats = &st;
    Status s = kernels::value_loss_cpu(a);
    if (!s.ok()) return s;
    if (stats) *stats = st;
    // d/dw += sum_r dv_r * xf_r ; d/db += sum_r dv_r ; dxf_r = dv_r * w
    float* gw = grad_.data() + params_[score_w_idx_].offset;
    float* gb = grad_.data() + params_[score_b_idx_].offset;
    double db = 0;
    for (int64_t i = 0; i < R; ++i) {
      const float d = dv[i];
      if (d == 0.f) continue;
      const float* xr = xf + rows[i] * H;
      float* dx = dxf + rows[i] * H;
      for (int64_t c = 0; c < H; ++c) {
        gw[c] += d * xr[c];
        dx[c] = d * w[c];
      }
      db += d;
    }
    *gb += static_cast<float>(db);
    return Status::Ok();
  });
}

}  // namespace rlvr::engine
