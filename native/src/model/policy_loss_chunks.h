// The LM head's fused policy loss runs over row chunks (OpsModel): the kernel's loss options come from LossOptions, and each
// chunk's statistics merge into the call's: the weighted sums add, and the
// weighted means (clipfrac, dual_clipfrac, ppo_kl) are re-weighted by each
// chunk's weight sum, so any chunking gives the statistics of one big call.
#pragma once

#include "model/config.h"
#include "kernels/kernels.h"

namespace rlvr::engine {

// PolicyLossArgs with the loss options filled in; the caller sets the tensors.
inline kernels::PolicyLossArgs policy_loss_args(const LossOptions& o) {
  kernels::PolicyLossArgs pa;
  pa.temperature = o.temperature; pa.pg_coef = o.pg_coef; pa.kl_coef = o.kl_coef; pa.entropy_coeff = o.entropy_coeff;
  pa.clip_low = o.clip_low; pa.clip_high = o.clip_high; pa.dual_clip = o.dual_clip; pa.kl_type = o.kl_type;
  return pa;
}

class PolicyLossTotal {
 public:
  void add(const kernels::PolicyLossStats& st) {
    t_.total += st.total; t_.pg_loss += st.pg_loss; t_.kl_loss += st.kl_loss; t_.entropy += st.entropy;
    clip_sum_ += st.clipfrac * st.weight_sum; dual_sum_ += st.dual_clipfrac * st.weight_sum;
    kl_sum_ += st.ppo_kl * st.weight_sum; t_.weight_sum += st.weight_sum;
  }
  kernels::PolicyLossStats result() const {
    kernels::PolicyLossStats r = t_;
    if (r.weight_sum != 0) {
      r.clipfrac = clip_sum_ / r.weight_sum;
      r.dual_clipfrac = dual_sum_ / r.weight_sum;
      r.ppo_kl = kl_sum_ / r.weight_sum;
    }
    return r;
  }

 private:
  kernels::PolicyLossStats t_;
  double clip_sum_ = 0, dual_sum_ = 0, kl_sum_ = 0;
};

}  // namespace rlvr::engine
