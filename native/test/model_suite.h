// The comparison suite shared by rlvr_ops_model_cpu_check (OpsModel on the CPU
// backend vs OpsModel on the reference ops) and rlvr_cuda_ops_model_check (OpsModel
// on CUDA vs OpsModel on the reference ops). Host code only (no CUDA headers): two engines
// behind one small adapter interface get the same random weights and inputs,
// and every output is compared:
//   score (left + right padded batch), score_prefixed (shared prompts), forward_backward twice (accumulation;
//   loss stats, per-token logp/entropy, every parameter's gradient), one
//   AdamW step (grad norm; each engine's parameters vs the torch formula on
//   its own gradients; the engines' parameters), score after the step,
//   prefill (a repeated prompt included) + decode steps (next-token logits), packed sequences (score and one
//   forward_backward with every gradient). Tolerance sets with their
//   measured errors and reasons are below (cpu_vs_ref_tolerances, ...).
// One line per comparison:
//   PASS|FAIL <config>.<what> n=.. max_abs_err=.. err=<measure> tol=<bound> (<why>)
// where err is max|got - want| ("abs") or that divided by max|want| ("scaled").
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "model/ops_model.h"

namespace rlvr::opscheck {

using engine::AdamWOptions;
using engine::Batch;
using engine::Config;
using engine::LossOptions;
using engine::StepResult;

// xorshift64* (as native/test/harness.h, which needs the CUDA runtime headers).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  float uniform() { return static_cast<float>((next() >> 40) * (1.0 / 16777216.0)); }
  float normal() {
    float u = uniform(), v = uniform();
    return std::sqrt(-2.f * std::log(u + 1e-12f)) * std::cos(6.2831853f * v);
  }
  int64_t below(int64_t k) { return static_cast<int64_t>(next() % static_cast<uint64_t>(k)); }
};

// The model under check: an OpsModel, whose parameters are set as given, or, with perturb > 0,
// as w * (1 + perturb * N(0, 1)) (fixed seed): fp32-level noise, to measure how the bf16 path
// reacts to it. The suite calls the model directly (m->score(...)); these helpers move whole
// parameter / gradient vectors.
struct Engine {
  std::unique_ptr<engine::OpsModel> m;
  double perturb = 0;
  uint64_t perturb_seed = 5;
  Status set_parameters(const std::vector<float>& p) {
    if (perturb <= 0) return m->set_parameters(p.data());
    std::vector<float> q = p;
    Rng r(perturb_seed);
    for (auto& x : q) x *= 1.f + static_cast<float>(perturb) * r.normal();
    return m->set_parameters(q.data());
  }
  Status get_parameters(std::vector<float>* p) {
    p->resize(static_cast<size_t>(m->num_parameters()));
    return m->get_parameters(p->data());
  }
  Status get_gradients(std::vector<float>* g) {
    g->resize(static_cast<size_t>(m->num_parameters()));
    return m->get_gradients(g->data());
  }
};

inline std::unique_ptr<Engine> make_ops(const engine::Backend& be, const Config& c, bool bf16) {
  auto e = std::make_unique<Engine>();
  Status s = engine::OpsModel::create(be, c, bf16, &e->m);
  if (!s.ok()) {
    std::fprintf(stderr, "OpsModel::create(%s): %s: %s\n", be.name, s.argument.c_str(), s.message.c_str());
    std::exit(3);
  }
  return e;
}

// ---- configs, weights, inputs -------------------------------------------------------

inline std::vector<float> rope_inv_freq(int64_t head_dim, double theta) {
  std::vector<float> f(static_cast<size_t>(head_dim / 2));
  for (int64_t i = 0; i < head_dim / 2; ++i)
    f[i] = static_cast<float>(1.0 / std::pow(theta, 2.0 * static_cast<double>(i) / static_cast<double>(head_dim)));
  return f;
}

// Batch shapes of a suite run: the default is tiny; a long run (t ~ 100+) crosses
// the CUDA attention kernels' query / key tiles and the LM-head chunks many times.
struct Shapes {
  int64_t b = 3, t = 9, left = 3, right = 2;  // score / second forward_backward
  int64_t small_b = 2, small_t = 5;           // first forward_backward
  int64_t pre_t = 6, pre_left = 2, pre_right = 1, steps = 4;  // prefill (b rows) + decode steps
  int64_t lm_chunk = 7;                       // LM-head rows per chunk on both engines
};

struct Case {
  std::string name;
  Config cfg;
};

