// (h) The fused policy objective on CPU: per row, the streaming log-prob /
// entropy pass, the per-token loss terms, then dlogits written by the row
// backward, so no [n, v] softmax is ever materialized.
#include <algorithm>
#include <atomic>
#include <vector>

#include "kernels/cpu/loss_math.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_softmax.h"
#include "kernels/kernels.h"

namespace rlvr::kernels {

Status policy_loss_cpu(const PolicyLossArgs& a) {
  if (Status s = check_policy_dlogits(a); !s.ok()) return s;
  const float inv_t = 1.0f / a.temperature;
  const DType out_dtype = policy_dlogits_dtype(a);
  const int64_t row_bytes = a.v * dtype_size(a.logits_dtype), out_row_bytes = a.v * dtype_size(out_dtype);
  const int threads = cpu::num_threads();
  std::vector<PolicyLossStats> partial(threads);
  std::atomic<int64_t> bad{a.n};
  cpu::parallel_for(a.n, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, a.v)), [&](int64_t b, int64_t e, int tid) {
    PolicyLossStats& st = partial[tid];
    for (int64_t i = b; i < e; ++i) {
      const char* row = static_cast<const char*>(a.logits) + i * row_bytes;
      cpu::RowResult r = cpu::row_forward(row, a.logits_dtype, a.v, a.targets[i], inv_t);
      if (r.bad) {
        int64_t cur = bad.load();
        while (i < cur && !bad.compare_exchange_weak(cur, i)) {}
        continue;
      }
      const float logp = r.logp, w = a.weights[i];
      a.logp[i] = logp;
      a.entropy[i] = r.entropy;
      float g_logp = 0.f, term = 0.f;
      if (a.pg_coef != 0.f) {
        cpu::PgTerm pg = cpu::ppo_clip_term(logp, a.old_logp[i], a.advantages[i], a.clip_low, a.clip_high,
                                            a.dual_clip);
        st.pg_loss += static_cast<double>(w) * pg.loss;
        st.clipfrac += static_cast<double>(w) * pg.clipped;
        st.dual_clipfrac += static_cast<double>(w) * pg.dual_clipped;
        st.ppo_kl += static_cast<double>(w) * (a.old_logp[i] - logp);
        term += a.pg_coef * pg.loss;
        g_logp += a.pg_coef * pg.dlogp;
      }
      if (a.kl_coef != 0.f) {
        cpu::KlTerm kl = cpu::kl_term(logp, a.ref_logp[i], a.kl_type);
        st.kl_loss += static_cast<double>(w) * kl.kl;
        term += a.kl_coef * kl.kl;
        g_logp += a.kl_coef * kl.dlogp;
      }
      st.entropy += static_cast<double>(w) * r.entropy;
      term -= a.entropy_coeff * r.entropy;
      st.total += static_cast<double>(w) * term;
      st.weight_sum += w;
      if (a.dlogits) {
        cpu::row_backward(row, a.logits_dtype, static_cast<char*>(a.dlogits) + i * out_row_bytes, out_dtype, a.v,
                          a.targets[i], inv_t, r.lse, r.entropy, w * g_logp, -w * a.entropy_coeff);
      }
    }
  });
  if (a.bad_row) *a.bad_row = bad.load() == a.n ? -1 : bad.load();
  if (a.stats) {
    PolicyLossStats s;
    for (const auto& p : partial) {
      s.total += p.total; s.pg_loss += p.pg_loss; s.kl_loss += p.kl_loss; s.entropy += p.entropy;
      s.clipfrac += p.clipfrac; s.dual_clipfrac += p.dual_clipfrac; s.ppo_kl += p.ppo_kl; s.weight_sum += p.weight_sum;
    }
    if (s.weight_sum > 0) {
      s.clipfrac /= s.weight_sum;
      s.dual_clipfrac /= s.weight_sum;
      s.ppo_kl /= s.weight_sum;
    }
    *a.stats = s;
  }
  return Status::Ok();
}

}  // namespace rlvr::kernels
