// rlvr_cuda_ops_model_bench: OpsModel (native/src/model/ops_model.h) on the CUDA
// backend, Qwen2.5-1.5B shapes (hidden 1536, intermediate 8960, 28 layers, 12
// heads / 2 kv heads, head_dim 128, vocab 151936, tied, q/k/v biases) with
// random weights, bf16 GEMMs. Prints one JSON object:
//   - train: tokens/s of forward_backward (fused policy loss, KL, entropy) +
//     optimizer_step on batch x seq tokens; MFU = 6 * params * tokens/s / peak,
//     peak = 989e12 (H100 SXM bf16 dense; an assumption, printed), attention
//     FLOPs not counted (the usual 6N convention); which activation mode ran;
//   - decode: prefill of decode_batch x prompt tokens, then decode steps
//     (step + kernels::sample_cuda on the device logits + the token copy back,
//     as a generation loop would run), tokens/s = decode_batch * steps / time;
//   - train_profile: one more training step with every op timed on the device
//     (op_profile.h): milliseconds per op, their sum, and what is left of the
//     measured step (host work, synchronizations, launch gaps).
//   usage: rlvr_cuda_ops_model_bench [batch=8] [seq=1024] [reps=3] [decode_batch=256] [prompt=512] [steps=64]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "test/harness.h"
#include "ops/cuda/cublas_gemm.h"
#include "model/ops_model.h"
#include "bench/op_profile.h"

using namespace rlvr;
using namespace rlvr::engine;

namespace {

constexpr double kPeakBf16 = 989e12;

__global__ void init_kernel(float* x, int64_t count, uint64_t seed, float scale, float offset) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint64_t h = (static_cast<uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 27;
    const float u1 = ((h >> 40) + 0.5f) * (1.f / 16777216.f), u2 = ((h & 0xffffff) + 0.5f) * (1.f / 16777216.f);
    x[i] = offset + (u1 + u2 - 1.f) * scale;  // triangular, std = scale / sqrt(6)
  }
}

Config qwen15b() {
  Config c;
  c.vocab = 151936; c.hidden = 1536; c.inter = 8960; c.layers = 28; c.heads = 12; c.kv_heads = 2; c.head_dim = 128;
  c.rms_eps = 1e-6f; c.qkv_bias = true; c.tied = true;
  for (int i = 0; i < 64; ++i) c.inv_freq.push_back(static_cast<float>(1.0 / std::pow(1e6, i / 64.0)));
  return c;
}