// Qwen2-shaped: tied LM head, q/k/v biases, GQA 2:1. Llama-shaped: untied, no
// biases, GQA 4:1, q width (heads * head_dim) != hidden. Odd sizes on purpose.
// A Qwen3-shaped one: per-head q/k RMSNorm, no biases, q width 64 != hidden 40. The last has
// Qwen2.5's head_dim (128).
inline std::vector<Case> tiny_cases() {
  Case q;
  q.name = "qwen2-tiny";
  q.cfg.vocab = 97; q.cfg.hidden = 48; q.cfg.inter = 88; q.cfg.layers = 2; q.cfg.heads = 4; q.cfg.kv_heads = 2;
  q.cfg.head_dim = 16; q.cfg.rms_eps = 1e-6f; q.cfg.qkv_bias = true; q.cfg.tied = true;
  q.cfg.inv_freq = rope_inv_freq(16, 1e6);
  Case l;
  l.name = "llama-tiny";
  l.cfg.vocab = 113; l.cfg.hidden = 40; l.cfg.inter = 72; l.cfg.layers = 3; l.cfg.heads = 8; l.cfg.kv_heads = 2;
  l.cfg.head_dim = 8; l.cfg.rms_eps = 1e-5f; l.cfg.qkv_bias = false; l.cfg.tied = false;
  l.cfg.inv_freq = rope_inv_freq(8, 10000);
  Case w;  // head_dim 128 as Qwen2.5 (the CUDA attention's largest training tile), q width 512 > hidden
  w.name = "qwen2-hd128";
  w.cfg.vocab = 301; w.cfg.hidden = 128; w.cfg.inter = 192; w.cfg.layers = 2; w.cfg.heads = 4; w.cfg.kv_heads = 2;
  w.cfg.head_dim = 128; w.cfg.rms_eps = 1e-6f; w.cfg.qkv_bias = true; w.cfg.tied = true;
  w.cfg.inv_freq = rope_inv_freq(128, 1e6);
  Case k;
  k.name = "qwen3-tiny";
  k.cfg.vocab = 89; k.cfg.hidden = 40; k.cfg.inter = 64; k.cfg.layers = 2; k.cfg.heads = 4; k.cfg.kv_heads = 2;
  k.cfg.head_dim = 16; k.cfg.rms_eps = 1e-6f; k.cfg.qkv_bias = false; k.cfg.qk_norm = true; k.cfg.tied = true;
  k.cfg.inv_freq = rope_inv_freq(16, 1e6);
  return {q, l, k, w};  // w last: the long runs take tiny_cases().back()
}

// The long run: 2 x 150 tokens (left padding 37, right padding 20), prefill of 2 x 100, 3 steps.
inline Shapes long_shapes() {
  Shapes s;
  s.b = 2; s.t = 150; s.left = 37; s.right = 20;
  s.small_b = 3; s.small_t = 70;
  s.pre_t = 100; s.pre_left = 30; s.pre_right = 11; s.steps = 3;
  s.lm_chunk = 64;
  return s;
}

// Random weights by role, so activations and logits are O(1) (softmaxes neither
// flat nor one-hot): norms ~1, linear weights ~N(0, 1/in), biases ~0.1.
inline std::vector<float> random_weights(const std::vector<engine::ParamInfo>& ps, int64_t total, uint64_t seed) {
  std::vector<float> w(static_cast<size_t>(total));
  Rng rng(seed);
  for (const auto& p : ps) {
    const bool norm = p.name.find("layernorm") != std::string::npos || p.name == "model.norm.weight" ||
                      p.name.find("_norm.weight") != std::string::npos;  // Qwen3's q_norm / k_norm
    const bool bias = p.name.size() > 5 && p.name.compare(p.name.size() - 5, 5, ".bias") == 0;
    const bool embed = p.name == "model.embed_tokens.weight";
    const float scale = norm ? 0.1f : bias ? 0.1f : embed ? 0.3f : 1.f / std::sqrt(static_cast<float>(p.shape.back()));
    for (int64_t i = 0; i < p.numel; ++i) w[p.offset + i] = (norm ? 1.f : 0.f) + scale * rng.normal();
  }
  return w;
}

// B x T batch with left padding (row 0), right padding (row 1), full rows after.
struct PaddedBatch {
  int64_t b, t;
  std::vector<int32_t> ids, targets;
  std::vector<float> mask;
  Batch batch() const {
    Batch x;
    x.b = b; x.t = t; x.ids = ids.data(); x.mask = mask.data();
    return x;
  }
};
inline PaddedBatch padded_batch(int64_t b, int64_t t, int64_t left, int64_t right, int64_t vocab, Rng& rng) {
  PaddedBatch p;
  p.b = b; p.t = t;
  p.ids.resize(static_cast<size_t>(b * t));
  p.targets.resize(static_cast<size_t>(b * t));
  p.mask.assign(static_cast<size_t>(b * t), 1.f);
  for (int64_t i = 0; i < b * t; ++i) {
    p.ids[i] = static_cast<int32_t>(rng.below(vocab));
    p.targets[i] = static_cast<int32_t>(rng.below(vocab));
  }
  for (int64_t j = 0; j < left && j < t; ++j) p.mask[j] = 0.f;
  if (b > 1)
    for (int64_t j = t - right; j < t; ++j) p.mask[t + j] = 0.f;
  return p;
}

// ---- comparisons ------------------------------------------------------------------------

struct Tally {
  int pass = 0, fail = 0;
};

enum class Measure { Abs, Scaled };

// A bound on err (max|got - want|, or that over max|want| when Scaled), and why.
struct Bound {
  double tol;
  Measure m;
  const char* why;
};

