// The critic's value head (PPO): a scalar Linear(h, 1) on the final-normed hidden
// state, as HF's *ForTokenClassification with num_labels = 1 (verl's critic model).
// The value of response token j is read at the row where its log-prob is read
// (the position before it), so values share the policy's row layout.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model/model_errors.h"
#include "model/model.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"

namespace rlvr::engine {
namespace {

// The scored rows of xf [*, h] gathered into xc [R, h].
void gather_rows(const float* xf, const std::vector<int64_t>& rows, int64_t h, std::vector<float>& xc) {
  xc.resize(rows.size() * static_cast<size_t>(h));
  for (size_t i = 0; i < rows.size(); ++i) std::memcpy(xc.data() + i * h, xf + rows[i] * h, sizeof(float) * h);
}

}  // namespace

// v = xc score.w^T + score.b: the GEMM with n = 1, as OpsModel's head (ops_value_head.cpp), so
// both run the same op sequence (fp32 accumulation, then the bias).
Status Model::values(const Batch& x, const float* row_mask, float* out) {
  if (!cfg_.value_head) return no_value_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  std::vector<float> xf;
  body_forward(x, xf);
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < n; ++r) {
    out[r] = 0.f;
    if ((row_mask ? row_mask[r] : x.mask[r]) != 0.f) rows.push_back(r);
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  if (R == 0) return Status::Ok();
  std::vector<float> xc, v(static_cast<size_t>(R));
  gather_rows(xf.data(), rows, H, xc);
  linear_fwd(R, 1, H, xc.data(), wt(score_w_idx_), param(score_b_idx_), v.data());
  for (int64_t i = 0; i < R; ++i) {
    out[rows[i]] = v[i];
    if (!std::isfinite(v[i])) return bad_value(rows[i]);
  }
  return Status::Ok();
}

Status Model::value_forward_backward(const Batch& x, const float* old_values, const float* returns,
                                     const float* weights, float clip, float* values_out,
                                     kernels::ValueLossStats* stats) {
  if (!cfg_.value_head) return no_value_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  return train_body(x, [&](const float* xf, float* dxf) -> Status {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < n; ++r) {
      if (values_out) values_out[r] = 0.f;
      if (weights[r] != 0.f) rows.push_back(r);
    }
    const int64_t R = static_cast<int64_t>(rows.size());
    std::vector<float> xc, v(R), ov(R), ret(R), wt8(R), dv(R), dxc(R * H);
    gather_rows(xf, rows, H, xc);
    if (R > 0) linear_fwd(R, 1, H, xc.data(), wt(score_w_idx_), param(score_b_idx_), v.data());
    for (int64_t i = 0; i < R; ++i) {
      const int64_t r = rows[i];
      if (!std::isfinite(v[i])) {
        zero_grad();
        return bad_value(r);
      }
      ov[i] = old_values[r];
      ret[i] = returns[r];
      wt8[i] = weights[r];
      if (values_out) values_out[r] = v[i];
    }
    kernels::ValueLossArgs a;
    a.n = R; a.values = v.data(); a.old_values = ov.data(); a.returns = ret.data(); a.weights = wt8.data();
    a.clip = clip; a.dvalues = dv.data();
    kernels::ValueLossStats st;
    a.stats = &st;
    Status s = kernels::value_loss_cpu(a);
    if (!s.ok()) return s;
    if (stats) *stats = st;
    if (R == 0) return Status::Ok();
    // dxc = dv[R, 1] w[1, H]; dw[1, H] += dv^T xc; db += sum dv; dxc scattered (added) into dxf
    float* gw = grad_.data() + params_[score_w_idx_].offset;
    float* gb = grad_.data() + params_[score_b_idx_].offset;
    linear_bwd_input(R, 1, H, dv.data(), param(score_w_idx_), dxc.data(), false);
    linear_bwd_weight(R, 1, H, dv.data(), xc.data(), gw);
    cpuops::bias_bwd(dv.data(), gb, R, 1);
    for (int64_t i = 0; i < R; ++i) {
      float* d = dxf + rows[i] * H;
      for (int64_t c = 0; c < H; ++c) d[c] += dxc[i * H + c];
    }
    return Status::Ok();
  });
}

}  // namespace rlvr::engine