void die(const char* what, const Status& s) {
  std::fprintf(stderr, "%s: [%d] %s: %s\n", what, static_cast<int>(s.code), s.argument.c_str(), s.message.c_str());
  std::exit(3);
}
#define BCHECK(expr)              \
  do {                            \
    Status s_ = (expr);           \
    if (!s_.ok()) die(#expr, s_); \
  } while (0)

// HF-like init on the device: linear weights std 0.02, norms 1, biases 0.
std::unique_ptr<OpsModel> make_model(bool bf16, const Backend& be = cuda_backend()) {
  std::unique_ptr<OpsModel> m;
  BCHECK(OpsModel::create(be, qwen15b(), bf16, &m));
  uint64_t seed = 1;
  for (const ParamInfo& p : m->params()) {
    const bool norm = p.name.find("norm") != std::string::npos, bias = p.name.find(".bias") != std::string::npos;
    init_kernel<<<4096, 256>>>(m->parameter_data() + p.offset, p.numel, seed++ * 0x2545F4914F6CDD1Dull,
                               norm || bias ? 0.f : 0.049f, norm ? 1.f : 0.f);
  }
  HCHECK(cudaGetLastError());
  m->params_changed();
  return m;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 8, seq = argc > 2 ? std::atoll(argv[2]) : 1024;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  const int64_t dbatch = argc > 4 ? std::atoll(argv[4]) : 256, prompt = argc > 5 ? std::atoll(argv[5]) : 512;
  const int steps = argc > 6 ? std::atoi(argv[6]) : 64;
  if (cuda::device_count() < 1) {
    std::printf("{\"error\": \"no CUDA device\"}\n");
    return 2;
  }
  cuda::DeviceInfo di;
  BCHECK(cuda::device_info(0, &di));
  const Config cfg = qwen15b();
  Rng rng(7);

  // ---- training: forward_backward + optimizer_step
  const int64_t n = batch * seq;
  std::vector<int32_t> ids(n), targets(n);
  std::vector<float> mask(n, 1.f), old(n, -12.f), refl(n, -12.f), adv(n), w(n, 1.f / static_cast<float>(n));
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = static_cast<int32_t>(rng.below(cfg.vocab));
    targets[i] = static_cast<int32_t>(rng.below(cfg.vocab));
  }
  for (int64_t b = 0; b < batch; ++b) {
    const float a = rng.normal();
    for (int64_t t = 0; t < seq; ++t) adv[b * seq + t] = a;
  }
  Batch x;
  x.b = batch; x.t = seq; x.ids = ids.data(); x.mask = mask.data();
  LossOptions lo;
  lo.kl_coef = 0.001f; lo.entropy_coeff = 0.001f;
  AdamWOptions ao;
  ao.lr = 1e-6f; ao.weight_decay = 0.01f; ao.max_grad_norm = 1.f;
  double params = 0, fb_s = 0, opt_s = 0, grad_norm = 0, loss = 0;
  bool kept = false;
  std::string train_note;
  {
    std::unique_ptr<OpsModel> m = make_model(true);
    params = static_cast<double>(m->num_parameters());
    kernels::PolicyLossStats st;
    StepResult sr;
    // Warm-up (allocations). Keeping all activations needs ~140 KB per token per
    // layer; if that does not fit, fall back to per-layer recompute.
    Status s = m->forward_backward(x, targets.data(), old.data(), refl.data(), adv.data(), w.data(), lo, nullptr,
                                   nullptr, &st);
    if (!s.ok() && s.code == Code::Internal) {
      train_note = "keep-all-activations failed (" + s.message + "); recompute";
      m->release_scratch();
      BCHECK(m->zero_grad());
      m->set_act_budget_bytes(0);
      s = m->forward_backward(x, targets.data(), old.data(), refl.data(), adv.data(), w.data(), lo, nullptr, nullptr,
                              &st);
    }
    BCHECK(s);
    BCHECK(m->optimizer_step(ao, &sr));
    BCHECK(cuda::synchronize());
    for (int r = 0; r < reps; ++r) {
      double t0 = now_s();
      BCHECK(m->forward_backward(x, targets.data(), old.data(), refl.data(), adv.data(), w.data(), lo, nullptr,
                                 nullptr, &st));
      BCHECK(cuda::synchronize());
      double t1 = now_s();
      BCHECK(m->optimizer_step(ao, &sr));
      BCHECK(cuda::synchronize());
      fb_s += t1 - t0;
      opt_s += now_s() - t1;
    }
    kept = m->last_kept_activations();
    grad_norm = sr.grad_norm;
    loss = st.total;
  }
  // ---- one more step, every op timed on the device
  std::vector<double> prof_ms;
  std::vector<int> prof_calls;
  {
    std::unique_ptr<OpsModel> m = make_model(true, profile::profiling_backend(cuda_backend(), cfg.vocab));
    if (!kept) m->set_act_budget_bytes(0);
    kernels::PolicyLossStats st;
    StepResult sr;
    for (int r = 0; r < 2; ++r) {  // warm-up, then the profiled step
      if (r == 1) profile::start();
      BCHECK(m->forward_backward(x, targets.data(), old.data(), refl.data(), adv.data(), w.data(), lo, nullptr,
                                 nullptr, &st));
      BCHECK(m->optimizer_step(ao, &sr));
    }
    profile::stop(&prof_ms, &prof_calls);
  }
  const double step_s = (fb_s + opt_s) / reps, tok_s = static_cast<double>(n) / step_s;
  const double mfu = 6.0 * params * tok_s / kPeakBf16;
  // The same with the attention score / value products counted (PaLM's 12 L H Q T per token, T the
  // average causal context (seq + 1) / 2; fwd + bwd = 3x the forward's 4 L H Q T).
  const double attn_flops_tok = 12.0 * static_cast<double>(cfg.layers) * static_cast<double>(cfg.heads * cfg.head_dim) *
                                (static_cast<double>(seq) + 1) / 2;
  const double mfu_attn = (6.0 * params + attn_flops_tok) * tok_s / kPeakBf16;

  // ---- decode: prefill dbatch x prompt, then steps of step + sample
  double prefill_s = 0, decode_s = 0, sample_s = 0;
  {
    std::unique_ptr<OpsModel> m = make_model(true);
    const int64_t np = dbatch * prompt;
    std::vector<int32_t> pids(np), tok(dbatch);
    std::vector<float> pmask(np, 1.f), uni(dbatch);
    for (auto& v : pids) v = static_cast<int32_t>(rng.below(cfg.vocab));
    Batch p;
    p.b = dbatch; p.t = prompt; p.ids = pids.data(); p.mask = pmask.data();
    const int warm = 2;
    double t0 = now_s();
    BCHECK(m->prefill(p, prompt + warm + steps, nullptr));
    BCHECK(cuda::synchronize());
    prefill_s = now_s() - t0;
    DevBuf<float> d_uni(static_cast<size_t>(dbatch));
    DevBuf<int32_t> d_tok(static_cast<size_t>(dbatch));
    auto sample = [&]() {
      for (auto& u : uni) u = rng.uniform();
      d_uni.put(uni);
      kernels::SampleArgs sa;
      sa.logits = m->decode_logits(); sa.logits_dtype = DType::F32; sa.b = dbatch; sa.v = cfg.vocab;
      sa.temperature = 1.f; sa.top_p = 1.f; sa.top_k = 0; sa.uniforms = d_uni.p; sa.tokens = d_tok.p;
      int64_t bad = -1;
      sa.bad_row = &bad;
      BCHECK(kernels::sample_cuda(sa));
      tok = d_tok.get();
    };
    sample();
    for (int i = 0; i < warm; ++i) {
      BCHECK(m->step(tok.data(), nullptr));
      sample();
    }
    BCHECK(cuda::synchronize());
    for (int i = 0; i < steps; ++i) {  // each half timed to its end on the device
      t0 = now_s();
      BCHECK(m->step(tok.data(), nullptr));
      BCHECK(cuda::synchronize());
      const double t1 = now_s();
      sample();
      decode_s += now_s() - t0;
      sample_s += now_s() - t1;
    }
  }

  std::printf("{\n  \"device\": \"%s\",\n  \"bf16_gemm_impl\": \"%s\",\n", di.name.c_str(),
              engine::ops::bf16_gemm_impl().c_str());
  std::printf("  \"model\": {\"shape\": \"Qwen2.5-1.5B\", \"params\": %.0f, \"hidden\": %lld, \"inter\": %lld, "
              "\"layers\": %lld, \"heads\": %lld, \"kv_heads\": %lld, \"head_dim\": %lld, \"vocab\": %lld, "
              "\"tied\": true, \"gemm\": \"bf16 (fp32 accumulate; fp32 master weights, grads, AdamW)\"},\n",
              params, (long long)cfg.hidden, (long long)cfg.inter, (long long)cfg.layers, (long long)cfg.heads,
              (long long)cfg.kv_heads, (long long)cfg.head_dim, (long long)cfg.vocab);
  std::printf("  \"train\": {\"batch\": %lld, \"seq\": %lld, \"tokens\": %lld, \"reps\": %d, "
              "\"activations\": \"%s\", \"forward_backward_ms\": %.1f, \"optimizer_step_ms\": %.1f, "
              "\"step_ms\": %.1f, \"tokens_per_s\": %.0f, \"mfu\": %.4f, "
              "\"mfu_note\": \"6 * params * tokens/s / 989e12 (assumed peak: H100 SXM bf16 dense); attention FLOPs "
              "not counted%s\", \"mfu_incl_attention\": %.4f, \"mfu_incl_attention_note\": \"(6 * params + "
              "12 * layers * heads * head_dim * (seq + 1) / 2) * tokens/s / 989e12: the causal attention products "
              "counted too (PaLM's MFU with the average causal context)\", "
              "\"loss_total\": %.6g, \"grad_norm\": %.6g%s%s%s},\n",
              (long long)batch, (long long)seq, (long long)n, reps, kept ? "kept (no recompute)" : "per-layer recompute",
              1e3 * fb_s / reps, 1e3 * opt_s / reps, 1e3 * step_s, tok_s, mfu,
              kept ? "" : "; recompute adds ~1/3 more GEMM FLOPs", mfu_attn, loss, grad_norm,
              train_note.empty() ? "" : ", \"note\": \"", train_note.c_str(), train_note.empty() ? "" : "\"");
  std::printf("  \"decode\": {\"batch\": %lld, \"prompt\": %lld, \"steps\": %d, \"prefill_ms\": %.1f, "
              "\"prefill_tokens_per_s\": %.0f, \"step_ms\": %.2f, \"model_step_ms\": %.2f, \"sample_ms\": %.2f, "
              "\"tokens_per_s\": %.0f, "
              "\"note\": \"each step: OpsModel::step (logits left on the device) + sample_cuda (temperature 1) + "
              "token copy to the host; fp32 KV cache\"},\n",
              (long long)dbatch, (long long)prompt, steps, 1e3 * prefill_s,
              static_cast<double>(dbatch * prompt) / prefill_s, 1e3 * decode_s / steps,
              1e3 * (decode_s - sample_s) / steps, 1e3 * sample_s / steps,
              static_cast<double>(dbatch) * steps / decode_s);
  double ops_total = 0;
  std::printf("  \"train_profile\": {\"ops_ms\": {");
  for (int i = 0, k = 0; i < profile::kOps; ++i) {
    if (!prof_calls[i]) continue;
    ops_total += prof_ms[i];
    std::printf("%s\"%s\": %.2f", k++ ? ", " : "", profile::op_name(i), prof_ms[i]);
  }
  std::printf("}, \"calls\": {");
  for (int i = 0, k = 0; i < profile::kOps; ++i)
    if (prof_calls[i]) std::printf("%s\"%s\": %d", k++ ? ", " : "", profile::op_name(i), prof_calls[i]);
  std::printf("}, \"ops_total_ms\": %.1f, \"step_ms\": %.1f, \"host_and_gaps_ms\": %.1f, "
              "\"note\": \"device time of each op (CUDA events) in one training step; step_ms is the unprofiled "
              "step above, host_and_gaps_ms = step_ms - ops_total_ms\"}\n}\n",
              ops_total, 1e3 * step_s, 1e3 * step_s - ops_total);
  return 0;
}
