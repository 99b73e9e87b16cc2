// OpsModel's critic value head (ops_model.h): a scalar Linear(h, 1) on the final-normed
// hidden state, HF *ForTokenClassification with num_labels = 1 (verl's critic).
// Built from the existing ops only, so the CUDA backend needs no new kernel:
//  - the rows that matter are gathered with embed_fwd (as the LM head);
//  - values: the GEMM with n = 1, v[R] = x[R, h] score.w[1, h]^T + score.b;
//  - the loss: Backend::value_loss (kernels.h (j): value_loss_cpu / _cuda) on
//    the gathered rows, giving dv[R] and the stats;
//  - d x = dv[R, 1] score.w[1, h] (GEMM, k = 1), scattered back into d xf
//    with embed_bwd (rows are distinct, so it is a copy); d score.w += dv^T x
//    (GEMM, m = 1); d score.b += sum dv (bias_bwd with d = 1);
//  - then the same body backward as forward_backward (train_body).
// In bf16_gemm mode the head's GEMMs take bf16 operands like the LM head's.
#include <cmath>
#include <string>
#include <vector>

#include "model/ops_model.h"
#include "model/ops_model_internal.h"
#include "model/model_errors.h"

namespace rlvr::engine {

// v[i] = score.w . xf[rows[i]] + score.b for the R rows (already uploaded to rows_d):
// gathers them into kXc and leaves the values in kVal (backend memory). *xin: the
// gathered rows as the GEMMs take them (fp32, or their bf16 copy in kCastA).
Status OpsModel::value_rows(const float* xf, const int32_t* rows_d, int64_t R, float** xc, const void** xin,
                            float** v) {
  const int64_t H = cfg_.hidden;
  RLVR_TRY(ws(kXc, R * H, xc));
  RLVR_TRY(ws(kVal, R, v));
  RLVR_TRY(be_.embed_fwd(xf, rows_d, R, H, *xc));
  RLVR_TRY(gin(*xc, R * H, kCastA, xin));
  const float* bias = static_cast<const float*>(data_.get()) + params_[score_b_idx_].offset;
  return linear_fwd(R, 1, H, *xin, score_w_idx_, bias, *v);
}

Status OpsModel::values(const Batch& x, const float* row_mask, float* out) {
  if (!cfg_.value_head) return no_value_head();
  const int64_t n = x.b * x.t;
  const float* xf;
  RLVR_TRY(body_forward(x, &xf));
  std::vector<int32_t> rows;
  for (int64_t r = 0; r < n; ++r) {
    out[r] = 0.f;
    if ((row_mask ? row_mask[r] : x.mask[r]) != 0.f) rows.push_back(static_cast<int32_t>(r));
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  if (R == 0) return Status::Ok();
  int32_t* rows_d;
  float *xc, *v;
  const void* xin;
  RLVR_TRY(ws(kRows, R, &rows_d));
  RLVR_TRY(be_.upload(rows_d, rows.data(), R * 4));
  RLVR_TRY(value_rows(xf, rows_d, R, &xc, &xin, &v));
  std::vector<float> hv(static_cast<size_t>(R));
  RLVR_TRY(be_.download(hv.data(), v, R * 4));
  for (int64_t i = 0; i < R; ++i) {
    out[rows[i]] = hv[i];
    if (!std::isfinite(hv[i])) return bad_value(rows[i]);
  }
  return Status::Ok();
}

Status OpsModel::value_forward_backward(const Batch& x, const float* old_values, const float* returns,
                                        const float* weights, float clip, float* values_out,
                                        kernels::ValueLossStats* stats) {
  if (!cfg_.value_head) return no_value_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  return train_body(x, [&](const float* xf, float* dxf) -> Status {
    std::vector<int32_t> rows;
    for (int64_t r = 0; r < n; ++r) {
      if (values_out) values_out[r] = 0.f;
      if (weights[r] != 0.f) rows.push_back(static_cast<int32_t>(r));
    }
    const int64_t R = static_cast<int64_t>(rows.size());
    kernels::ValueLossStats st;
    if (R == 0) {  // no rows: zero loss and gradients (value_loss with n = 0), but still validate clip
      kernels::ValueLossArgs a;
      a.clip = clip;
      a.stats = &st;
      RLVR_TRY(kernels::value_loss_cpu(a));
      if (stats) *stats = st;
      return Status::Ok();
    }
    // Per-row inputs gathered on the host, uploaded once.
    std::vector<float> ov(static_cast<size_t>(R)), ret(static_cast<size_t>(R)), wt(static_cast<size_t>(R));
    for (int64_t i = 0; i < R; ++i) {
      ov[i] = old_values[rows[i]];
      ret[i] = returns[rows[i]];
      wt[i] = weights[rows[i]];
    }
    int32_t* rows_d;
    float *ov_d, *ret_d, *wt_d, *dv, *dxc, *xc, *v;
    const void *xin, *dvin;
    RLVR_TRY(ws(kRows, R, &rows_d)); RLVR_TRY(ws(kOld, R, &ov_d)); RLVR_TRY(ws(kRef, R, &ret_d));
    RLVR_TRY(ws(kWts, R, &wt_d)); RLVR_TRY(ws(kDval, R, &dv)); RLVR_TRY(ws(kDxc, R * H, &dxc));
    RLVR_TRY(be_.upload(rows_d, rows.data(), R * 4)); RLVR_TRY(be_.upload(ov_d, ov.data(), R * 4));
    RLVR_TRY(be_.upload(ret_d, ret.data(), R * 4)); RLVR_TRY(be_.upload(wt_d, wt.data(), R * 4));
    RLVR_TRY(value_rows(xf, rows_d, R, &xc, &xin, &v));
    std::vector<float> hv(static_cast<size_t>(R));
    RLVR_TRY(be_.download(hv.data(), v, R * 4));
    for (int64_t i = 0; i < R; ++i) {
      if (!std::isfinite(hv[i])) {
        RLVR_TRY(zero_grad());  // as Model: partial gradients of this call are meaningless
        return bad_value(rows[i]);
      }
      if (values_out) values_out[rows[i]] = hv[i];
    }
    kernels::ValueLossArgs a;
    a.n = R; a.values = v; a.old_values = ov_d; a.returns = ret_d; a.weights = wt_d;
    a.clip = clip; a.dvalues = dv; a.stats = &st;
    RLVR_TRY(be_.value_loss(a));
    if (stats) *stats = st;
    // d xc = dv[R, 1] w[1, H]; d w[1, H] += dv^T xc; d b += sum dv; scatter d xc into dxf.
    float* G = static_cast<float*>(grad_.get());
    RLVR_TRY(gin(dv, R, kCastB, &dvin));
    RLVR_TRY(be_.gemm(ops::linear_bwd_input(R, 1, H, dvin, W(score_w_idx_), dxc, false, gdt())));
    RLVR_TRY(be_.gemm(ops::linear_bwd_weight(R, 1, H, dvin, xin, G + params_[score_w_idx_].offset, gdt())));
    RLVR_TRY(be_.bias_bwd(dv, G + params_[score_b_idx_].offset, R, 1));
    return be_.embed_bwd(rows_d, dxc, R, H, dxf);
  });
}

}  // namespace rlvr::engine