inline void compare(Tally& t, const std::string& name, const float* got, const float* want, size_t n, Bound b) {
  double max_abs = 0, scale = 0;
  bool nan = false;  // a non-finite value that the other side does not equal
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(got[i]) || !std::isfinite(want[i])) {
      nan = nan || !(got[i] == want[i]);
      continue;
    }
    const double e = std::fabs(static_cast<double>(got[i]) - want[i]);
    max_abs = std::max(max_abs, e);
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  const double err = b.m == Measure::Scaled ? (scale > 0 ? max_abs / scale : max_abs) : max_abs;
  const bool ok = !nan && err <= b.tol;
  (ok ? t.pass : t.fail)++;
  std::printf("%s %s n=%zu max_abs_err=%.3g err=%.3g(%s) tol=%.2g (%s)%s\n", ok ? "PASS" : "FAIL", name.c_str(), n,
              max_abs, err, b.m == Measure::Scaled ? "scaled" : "abs", b.tol, b.why, nan ? " NON-FINITE" : "");
  std::fflush(stdout);
}
inline void compare(Tally& t, const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
                    Bound b) {
  if (got.size() != want.size()) {
    t.fail++;
    std::printf("FAIL %s size %zu vs %zu\n", name.c_str(), got.size(), want.size());
    return;
  }
  compare(t, name, got.data(), want.data(), want.size(), b);
}
inline void compare_scalar(Tally& t, const std::string& name, double got, double want, Bound b) {
  const double e = std::fabs(got - want);
  const double err = b.m == Measure::Scaled ? (want != 0 ? e / std::fabs(want) : e) : e;
  const bool ok = std::isfinite(got) && err <= b.tol;
  (ok ? t.pass : t.fail)++;
  std::printf("%s %s got=%.9g want=%.9g err=%.3g(%s) tol=%.2g (%s)\n", ok ? "PASS" : "FAIL", name.c_str(), got, want,
              err, b.m == Measure::Scaled ? "rel" : "abs", b.tol, b.why);
  std::fflush(stdout);
}
inline void expect_ok(Tally& t, const std::string& name, const Status& s) {
  if (s.ok()) return;
  t.fail++;
  std::printf("FAIL %s: status [%d] %s: %s\n", name.c_str(), static_cast<int>(s.code), s.argument.c_str(),
              s.message.c_str());
  std::fflush(stdout);
}

// The tolerances of one suite run (each with its justification).
struct Tolerances {
  Bound logp, entropy;  // score / forward_backward per-token outputs (abs)
  Bound loss;           // loss stats (abs; values are O(1) weighted means)
  Bound grad;           // each parameter's gradient (scaled by its max |want|)
  Bound grad_norm;      // global gradient norm (relative)
  Bound param_step;     // parameters after AdamW: abs error in units of lr (the step is ~lr per element)
  Bound logits;         // prefill / decode logits (scaled)
  Bound adam_exact;     // each engine's AdamW step vs the torch formula on its own gradients (lr units)
  // No PPO clipping (clip range 100, no dual clip): the loss is smooth in logp, so a
  // small logp difference cannot flip a token between clipped (gradient 0) and not.
  bool smooth_loss = false;
};

// torch.optim.AdamW's first step (after clip_grad_norm_) in fp64, from given gradients.
inline std::vector<double> adamw_first_step(const std::vector<float>& p0, const std::vector<float>& g,
                                            const AdamWOptions& o) {
  double ss = 0;
  for (float x : g) ss += static_cast<double>(x) * x;
  const double norm = std::sqrt(ss);
  const double clip = o.max_grad_norm > 0 ? std::min(1.0, o.max_grad_norm / (norm + 1e-6)) : 1.0;
  const double b1 = o.beta1, b2 = o.beta2, lr = o.lr;
  std::vector<double> p(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) {
    const double gc = g[i] * clip, m = (1 - b1) * gc, v = (1 - b2) * gc * gc;
    p[i] = p0[i] * (1 - lr * o.weight_decay) - lr / (1 - b1) * m / (std::sqrt(v) / std::sqrt(1 - b2) + o.eps);
  }
  return p;
}

// ---- the tolerance sets (bounds ~10x the measured errors, see each `why`) ------------
// Measured = the largest error over the three tiny configs and the long run.
// AdamW: a first step moves each parameter by lr * g / (|g| + eps) ~ +-lr, so a
// gradient near zero whose sign differs between two engines moves by 2 lr; the
// engine-vs-engine parameter bound therefore allows 2.5 lr, and the optimizer
// itself is checked tightly by params_vs_formula (each engine vs the torch
// formula on its own gradients).
inline constexpr const char* kAdamFlipWhy =
    "sign flips of near-zero gradients move a parameter by 2 lr (measured fp32 0.21); the step itself is checked by "
    "params_vs_formula";
inline constexpr const char* kAdamFormulaWhy = "fp32 rounding of p*(1-lr*wd) - step: ~1 ulp of |p|~1 = 1.2e-4 lr (measured 1.35e-4)";

// OpsModel on the CPU backend vs on the reference ops, fp32. Same formulas in the same
// op order; they differ only in the GEMM (fp64 accumulation in the reference vs the CPU
// backend's fp32 fixed-order panels) and in attention's 16-lane dot reduction order / FMA
// contraction. (Measured as the former engine::Model vs the reference; the CPU backend
// was checked bitwise equal to engine::Model before that was deleted.)
inline Tolerances cpu_vs_ref_tolerances() {
  return {
      {2e-4, Measure::Abs, "fp32, GEMM accumulation order only; measured 1.9e-5 (|logp| up to ~15)"},
      {1e-4, Measure::Abs, "fp32; measured 9.2e-6"},
      {1e-5, Measure::Abs, "weighted means of per-token terms; measured 9.0e-7"},
      {1e-4, Measure::Scaled, "fp32 backward through 2-3 layers; measured 9.0e-6 of max|grad|"},
      {5e-6, Measure::Scaled, "fp64 sum of squares; measured 4.3e-7"},
      {2.5, Measure::Abs, kAdamFlipWhy},
      {1e-5, Measure::Scaled, "fp32; measured 8.3e-7 of max|logit|"},
      {2e-3, Measure::Abs, kAdamFormulaWhy},
  };
}

