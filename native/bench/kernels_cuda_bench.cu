// rlvr_cuda_bench: throughput of the fused log-prob kernels at N x V, against
// the device-to-device cudaMemcpy bandwidth measured in the same run. Prints
// one JSON object to stdout.
//   usage: rlvr_cuda_bench [N=4096] [V=151936] [reps=20]
#include <cuda_bf16.h>

#include <cmath>
#include <string>

#include "bench/timing.h"
#include "test/harness.h"

using namespace rlvr;
using namespace rlvr::kernels;

namespace {

// Deterministic pseudo-random logits in (-3.4, 3.4), triangular, written on the device.
__global__ void fill_kernel(float* x, int64_t count, uint64_t seed) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 27;
    const float u1 = ((h >> 40) + 0.5f) * (1.f / 16777216.f), u2 = ((h & 0xffffff) + 0.5f) * (1.f / 16777216.f);
    x[i] = 2.f * (u1 + u2 - 1.f) * 1.7f;
  }
}
__global__ void f32_to_bf16_kernel(const float* in, __nv_bfloat16* out, int64_t count) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}
__global__ void targets_kernel(int32_t* t, int64_t n, int64_t v) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    t[i] = static_cast<int32_t>((i * 2654435761ull) % static_cast<uint64_t>(v));
}


