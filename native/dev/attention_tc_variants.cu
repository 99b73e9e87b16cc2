// rlvr_dev_attention_variants: the bf16 tensor-core attention's non-production tile-buffering
// variants (attention_tc_kernels.cuh) against the production ones, on one training-shaped
// problem: the forward with the value tile double-buffered and the dq kernel with
// double-buffered key / value tiles (two blocks per SM each; production single-buffers them, at
// three blocks per SM). Prints, as JSON, each variant's largest difference from production (the
// same math, so 0 is expected) and both timings.
//   usage: rlvr_dev_attention_variants [b t heads kv_heads head_dim reps]   (default 4 2048 12 2 128 10)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/timing.h"
#include "ops/cuda/attention_tc_kernels.cuh"
#include "test/harness.h"

using namespace rlvr;
using namespace rlvr::engine::ops;

namespace {

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

std::vector<float> randn(size_t n, Rng& r) {
  std::vector<float> v(n);
  for (auto& x : v) x = r.normal();
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  auto arg = [&](int i, int64_t def) { return argc > i ? std::atoll(argv[i]) : def; };
  const int64_t B = arg(1, 4), T = arg(2, 2048), NH = arg(3, 12), NKV = arg(4, 2), HD = arg(5, 128);
  const int reps = static_cast<int>(arg(6, 10));
  if (!attn::tc_supported(HD)) {
    std::printf("{\"skipped\": \"no sm_80+ device, or head_dim > 128\"}\n");
    return 0;
  }
  const int64_t n = B * T, Q = NH * HD, KV = NKV * HD;
  Rng rng(7);
  DevBuf<float> q(randn(n * Q, rng)), k(randn(n * KV, rng)), v(randn(n * KV, rng)), dout(randn(n * Q, rng));
  DevBuf<float> mask(std::vector<float>(n, 1.f));
  DevBuf<float> out(n * Q), lse(n * NH), dq(n * Q), dk(n * KV), dv(n * KV);
  attn::Geo geo{Q, KV, NH / NKV, 1.0f / std::sqrt(static_cast<float>(HD))};

  AttnFwdArgs af;
  af.b = B; af.tq = T; af.heads = NH; af.kv_heads = NKV; af.head_dim = HD; af.q = q.p; af.k = k.p; af.v = v.p;
  af.seq_stride = T; af.mask = mask.p; af.mask_stride = T; af.out = out.p; af.lse = lse.p; af.bf16 = true;
  SCHECK(attn::fwd_tc_with<true>(af, geo));  // production
  const std::vector<float> out_prod = out.get(), lse_prod = lse.get();
  SCHECK(attn::fwd_tc_with<false>(af, geo));  // double-buffered V
  const float fwd_diff = std::max(max_diff(out.get(), out_prod), max_diff(lse.get(), lse_prod));
  const double fwd_prod_ms = time_ms(reps, [&] { SCHECK(attn::fwd_tc_with<true>(af, geo)); });
  const double fwd_dbv_ms = time_ms(reps, [&] { SCHECK(attn::fwd_tc_with<false>(af, geo)); });
  SCHECK(attn::fwd_tc_with<true>(af, geo));  // the backward reads the production forward's out / lse

  // drow[r, h] = sum_d dout * out (what attention_bwd_cuda computes before the kernels)
  const std::vector<float> o = out.get(), g = dout.get();
  std::vector<float> drow_h(n * NH);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t h = 0; h < NH; ++h) {
      float s = 0;
      for (int64_t d = 0; d < HD; ++d) s += g[r * Q + h * HD + d] * o[r * Q + h * HD + d];
      drow_h[r * NH + h] = s;
    }
  DevBuf<float> drow(drow_h);
  AttnBwdArgs ab;
  ab.b = B; ab.t = T; ab.heads = NH; ab.kv_heads = NKV; ab.head_dim = HD; ab.q = q.p; ab.k = k.p; ab.v = v.p;
  ab.mask = mask.p; ab.out = out.p; ab.lse = lse.p; ab.dout = dout.p; ab.dq = dq.p; ab.dk = dk.p; ab.dv = dv.p;
  ab.bf16 = true;
  SCHECK(attn::bwd_tc_with<true>(ab, geo, drow.p));  // production
  const std::vector<float> dq_prod = dq.get();
  SCHECK(attn::bwd_tc_with<false>(ab, geo, drow.p));  // double-buffered dq tiles
  const float dq_diff = max_diff(dq.get(), dq_prod);
  const double bwd_prod_ms = time_ms(reps, [&] { SCHECK(attn::bwd_tc_with<true>(ab, geo, drow.p)); });
  const double bwd_dq2_ms = time_ms(reps, [&] { SCHECK(attn::bwd_tc_with<false>(ab, geo, drow.p)); });

  std::printf(
      "{\"shape\": {\"b\": %lld, \"t\": %lld, \"heads\": %lld, \"kv_heads\": %lld, \"head_dim\": %lld}, \"reps\": %d,\n"
      " \"fwd\": {\"production_ms\": %.4f, \"double_buffered_v_ms\": %.4f, \"max_abs_diff\": %g},\n"
      " \"bwd\": {\"production_ms\": %.4f, \"dq_double_buffered_ms\": %.4f, \"dq_max_abs_diff\": %g}}\n",
      (long long)B, (long long)T, (long long)NH, (long long)NKV, (long long)HD, reps, fwd_prod_ms, fwd_dbv_ms,
      fwd_diff, bwd_prod_ms, bwd_dq2_ms, dq_diff);
  return 0;
}