// OpsModel(cuda) vs OpsModel(cpu), fp32. Measured on an H100 (bench/results/
// gpu-h100/gpu-check.txt, 2026-11-26; worst over the tiny, head_dim-128, long
// and critic cases); bounds ~10x those, as for the CPU pair above. The errors
// are about the CPU-vs-Model ones: the CUDA ops differ from the CPU reference
// by accumulation order only; a wrong index or a missing term shows as O(0.1).
inline Tolerances cuda_fp32_tolerances() {
  return {
      {2.5e-4, Measure::Abs, "fp32 accumulation order; measured 2.4e-5 on H100 (|logp| up to ~15)"},
      {1.5e-4, Measure::Abs, "fp32; measured 1.1e-5 on H100"},
      {1.5e-5, Measure::Abs, "weighted means of per-token terms; measured 1.5e-6 on H100"},
      {1e-4, Measure::Scaled, "fp32 backward through 2-3 layers; measured 8.1e-6 of max|grad| on H100"},
      {2.5e-5, Measure::Scaled, "norm of the gradients above; measured 2.3e-6 on H100"},
      {2.5, Measure::Abs, kAdamFlipWhy},
      {1e-5, Measure::Scaled, "fp32; measured 9.5e-7 of max|logit| on H100"},
      {2e-3, Measure::Abs, kAdamFormulaWhy},
  };
}

// bf16 GEMM path, two engines that compute the same bf16 math (CUDA bf16 vs CPU
// bf16), or the same engine on weights x (1 + 1e-6 N) (rlvr_ops_model_cpu_check
// runs that to show these bounds hold for fp32-level noise): any tiny upstream
// difference flips the bf16 rounding of some operands (one bf16 ulp = 2^-8), so
// the outputs differ by a good fraction of the bf16-vs-fp32 effect itself.
// Measured: CPU bf16 with 1e-6 weight noise. Smooth loss (no clipping). CUDA
// bf16 vs CPU bf16 on an H100 (cuBLAS and the WMMA kernel alike) stayed >= 10x
// inside each (logp 0.035, entropy 0.011, loss 7e-4, grads 0.012 of max, grad
// norm 1.1e-4, logits 2.1e-3 of max): kept at the noise basis, since which
// roundings flip depends on the data.
inline Tolerances bf16_noise_tolerances() {
  Tolerances t{
      {0.4, Measure::Abs, "bf16 rounding flips; measured 0.042 (CPU, 1e-6 weight noise)"},
      {0.3, Measure::Abs, "bf16 rounding flips; measured 0.030"},
      {0.04, Measure::Abs, "bf16 rounding flips; measured 0.0037"},
      {0.4, Measure::Scaled, "bf16 rounding flips; measured 0.037 of max|grad|"},
      {0.05, Measure::Scaled, "bf16 rounding flips; measured 0.0055"},
      {2.5, Measure::Abs, kAdamFlipWhy},
      {0.07, Measure::Scaled, "bf16 rounding flips; measured 0.0071 of max|logit|"},
      {2e-3, Measure::Abs, kAdamFormulaWhy},
  };
  t.smooth_loss = true;
  return t;
}

// OpsModel bf16 GEMMs vs fp32 (what the bf16 path does to the outputs;
// informational, also exercises the casts). Smooth loss (no clipping).
inline Tolerances bf16_vs_fp32_tolerances() {
  Tolerances t{
      {0.8, Measure::Abs, "bf16 operand rounding (2^-9 rel); measured 0.076 (|logp| up to ~15)"},
      {0.5, Measure::Abs, "bf16 operand rounding; measured 0.047"},
      {0.06, Measure::Abs, "bf16 operand rounding; measured 0.0056"},
      {0.7, Measure::Scaled, "bf16 operands in every backward GEMM; measured 0.067 of max|grad|"},
      {0.09, Measure::Scaled, "bf16 operand rounding; measured 0.0085"},
      {2.5, Measure::Abs, kAdamFlipWhy},
      {0.11, Measure::Scaled, "bf16 operand rounding; measured 0.011 of max|logit|"},
      {2e-3, Measure::Abs, kAdamFormulaWhy},
  };
  t.smooth_loss = true;
  return t;
}

// The params_vs_formula / params(delta/lr) / grads_zeroed checks of one AdamW step
// (clipping active), given both engines' parameters and gradients before it.
inline void check_adamw_step(Tally& t, const std::string& label, Engine& test, Engine& ref, const Tolerances& tol,
                             const std::vector<float>& p0_t, const std::vector<float>& p0_r,
                             const std::vector<float>& g_t, const std::vector<float>& g_r, std::vector<float>* p_r) {
  AdamWOptions ao;
  ao.lr = 1e-3f; ao.weight_decay = 0.1f; ao.max_grad_norm = 0.5f;
  StepResult sr_t, sr_r;
  expect_ok(t, label + ".optimizer_step(test)", test.m->optimizer_step(ao, &sr_t));
  expect_ok(t, label + ".optimizer_step(ref)", ref.m->optimizer_step(ao, &sr_r));
  compare_scalar(t, label + ".adamw.grad_norm", sr_t.grad_norm, sr_r.grad_norm, tol.grad_norm);
  std::vector<float> p_t, z;
  expect_ok(t, label + ".get_parameters(test)", test.get_parameters(&p_t));
  expect_ok(t, label + ".get_parameters(ref)", ref.get_parameters(p_r));
  for (int e = 0; e < 2; ++e) {  // each engine's step vs the formula on its own gradients and parameters
    const std::vector<double> want = adamw_first_step(e == 0 ? p0_t : p0_r, e == 0 ? g_t : g_r, ao);
    const std::vector<float>& got = e == 0 ? p_t : *p_r;
    std::vector<float> d(got.size()), zero(got.size(), 0.f);
    for (size_t i = 0; i < got.size(); ++i) d[i] = static_cast<float>((got[i] - want[i]) / ao.lr);
    compare(t, label + ".adamw.params_vs_formula(" + (e == 0 ? "test" : "ref") + ", err/lr)", d, zero, tol.adam_exact);
  }
  {
    std::vector<float> dt(p_t.size()), dr(p_r->size());  // in units of lr, relative to the start
    for (size_t i = 0; i < p_t.size(); ++i) {
      dt[i] = static_cast<float>((static_cast<double>(p_t[i]) - p0_t[i]) / ao.lr);
      dr[i] = static_cast<float>((static_cast<double>((*p_r)[i]) - p0_r[i]) / ao.lr);
    }
    compare(t, label + ".adamw.params(delta/lr)", dt, dr, tol.param_step);
  }
  expect_ok(t, label + ".get_gradients(test, zeroed)", test.get_gradients(&z));
  size_t nz = 0;
  for (float v : z) nz += v != 0.f;
  (nz == 0 ? t.pass : t.fail)++;
  std::printf("%s %s.adamw.grads_zeroed nonzero=%zu\n", nz == 0 ? "PASS" : "FAIL", label.c_str(), nz);
}