std::string entry(const char* name, const char* dtype, double ms, double bytes, double copy_gbs, int64_t n,
                  bool last) {
  const double gbs = bytes / (ms * 1e6);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "    {\"kernel\": \"%s\", \"dtype\": \"%s\", \"ms\": %.4f, \"bytes\": %.0f, \"gb_per_s\": %.1f, "
                "\"fraction_of_copy_bw\": %.3f, \"ms_per_million_tokens\": %.4f}%s\n",
                name, dtype, ms, bytes, gbs, gbs / copy_gbs, ms / (n / 1e6), last ? "" : ",");
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::stoll(argv[1]) : 4096;
  const int64_t v = argc > 2 ? std::stoll(argv[2]) : 151936;
  const int reps = argc > 3 ? std::stoi(argv[3]) : 20;
  if (cuda::device_count() == 0) {
    std::fprintf(stderr, "no CUDA device\n");
    return 1;
  }
  SCHECK(cuda::set_device(0));
  cuda::DeviceInfo info;
  SCHECK(cuda::device_info(0, &info));

  const int64_t count = n * v;
  DevBuf<float> f32(count), work_f32(count), lp(n), H(n), lse(n), dlp(n), old(n), ref(n), adv(n), w(n);
  DevBuf<__nv_bfloat16> bf16(count), work_bf16(count);
  DevBuf<int32_t> targets(n);
  fill_kernel<<<4096, 256>>>(f32.p, count, 1234);
  f32_to_bf16_kernel<<<4096, 256>>>(f32.p, bf16.p, count);
  targets_kernel<<<64, 256>>>(targets.p, n, v);
  HCHECK(cudaGetLastError());
  {
    std::vector<float> h(n, 1.f / n), z(n, 0.f), a(n);
    for (int64_t i = 0; i < n; ++i) a[i] = (i % 7) / 3.f - 1.f;
    w.put(h); adv.put(a); dlp.put(h);
  }
  HCHECK(cudaDeviceSynchronize());

  // Device copy bandwidth: read + write of the bf16 logits size, as bandwidthTest counts it.
  const double bf_bytes = double(count) * 2, f_bytes = double(count) * 4;
  const double copy_ms = time_ms(reps, [&] {
    HCHECK(cudaMemcpy(work_bf16.p, bf16.p, static_cast<size_t>(bf_bytes), cudaMemcpyDeviceToDevice));
  });
  const double copy_gbs = 2 * bf_bytes / (copy_ms * 1e6);

  std::string out = "{\n";
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "  \"device\": \"%s\", \"sm\": \"%d.%d\", \"sms\": %d, \"cuda_runtime\": \"%s\", \"n\": %lld, "
                "\"v\": %lld, \"reps\": %d,\n  \"copy\": {\"ms\": %.4f, \"bytes\": %.0f, \"gb_per_s\": %.1f},\n"
                "  \"results\": [\n",
                info.name.c_str(), info.cc_major, info.cc_minor, info.sm_count, cuda::runtime_version().c_str(),
                (long long)n, (long long)v, reps, copy_ms, 2 * bf_bytes, copy_gbs);
  out += buf;

  struct Variant { const char* name; DType d; const void* src; void* work; double bytes; };
  const Variant variants[] = {{"f32", DType::F32, f32.p, work_f32.p, f_bytes},
                              {"bf16", DType::BF16, bf16.p, work_bf16.p, bf_bytes}};
  for (int k = 0; k < 2; ++k) {
    const Variant& x = variants[k];
    LogprobFwdArgs fa;
    fa.logits = x.src; fa.logits_dtype = x.d; fa.n = n; fa.v = v; fa.targets = targets.p; fa.logp = lp.p;
    fa.entropy = H.p; fa.lse = lse.p;
    int64_t bad = -2;
    fa.bad_row = &bad;  // once with the (synchronizing) bad-row check, then timed without
    SCHECK(logprob_fwd_cuda(fa));
    if (bad != -1) std::fprintf(stderr, "unexpected bad row %lld\n", (long long)bad);
    fa.bad_row = nullptr;
    const double fwd = time_ms(reps, [&] { SCHECK(logprob_fwd_cuda(fa)); });

    LogprobBwdArgs ba;
    ba.logits = x.src; ba.logits_dtype = x.d; ba.n = n; ba.v = v; ba.targets = targets.p; ba.lse = lse.p;
    ba.entropy = H.p; ba.dlogp = dlp.p; ba.dentropy = dlp.p; ba.dlogits = x.work;
    const double bwd = time_ms(reps, [&] { SCHECK(logprob_bwd_cuda(ba)); });
    const double fwdbwd = time_ms(reps, [&] {
      SCHECK(logprob_fwd_cuda(fa));
      SCHECK(logprob_bwd_cuda(ba));
    });

    HCHECK(cudaMemcpy(old.p, lp.p, n * 4, cudaMemcpyDeviceToDevice));
    HCHECK(cudaMemcpy(ref.p, lp.p, n * 4, cudaMemcpyDeviceToDevice));
    PolicyLossArgs pa;
    pa.logits = x.src; pa.logits_dtype = x.d; pa.n = n; pa.v = v; pa.targets = targets.p; pa.temperature = 1.f;
    pa.old_logp = old.p; pa.ref_logp = ref.p; pa.advantages = adv.p; pa.weights = w.p; pa.kl_coef = 0.001f;
    pa.entropy_coeff = 0.001f; pa.logp = lp.p; pa.entropy = H.p;
    const double pl_fwd = time_ms(reps, [&] { SCHECK(policy_loss_cuda(pa)); });
    pa.dlogits = x.work;
    const double pl = time_ms(reps, [&] { SCHECK(policy_loss_cuda(pa)); });
    // As a trainer calls it: stats and the bad-row check read back (synchronizes per call).
    PolicyLossStats st;
    pa.stats = &st;
    pa.bad_row = &bad;
    const double pl_sync = time_ms(reps, [&] { SCHECK(policy_loss_cuda(pa)); });

    out += entry("logprob_fwd", x.name, fwd, x.bytes, copy_gbs, n, false);
    out += entry("logprob_bwd", x.name, bwd, 2 * x.bytes, copy_gbs, n, false);
    out += entry("logprob_fwd+bwd", x.name, fwdbwd, 3 * x.bytes, copy_gbs, n, false);
    out += entry("policy_loss(no grad)", x.name, pl_fwd, x.bytes, copy_gbs, n, false);
    out += entry("policy_loss(grad)", x.name, pl, 3 * x.bytes, copy_gbs, n, false);
    out += entry("policy_loss(grad+stats+bad_row)", x.name, pl_sync, 3 * x.bytes, copy_gbs, n, k == 1);
  }
  out += "  ],\n";

  // (i) token sampling: b = 256 rows of bf16 logits, T = 0.6; ms per call (one
  // call samples the whole batch). With bad_row the call synchronizes; the
  // truncated path (top_p < 1) synchronizes in any case to size its buffers.
  {
    const int64_t sb = 256, sv = 151936;
    DevBuf<float> sf(sb * sv), su(sb);
    DevBuf<__nv_bfloat16> sl(sb * sv);
    DevBuf<int32_t> stok(sb);
    fill_kernel<<<4096, 256>>>(sf.p, sb * sv, 777);
    f32_to_bf16_kernel<<<4096, 256>>>(sf.p, sl.p, sb * sv);
    HCHECK(cudaGetLastError());
    {
      std::vector<float> h(sb);
      for (int64_t i = 0; i < sb; ++i) h[i] = static_cast<float>((i * 0.6180339887) - std::floor(i * 0.6180339887));
      su.put(h);
    }
    HCHECK(cudaDeviceSynchronize());
    out += "  \"sampling\": [\n";
    const float top_ps[] = {1.f, 0.9f};
    for (int k = 0; k < 2; ++k) {
      SampleArgs sa;
      sa.logits = sl.p; sa.logits_dtype = DType::BF16; sa.b = sb; sa.v = sv; sa.temperature = 0.6f;
      sa.top_p = top_ps[k]; sa.top_k = 0; sa.uniforms = su.p; sa.tokens = stok.p;
      int64_t bad = -2;
      sa.bad_row = &bad;
      const double ms_sync = time_ms(reps, [&] { SCHECK(sample_cuda(sa)); });
      if (bad != -1) std::fprintf(stderr, "sample: unexpected bad row %lld\n", (long long)bad);
      sa.bad_row = nullptr;
      const double ms = time_ms(reps, [&] { SCHECK(sample_cuda(sa)); });
      std::snprintf(buf, sizeof buf,
                    "    {\"kernel\": \"sample\", \"dtype\": \"bf16\", \"b\": %lld, \"v\": %lld, \"temperature\": 0.6, "
                    "\"top_p\": %.2f, \"top_k\": 0, \"ms\": %.4f, \"ms_with_bad_row\": %.4f, \"gb_per_s\": %.1f}%s\n",
                    (long long)sb, (long long)sv, top_ps[k], ms, ms_sync, double(sb * sv) * 2 / (ms * 1e6),
                    k == 1 ? "" : ",");
      out += buf;
    }
    out += "  ]\n}\n";
  }

  std::fputs(out.c_str(), stdout);
  return 0;
}
