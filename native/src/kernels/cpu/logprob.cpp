// (a) fused token log-prob + entropy forward and (b) its backward, on CPU.
#include <algorithm>
#include <atomic>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_softmax.h"
#include "kernels/kernels.h"

namespace rlvr::kernels {

namespace {
// Rows per thread such that each thread gets at least ~64K elements.
int64_t min_rows(int64_t v) { return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, v)); }

const char* row_ptr(const void* base, DType d, int64_t row, int64_t v) {
  return static_cast<const char*>(base) + row * v * dtype_size(d);
}
}  // namespace

Status logprob_fwd_cpu(const LogprobFwdArgs& a) {
  const float inv_t = 1.0f / a.temperature;
  std::atomic<int64_t> bad{a.n};
  cpu::parallel_for(a.n, min_rows(a.v), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      cpu::RowResult r = cpu::row_forward(row_ptr(a.logits, a.logits_dtype, i, a.v), a.logits_dtype, a.v,
                                          a.targets[i], inv_t);
      if (r.bad) {
        int64_t cur = bad.load();
        while (i < cur && !bad.compare_exchange_weak(cur, i)) {}
        continue;
      }
      a.lse[i] = r.lse;
      a.entropy[i] = r.entropy;
      a.logp[i] = r.logp;
    }
  });
  if (a.bad_row) *a.bad_row = bad.load() == a.n ? -1 : bad.load();
  return Status::Ok();
}

Status logprob_bwd_cpu(const LogprobBwdArgs& a) {
  const float inv_t = 1.0f / a.temperature;
  const int64_t row_bytes = a.v * dtype_size(a.logits_dtype);
  cpu::parallel_for(a.n, min_rows(a.v), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      cpu::row_backward(row_ptr(a.logits, a.logits_dtype, i, a.v), a.logits_dtype,
                        static_cast<char*>(a.dlogits) + i * row_bytes, a.logits_dtype, a.v, a.targets[i], inv_t,
                        a.lse[i], a.entropy[i], a.dlogp ? a.dlogp[i] : 0.f, a.dentropy ? a.dentropy[i] : 0.f);
    }
  });
  return Status::Ok();
}

}  // namespace rlvr::kernels