// Both engines get the same random weights.
inline void same_random_weights(Tally& t, const std::string& label, Engine& test, Engine& ref, uint64_t seed) {
  std::vector<float> w0 = random_weights(ref.m->params(), ref.m->num_parameters(), seed);
  expect_ok(t, label + ".set_parameters(test)", test.set_parameters(w0));
  expect_ok(t, label + ".set_parameters(ref)", ref.set_parameters(w0));
}

// After the accumulated backward passes: every parameter's gradient, then one
// AdamW step (check_adamw_step), then `test` continues from `ref`'s parameters,
// so later comparisons measure only their own error.
inline void check_grads_and_step(Tally& t, const std::string& label, Engine& test, Engine& ref, const Tolerances& tol) {
  std::vector<float> g_t, g_r, p0_t, p0_r, p_r;
  expect_ok(t, label + ".get_parameters(test, before step)", test.get_parameters(&p0_t));
  expect_ok(t, label + ".get_parameters(ref, before step)", ref.get_parameters(&p0_r));
  expect_ok(t, label + ".get_gradients(test)", test.get_gradients(&g_t));
  expect_ok(t, label + ".get_gradients(ref)", ref.get_gradients(&g_r));
  for (const auto& p : ref.m->params())
    compare(t, label + ".grad[" + p.name + "]", g_t.data() + p.offset, g_r.data() + p.offset,
            static_cast<size_t>(p.numel), tol.grad);
  check_adamw_step(t, label, test, ref, tol, p0_t, p0_r, g_t, g_r, &p_r);
  expect_ok(t, label + ".resync", test.set_parameters(p_r));
}

// Runs everything on `test` and `ref` (same config) and compares. `label` prefixes every line.
inline void run_suite(Tally& t, const std::string& label, Engine& test, Engine& ref, const Config& cfg,
                      const Tolerances& tol, uint64_t seed, const Shapes& sh = Shapes{}) {
  const int64_t V = cfg.vocab;
  Rng rng(seed);
  same_random_weights(t, label, test, ref, seed + 1);
  // Small LM-head chunks on both, so the chunking (and partial last chunks) is exercised.
  test.m->set_lm_chunk_rows(sh.lm_chunk);
  ref.m->set_lm_chunk_rows(sh.lm_chunk);

  // ---- score: b x t, left padding on row 0, right padding on row 1
  PaddedBatch big = padded_batch(sh.b, sh.t, sh.left, sh.right, V, rng);
  const size_t nb = big.ids.size();
  std::vector<float> lp_t(nb), en_t(nb), lp_r(nb), en_r(nb);
  expect_ok(t, label + ".score(test)", test.m->score(big.batch(), big.targets.data(), nullptr, 0.8f, lp_t.data(), en_t.data()));
  expect_ok(t, label + ".score(ref)", ref.m->score(big.batch(), big.targets.data(), nullptr, 0.8f, lp_r.data(), en_r.data()));
  compare(t, label + ".score.logp", lp_t, lp_r, tol.logp);
  compare(t, label + ".score.entropy", en_t, en_r, tol.entropy);

  // ---- score_prefixed: 3 prefixes (the second left-padded, the third right-padded) continued by
  // 5 rows of different lengths (right padding), prefixes shared by several rows
  {
    const int64_t G = 3, P = 6, R = 5, E = sh.t / 2 + 3;
    PaddedBatch pre = padded_batch(G, P, 0, 0, V, rng), ext = padded_batch(R, E, 0, 0, V, rng);
    for (int64_t j = 0; j < 2; ++j) pre.mask[1 * P + j] = 0.f;      // left padding
    for (int64_t j = P - 3; j < P; ++j) pre.mask[2 * P + j] = 0.f;  // right padding
    const int64_t lens[5] = {E, 1, E - 2, E / 2, 3};
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = lens[i]; j < E; ++j) ext.mask[i * E + j] = 0.f;
    const int32_t group[5] = {0, 1, 2, 0, 1};
    const size_t ne = ext.ids.size();
    std::vector<float> sp_lt(ne), sp_et(ne), sp_lr(ne), sp_er(ne);
    expect_ok(t, label + ".score_prefixed(test)", test.m->score_prefixed(pre.batch(), ext.batch(), group, ext.targets.data(),
                                                                      nullptr, 0.8f, sp_lt.data(), sp_et.data()));
    expect_ok(t, label + ".score_prefixed(ref)", ref.m->score_prefixed(pre.batch(), ext.batch(), group, ext.targets.data(),
                                                                    nullptr, 0.8f, sp_lr.data(), sp_er.data()));
    compare(t, label + ".score_prefixed.logp", sp_lt, sp_lr, tol.logp);
    compare(t, label + ".score_prefixed.entropy", sp_et, sp_er, tol.entropy);
  }

  // ---- forward_backward twice (gradients accumulate): a small batch, then the big one
  PaddedBatch small = padded_batch(sh.small_b, sh.small_t, 1, 1, V, rng);
  LossOptions o;
  o.temperature = 0.9f; o.pg_coef = 1.f; o.kl_coef = 0.1f; o.entropy_coeff = 0.01f;
  o.clip_low = 0.2f; o.clip_high = 0.28f; o.dual_clip = 3.f; o.kl_type = kernels::KlType::LowVarKl;
  if (tol.smooth_loss) { o.clip_low = o.clip_high = 100.f; o.dual_clip = 0.f; }
  for (int call = 0; call < 2; ++call) {
    const PaddedBatch& pb = call == 0 ? small : big;
    const size_t n = pb.ids.size();
    // old / ref log-probs near the reference's own (ratios around 1, some clipped),
    // sequence-level advantages, token-mean weights with one real token excluded.
    std::vector<float> base(n), ent(n), old(n), refl(n), adv(n), wts(n);
    expect_ok(t, label + ".fb.pre-score", ref.m->score(pb.batch(), pb.targets.data(), nullptr, o.temperature, base.data(), ent.data()));
    double msum = 0;
    for (float m : pb.mask) msum += m;
    for (int64_t b = 0; b < pb.b; ++b) {
      const float a = rng.normal();
      for (int64_t j = 0; j < pb.t; ++j) {
        const size_t i = static_cast<size_t>(b * pb.t + j);
        old[i] = base[i] + 0.15f * rng.normal();
        refl[i] = base[i] + 0.3f * rng.normal();
        adv[i] = a;
        wts[i] = static_cast<float>(pb.mask[i] / msum);
      }
    }
    wts[n - 1] = 0.f;  // a real token with weight 0: skipped by the LM head
    std::vector<float> flp_t(n), fen_t(n), flp_r(n), fen_r(n);
    kernels::PolicyLossStats st_t, st_r;
    const std::string c = label + ".fb" + std::to_string(call + 1);
    expect_ok(t, c + "(test)", test.m->forward_backward(pb.batch(), pb.targets.data(), old.data(), refl.data(), adv.data(),
                                                     wts.data(), o, flp_t.data(), fen_t.data(), &st_t));
    expect_ok(t, c + "(ref)", ref.m->forward_backward(pb.batch(), pb.targets.data(), old.data(), refl.data(), adv.data(),
                                                   wts.data(), o, flp_r.data(), fen_r.data(), &st_r));
    compare(t, c + ".logp", flp_t, flp_r, tol.logp);
    compare(t, c + ".entropy", fen_t, fen_r, tol.entropy);
    compare_scalar(t, c + ".stats.total", st_t.total, st_r.total, tol.loss);
    compare_scalar(t, c + ".stats.pg_loss", st_t.pg_loss, st_r.pg_loss, tol.loss);
    compare_scalar(t, c + ".stats.kl_loss", st_t.kl_loss, st_r.kl_loss, tol.loss);
    compare_scalar(t, c + ".stats.entropy", st_t.entropy, st_r.entropy, tol.loss);
    compare_scalar(t, c + ".stats.clipfrac", st_t.clipfrac, st_r.clipfrac, tol.loss);
    compare_scalar(t, c + ".stats.ppo_kl", st_t.ppo_kl, st_r.ppo_kl, tol.loss);
    compare_scalar(t, c + ".stats.weight_sum", st_t.weight_sum, st_r.weight_sum, tol.loss);
  }
  // ---- every gradient, one AdamW step (clipping active), then test resynced to ref
  check_grads_and_step(t, label, test, ref, tol);

  // ---- score after the step (the updated weights are what both use)
  expect_ok(t, label + ".score2(test)", test.m->score(big.batch(), big.targets.data(), big.mask.data(), 1.f, lp_t.data(), en_t.data()));
  expect_ok(t, label + ".score2(ref)", ref.m->score(big.batch(), big.targets.data(), big.mask.data(), 1.f, lp_r.data(), en_r.data()));
  compare(t, label + ".score_after_step.logp", lp_t, lp_r, tol.logp);
  compare(t, label + ".score_after_step.entropy", en_t, en_r, tol.entropy);

  // ---- prefill (left padding on row 0, right padding on row 1) + decode steps
  PaddedBatch pr = padded_batch(sh.b, sh.pre_t, sh.pre_left, sh.pre_right, V, rng);
  if (pr.b >= 2) {  // the last row repeats row 0's prompt (prefill computes it once and copies it)
    std::copy(pr.ids.begin(), pr.ids.begin() + pr.t, pr.ids.end() - pr.t);
    std::copy(pr.mask.begin(), pr.mask.begin() + pr.t, pr.mask.end() - pr.t);
  }
  const int64_t steps = sh.steps, cap = pr.t + steps + 1;
  std::vector<float> lg_t(static_cast<size_t>(pr.b * V)), lg_r(lg_t.size());
  expect_ok(t, label + ".prefill(test)", test.m->prefill(pr.batch(), cap, lg_t.data()));
  expect_ok(t, label + ".prefill(ref)", ref.m->prefill(pr.batch(), cap, lg_r.data()));
  compare(t, label + ".prefill.logits", lg_t, lg_r, tol.logits);
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<int32_t> tok(static_cast<size_t>(pr.b));
    for (int64_t b = 0; b < pr.b; ++b)  // the reference's greedy token (+ b, so repeated prompts diverge), fed to both
      tok[b] = static_cast<int32_t>((std::max_element(lg_r.begin() + b * V, lg_r.begin() + (b + 1) * V) -
                                     (lg_r.begin() + b * V) + b) % V);
    expect_ok(t, label + ".step(test)", test.m->step(tok.data(), lg_t.data()));
    expect_ok(t, label + ".step(ref)", ref.m->step(tok.data(), lg_r.data()));
    compare(t, label + ".decode_step" + std::to_string(s + 1) + ".logits", lg_t, lg_r, tol.logits);
  }

  // ---- packed sequences (segment ids; rows of 2 or 3 sequences, the padded rows too):
  // score, then one forward_backward from zero gradients (the step zeroed them) and every
  // gradient. Attention stays inside a segment and positions restart at each.
  PaddedBatch pk = padded_batch(sh.b, sh.t, sh.left, sh.right, V, rng);
  const size_t np = pk.ids.size();
  std::vector<int32_t> seg(np);
  for (int64_t b = 0; b < pk.b; ++b)
    for (int64_t j = 0; j < pk.t; ++j) seg[b * pk.t + j] = static_cast<int32_t>(j * (2 + b % 2) / pk.t);
  Batch xs = pk.batch();
  xs.seg = seg.data();
  std::vector<float> plp_t(np), pen_t(np), plp_r(np), pen_r(np);
  expect_ok(t, label + ".packed.score(test)", test.m->score(xs, pk.targets.data(), nullptr, 0.8f, plp_t.data(), pen_t.data()));
  expect_ok(t, label + ".packed.score(ref)", ref.m->score(xs, pk.targets.data(), nullptr, 0.8f, plp_r.data(), pen_r.data()));
  compare(t, label + ".packed.score.logp", plp_t, plp_r, tol.logp);
  compare(t, label + ".packed.score.entropy", pen_t, pen_r, tol.entropy);
  {
    std::vector<float> old(np), refl(np), adv(np), wts(np);
    double msum = 0;
    for (float m : pk.mask) msum += m;
    for (size_t i = 0; i < np; ++i) {
      old[i] = plp_r[i] + 0.15f * rng.normal();
      refl[i] = plp_r[i] + 0.3f * rng.normal();
      adv[i] = static_cast<float>(seg[i] % 2 == 0 ? 1 : -1) * (0.5f + 0.1f * static_cast<float>(seg[i]));  // per sequence
      wts[i] = static_cast<float>(pk.mask[i] / msum);
    }
    kernels::PolicyLossStats st_t, st_r;
    std::vector<float> flp_t(np), fen_t(np), flp_r(np), fen_r(np);
    expect_ok(t, label + ".packed.fb(test)", test.m->forward_backward(xs, pk.targets.data(), old.data(), refl.data(), adv.data(),
                                                                   wts.data(), o, flp_t.data(), fen_t.data(), &st_t));
    expect_ok(t, label + ".packed.fb(ref)", ref.m->forward_backward(xs, pk.targets.data(), old.data(), refl.data(), adv.data(),
                                                                 wts.data(), o, flp_r.data(), fen_r.data(), &st_r));
    compare(t, label + ".packed.fb.logp", flp_t, flp_r, tol.logp);
    compare_scalar(t, label + ".packed.fb.stats.total", st_t.total, st_r.total, tol.loss);
    std::vector<float> pg_t, pg_r;
    expect_ok(t, label + ".packed.get_gradients(test)", test.get_gradients(&pg_t));
    expect_ok(t, label + ".packed.get_gradients(ref)", ref.get_gradients(&pg_r));
    for (const auto& p : ref.m->params())
      compare(t, label + ".packed.grad[" + p.name + "]", pg_t.data() + p.offset, pg_r.data() + p.offset,
              static_cast<size_t>(p.numel), tol.grad);
  }
}

// The critic (value-head engines, cfg.value_head): values (b x t, left / right
// padding, null row mask) and value_forward_backward twice (accumulating: a small
// batch, then the big one with a row mask; values, loss stats, every gradient),
// one AdamW step as run_suite, values after it. Values are O(1) scalars read off
// the hidden state like a logit, so they take the logp bound; the value loss's
// stats take the loss bound. Clip 0.2 around old values ~0.3 away, so both
// branches of the clipped loss are taken (smooth_loss: clip 100, never clipped).
inline void run_critic_suite(Tally& t, const std::string& label, Engine& test, Engine& ref, const Config& cfg,
                             const Tolerances& tol, uint64_t seed, const Shapes& sh = Shapes{}) {
  const int64_t V = cfg.vocab;
  Rng rng(seed);
  same_random_weights(t, label, test, ref, seed + 1);
  PaddedBatch big = padded_batch(sh.b, sh.t, sh.left, sh.right, V, rng);
  std::vector<float> v_t(big.ids.size()), v_r(big.ids.size());
  expect_ok(t, label + ".values(test)", test.m->values(big.batch(), nullptr, v_t.data()));
  expect_ok(t, label + ".values(ref)", ref.m->values(big.batch(), nullptr, v_r.data()));
  compare(t, label + ".values", v_t, v_r, tol.logp);

  PaddedBatch small = padded_batch(sh.small_b, sh.small_t, 1, 1, V, rng);
  const float clip = tol.smooth_loss ? 100.f : 0.2f;
  for (int call = 0; call < 2; ++call) {
    const PaddedBatch& pb = call == 0 ? small : big;
    const size_t n = pb.ids.size();
    std::vector<float> base(n), old(n), ret(n), wts(n);
    expect_ok(t, label + ".vfb.pre-values", ref.m->values(pb.batch(), nullptr, base.data()));
    double msum = 0;
    for (float m : pb.mask) msum += m;
    for (size_t i = 0; i < n; ++i) {
      old[i] = base[i] + 0.3f * rng.normal();
      ret[i] = base[i] + rng.normal();
      wts[i] = static_cast<float>(pb.mask[i] / msum);
    }
    wts[n - 1] = 0.f;  // a real token with weight 0: skipped by the head
    std::vector<float> vo_t(n), vo_r(n);
    kernels::ValueLossStats st_t, st_r;
    const std::string c = label + ".vfb" + std::to_string(call + 1);
    expect_ok(t, c + "(test)", test.m->value_forward_backward(pb.batch(), old.data(), ret.data(), wts.data(), clip,
                                                           vo_t.data(), &st_t));
    expect_ok(t, c + "(ref)", ref.m->value_forward_backward(pb.batch(), old.data(), ret.data(), wts.data(), clip,
                                                         vo_r.data(), &st_r));
    compare(t, c + ".values", vo_t, vo_r, tol.logp);
    compare_scalar(t, c + ".stats.total", st_t.total, st_r.total, tol.loss);
    compare_scalar(t, c + ".stats.clipfrac", st_t.clipfrac, st_r.clipfrac, tol.loss);
    compare_scalar(t, c + ".stats.weight_sum", st_t.weight_sum, st_r.weight_sum, tol.loss);
    if (call == 1 && !tol.smooth_loss) {
      const bool both = st_r.clipfrac > 0.05 && st_r.clipfrac < 0.95;
      (both ? t.pass : t.fail)++;
      std::printf("%s %s.clipfrac_in_(0.05,0.95) clipfrac=%.3f (both branches of the clipped loss)\n",
                  both ? "PASS" : "FAIL", c.c_str(), st_r.clipfrac);
    }
  }
  check_grads_and_step(t, label, test, ref, tol);
  expect_ok(t, label + ".values2(test)", test.m->values(big.batch(), big.mask.data(), v_t.data()));
  expect_ok(t, label + ".values2(ref)", ref.m->values(big.batch(), big.mask.data(), v_r.data()));
  compare(t, label + ".values_after_step", v_t, v_r, tol.logp);
}

// OpsModel alone: forward_backward keeping all activations and with per-layer
// recompute (activation budget 0) must give bitwise the same gradients and stats
// (the recompute runs the same ops on the same inputs; every op is deterministic).
inline void check_recompute(Tally& t, const std::string& label, const engine::Backend& be, const Config& cfg,
                            bool bf16, uint64_t seed) {
  auto keep = make_ops(be, cfg, bf16), rec = make_ops(be, cfg, bf16);
  keep->m->set_act_budget_bytes(1e12);
  rec->m->set_act_budget_bytes(0);
  Rng rng(seed);
  std::vector<float> w0 = random_weights(keep->m->params(), keep->m->num_parameters(), seed + 1);
  expect_ok(t, label + ".set_parameters", keep->set_parameters(w0));
  expect_ok(t, label + ".set_parameters", rec->set_parameters(w0));
  PaddedBatch pb = padded_batch(3, 7, 2, 1, cfg.vocab, rng);
  const size_t n = pb.ids.size();
  std::vector<float> old(n), refl(n), adv(n), wts(n);
  for (size_t i = 0; i < n; ++i) {
    old[i] = -4.f + rng.normal();
    refl[i] = -4.f + rng.normal();
    adv[i] = rng.normal();
    wts[i] = pb.mask[i] / static_cast<float>(n);
  }
  LossOptions o;
  o.kl_coef = 0.05f;
  o.entropy_coeff = 0.01f;
  kernels::PolicyLossStats s1, s2;
  expect_ok(t, label + ".fb(keep)", keep->m->forward_backward(pb.batch(), pb.targets.data(), old.data(), refl.data(),
                                                          adv.data(), wts.data(), o, nullptr, nullptr, &s1));
  expect_ok(t, label + ".fb(recompute)", rec->m->forward_backward(pb.batch(), pb.targets.data(), old.data(), refl.data(),
                                                              adv.data(), wts.data(), o, nullptr, nullptr, &s2));
  std::vector<float> g1, g2;
  expect_ok(t, label + ".grads", keep->get_gradients(&g1));
  expect_ok(t, label + ".grads", rec->get_gradients(&g2));
  size_t diff = 0;
  for (size_t i = 0; i < g1.size(); ++i) diff += std::memcmp(&g1[i], &g2[i], 4) != 0;
  const bool ok = diff == 0 && s1.total == s2.total && keep->m->last_kept_activations() &&
                  !rec->m->last_kept_activations();
  (ok ? t.pass : t.fail)++;
  std::printf("%s %s.keep_vs_recompute grads n=%zu bitwise_mismatches=%zu total %.9g vs %.9g kept=%d/%d\n",
              ok ? "PASS" : "FAIL", label.c_str(), g1.size(), diff, s1.total, s2.total,
              keep->m->last_kept_activations(), rec->m->last_kept_activations());
  std::fflush(stdout);
}

}  // namespace rlvr::opscheck
