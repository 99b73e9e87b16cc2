// Binding layer for the RL kernels: each function takes one options object of
// tensors (inputs and preallocated outputs) and numbers, validates every
// argument (dtype, shape, device, id ranges, finiteness), then dispatches to
// the CPU or CUDA implementation of the kernel interface.
#include "binding/kernels_binding.h"

#include <cmath>
#include <vector>

#include "binding/errors.h"
#include "binding/loss_args.h"
#include "binding/tensor_arg.h"
#include "kernels/kernels.h"

namespace rlvr::binding {
namespace {

using namespace rlvr::kernels;

Napi::Object options(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) fail(Code::Value, "options", "expected an options object");
  return info[0].As<Napi::Object>();
}

template <typename Args>
Status run(bool cuda, Status (*cpu_fn)(const Args&), Status (*cuda_fn)(const Args&), const Args& a, int device) {
  if (!cuda) return cpu_fn(a);
  check(cuda::set_device(device));
  return cuda_fn(a);
}

void check_temperature(double t) {
  if (!(t > 0)) fail(Code::Value, "temperature", "must be > 0, got " + std::to_string(t));
}

void require_f32_vector(const TensorArg& t, int64_t n, const TensorArg& ref) {
  expect_dtype(t, DType::F32);
  expect_shape(t, {n});
  expect_same_device(ref, t);
}

AggMode parse_agg(const std::string& s) {
  if (s == "token-mean") return AggMode::TokenMean;
  if (s == "seq-mean-token-sum") return AggMode::SeqMeanTokenSum;
  if (s == "seq-mean-token-mean") return AggMode::SeqMeanTokenMean;
  fail(Code::Value, "mode", "unknown aggregation \"" + s + "\" (expected token-mean, seq-mean-token-sum or seq-mean-token-mean)");
}

void report_bad_row(int64_t bad_row) {
  if (bad_row >= 0)
    fail(Code::Value, "logits", "row " + std::to_string(bad_row) + " contains NaN or +inf, or is entirely -inf");
}

// Shared validation of logits [n, v] and targets [n].
void check_logits_targets(const TensorArg& logits, const TensorArg& targets) {
  expect_float_dtype(logits);
  if (logits.shape.size() != 2) fail(Code::Shape, "logits", "expected shape [n, v], got " + logits.shape_str());
  if (logits.shape[1] == 0) fail(Code::Shape, "logits", "vocabulary size must be >= 1");
  expect_shape(targets, {logits.shape[0]});
  expect_same_device(logits, targets);
  check_token_ids(targets, logits.shape[1]);
}

// logprobForward({ logits, targets, temperature, logp, entropy, lse })
Napi::Value LogprobForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg logits = tensor_arg(o, "logits"), targets = tensor_arg(o, "targets");
    check_logits_targets(logits, targets);
    const int64_t n = logits.shape[0];
    TensorArg logp = tensor_arg(o, "logp"), ent = tensor_arg(o, "entropy"), lse = tensor_arg(o, "lse");
    for (auto* t : {&logp, &ent, &lse}) require_f32_vector(*t, n, logits);
    double temp = number_arg(o, "temperature", 1.0);
    check_temperature(temp);
    LogprobFwdArgs a;
    a.logits = logits.data; a.logits_dtype = logits.dtype; a.n = n; a.v = logits.shape[1];
    a.targets = static_cast<const int32_t*>(targets.data); a.temperature = static_cast<float>(temp);
    a.logp = static_cast<float*>(logp.data); a.entropy = static_cast<float*>(ent.data); a.lse = static_cast<float*>(lse.data);
    int64_t bad = -1;
    a.bad_row = &bad;
    check(run(logits.on_cuda(), logprob_fwd_cpu, logprob_fwd_cuda, a, logits.device));
    report_bad_row(bad);
    return info.Env().Undefined();
  });
}

// logprobBackward({ logits, targets, temperature, lse, entropy, dlogp?, dentropy?, dlogits })
Napi::Value LogprobBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg logits = tensor_arg(o, "logits"), targets = tensor_arg(o, "targets");
    check_logits_targets(logits, targets);
    const int64_t n = logits.shape[0];
    TensorArg lse = tensor_arg(o, "lse"), ent = tensor_arg(o, "entropy");
    TensorArg dlogp = optional_tensor_arg(o, "dlogp"), dent = optional_tensor_arg(o, "dentropy");
    TensorArg dlogits = tensor_arg(o, "dlogits");
    for (auto* t : {&lse, &ent}) require_f32_vector(*t, n, logits);
    check_finite(lse);
    check_finite(ent);
    for (auto* t : {&dlogp, &dent})
      if (t->present) { require_f32_vector(*t, n, logits); check_finite(*t); }
    expect_dtype(dlogits, logits.dtype);
    expect_shape(dlogits, logits.shape);
    expect_same_device(logits, dlogits);
    double temp = number_arg(o, "temperature", 1.0);
    check_temperature(temp);
    LogprobBwdArgs a;
    a.logits = logits.data; a.logits_dtype = logits.dtype; a.n = n; a.v = logits.shape[1];
    a.targets = static_cast<const int32_t*>(targets.data); a.temperature = static_cast<float>(temp);
    a.lse = static_cast<const float*>(lse.data); a.entropy = static_cast<const float*>(ent.data);
    a.dlogp = static_cast<const float*>(dlogp.data); a.dentropy = static_cast<const float*>(dent.data);
    a.dlogits = dlogits.data;
    check(run(logits.on_cuda(), logprob_bwd_cpu, logprob_bwd_cuda, a, logits.device));
    return info.Env().Undefined();
  });
}

// grpoAdvantage({ scores, groupSize, normStd, eps, advantages, mask?, tokenAdvantages? })
Napi::Value GrpoAdvantage(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg scores = tensor_arg(o, "scores");
    expect_dtype(scores, DType::F32);
    if (scores.shape.size() != 1) fail(Code::Shape, "scores", "expected shape [b], got " + scores.shape_str());
    check_finite(scores);
    const int64_t b = scores.shape[0];
    double gs = number_arg(o, "groupSize", -1);
    if (gs < 1 || gs != static_cast<int64_t>(gs))
      fail(Code::Range, "groupSize", "must be a positive integer (an empty group has no baseline), got " + std::to_string(gs));
    const int64_t g = static_cast<int64_t>(gs);
    if (b % g != 0)
      fail(Code::Range, "groupSize", std::to_string(g) + " does not divide the batch of " + std::to_string(b) + " scores");
    double eps = number_arg(o, "eps", 1e-6);
    if (!(eps >= 0)) fail(Code::Value, "eps", "must be >= 0");
    TensorArg adv = tensor_arg(o, "advantages");
    require_f32_vector(adv, b, scores);
    TensorArg mask = optional_tensor_arg(o, "mask"), tok = optional_tensor_arg(o, "tokenAdvantages");
    GrpoAdvantageArgs a;
    if (mask.present || tok.present) {
      if (!mask.present || !tok.present) fail(Code::Value, mask.present ? "tokenAdvantages" : "mask", "mask and tokenAdvantages go together");
      if (mask.shape.size() != 2 || mask.shape[0] != b) fail(Code::Shape, "mask", "expected shape [" + std::to_string(b) + ", t], got " + mask.shape_str());
      expect_same_device(scores, mask);
      check_mask(mask);
      expect_dtype(tok, DType::F32);
      expect_shape(tok, mask.shape);
      expect_same_device(scores, tok);
      a.mask = static_cast<const float*>(mask.data); a.t = mask.shape[1]; a.token_advantages = static_cast<float*>(tok.data);
    }
    a.scores = static_cast<const float*>(scores.data); a.b = b; a.group_size = g;
    a.norm_std = bool_arg(o, "normStd", true); a.eps = static_cast<float>(eps);
    a.advantages = static_cast<float*>(adv.data);
    check(run(scores.on_cuda(), grpo_advantage_cpu, grpo_advantage_cuda, a, scores.device));
    return info.Env().Undefined();
  });
}

// ppoClipLoss({ logp, oldLogp, advantages, clipLow, clipHigh, dualClip, loss, dlogp, clipped?, dualClipped? })
Napi::Value PpoClipLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg logp = tensor_arg(o, "logp");
    expect_dtype(logp, DType::F32);
    if (logp.shape.size() != 1) fail(Code::Shape, "logp", "expected shape [n], got " + logp.shape_str());
    const int64_t n = logp.shape[0];
    TensorArg old = tensor_arg(o, "oldLogp"), adv = tensor_arg(o, "advantages");
    TensorArg loss = tensor_arg(o, "loss"), dlogp = tensor_arg(o, "dlogp");
    for (auto* t : {&old, &adv, &loss, &dlogp}) require_f32_vector(*t, n, logp);
    for (auto* t : {&logp, &old, &adv}) check_finite(*t);
    double lo = number_arg(o, "clipLow", 0.2), hi = number_arg(o, "clipHigh", 0.2), dual = number_arg(o, "dualClip", 0);
    check_clip(lo, hi, dual);
    TensorArg clipped = optional_tensor_arg(o, "clipped"), dclipped = optional_tensor_arg(o, "dualClipped");
    for (auto* t : {&clipped, &dclipped})
      if (t->present) {
        expect_dtype(*t, DType::U8);
        expect_shape(*t, {n});
        expect_same_device(logp, *t);
      }
    PpoClipArgs a;
    a.n = n; a.logp = static_cast<const float*>(logp.data); a.old_logp = static_cast<const float*>(old.data);
    a.advantages = static_cast<const float*>(adv.data);
    a.clip_low = static_cast<float>(lo); a.clip_high = static_cast<float>(hi); a.dual_clip = static_cast<float>(dual);
    a.loss = static_cast<float*>(loss.data); a.dlogp = static_cast<float*>(dlogp.data);
    a.clipped = static_cast<uint8_t*>(clipped.data); a.dual_clipped = static_cast<uint8_t*>(dclipped.data);
    check(run(logp.on_cuda(), ppo_clip_cpu, ppo_clip_cuda, a, logp.device));
    return info.Env().Undefined();
  });
}

// klPenalty({ logp, refLogp, klType, kl, dlogp? })
Napi::Value KlPenalty(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg logp = tensor_arg(o, "logp");
    expect_dtype(logp, DType::F32);
    if (logp.shape.size() != 1) fail(Code::Shape, "logp", "expected shape [n], got " + logp.shape_str());
    const int64_t n = logp.shape[0];
    TensorArg ref = tensor_arg(o, "refLogp"), kl = tensor_arg(o, "kl"), dlogp = optional_tensor_arg(o, "dlogp");
    for (auto* t : {&ref, &kl}) require_f32_vector(*t, n, logp);
    if (dlogp.present) require_f32_vector(dlogp, n, logp);
    check_finite(logp);
    check_finite(ref);
    KlArgs a;
    a.n = n; a.logp = static_cast<const float*>(logp.data); a.ref_logp = static_cast<const float*>(ref.data);
    a.type = parse_kl(string_arg(o, "klType", "low_var_kl"));
    a.kl = static_cast<float*>(kl.data); a.dlogp = static_cast<float*>(dlogp.data);
    check(run(logp.on_cuda(), kl_penalty_cpu, kl_penalty_cuda, a, logp.device));
    return info.Env().Undefined();
  });
}

// aggregationWeights({ mask, mode, weights })
Napi::Value AggregationWeights(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg mask = tensor_arg(o, "mask"), w = tensor_arg(o, "weights");
    if (mask.shape.size() != 2) fail(Code::Shape, "mask", "expected shape [b, t], got " + mask.shape_str());
    check_mask(mask);
    expect_dtype(w, DType::F32);
    expect_shape(w, mask.shape);
    expect_same_device(mask, w);
    AggWeightsArgs a;
    a.mask = static_cast<const float*>(mask.data); a.b = mask.shape[0]; a.t = mask.shape[1];
    a.mode = parse_agg(string_arg(o, "mode", "token-mean")); a.weights = static_cast<float*>(w.data);
    check(run(mask.on_cuda(), agg_weights_cpu, agg_weights_cuda, a, mask.device));
    return info.Env().Undefined();
  });
}

// gae({ rewards, values, mask, gamma, lambda, whiten, advantages, returns })
Napi::Value Gae(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg rew = tensor_arg(o, "rewards");
    expect_dtype(rew, DType::F32);
    if (rew.shape.size() != 2) fail(Code::Shape, "rewards", "expected shape [b, t], got " + rew.shape_str());
    TensorArg val = tensor_arg(o, "values"), mask = tensor_arg(o, "mask");
    TensorArg adv = tensor_arg(o, "advantages"), ret = tensor_arg(o, "returns");
    for (auto* t : {&val, &mask, &adv, &ret}) {
      expect_dtype(*t, DType::F32);
      expect_shape(*t, rew.shape);
      expect_same_device(rew, *t);
    }
    check_finite(rew);
    check_finite(val);
    check_mask(mask);
    double gamma = number_arg(o, "gamma", 1.0), lam = number_arg(o, "lambda", 1.0);
    if (!(gamma >= 0 && gamma <= 1)) fail(Code::Value, "gamma", "must be in [0, 1], got " + std::to_string(gamma));
    if (!(lam >= 0 && lam <= 1)) fail(Code::Value, "lambda", "must be in [0, 1], got " + std::to_string(lam));
    GaeArgs a;
    a.rewards = static_cast<const float*>(rew.data); a.values = static_cast<const float*>(val.data);
    a.mask = static_cast<const float*>(mask.data); a.b = rew.shape[0]; a.t = rew.shape[1];
    a.gamma = static_cast<float>(gamma); a.lambda = static_cast<float>(lam); a.whiten = bool_arg(o, "whiten", true);
    a.advantages = static_cast<float*>(adv.data); a.returns = static_cast<float*>(ret.data);
    check(run(rew.on_cuda(), gae_cpu, gae_cuda, a, rew.device));
    return info.Env().Undefined();
  });
}

// policyLoss({ logits, targets, temperature, oldLogp?, refLogp?, advantages?, weights,
//              pgCoef, klCoef, entropyCoeff, clipLow, clipHigh, dualClip, klType,
//              logp, entropy, dlogits? }) -> stats
// dlogits has the logits dtype, or is bf16 (not in place) for f32 logits.
Napi::Value PolicyLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg logits = tensor_arg(o, "logits"), targets = tensor_arg(o, "targets");
    check_logits_targets(logits, targets);
    const int64_t n = logits.shape[0];
    double temp = number_arg(o, "temperature", 1.0);
    check_temperature(temp);
    double pg = number_arg(o, "pgCoef", 1.0), klc = number_arg(o, "klCoef", 0.0), ent = number_arg(o, "entropyCoeff", 0.0);
    double lo = number_arg(o, "clipLow", 0.2), hi = number_arg(o, "clipHigh", 0.2), dual = number_arg(o, "dualClip", 0);
    check_clip(lo, hi, dual);
    TensorArg weights = tensor_arg(o, "weights");
    require_f32_vector(weights, n, logits);
    check_finite(weights);
    TensorArg old = optional_tensor_arg(o, "oldLogp"), ref = optional_tensor_arg(o, "refLogp"), adv = optional_tensor_arg(o, "advantages");
    auto need = [&](TensorArg& t, bool required, const char* why) {
      if (!t.present) {
        if (required) fail(Code::Value, t.name, std::string("is required when ") + why);
        return;
      }
      require_f32_vector(t, n, logits);
      check_finite(t);
    };
    need(old, pg != 0, "pgCoef != 0");
    need(adv, pg != 0, "pgCoef != 0");
    need(ref, klc != 0, "klCoef != 0");
    TensorArg logp = tensor_arg(o, "logp"), entropy = tensor_arg(o, "entropy"), dlogits = optional_tensor_arg(o, "dlogits");
    require_f32_vector(logp, n, logits);
    require_f32_vector(entropy, n, logits);
    if (dlogits.present) {
      // bf16 dlogits for f32 logits is the one mixed pair (PolicyLossArgs::dlogits_dtype);
      // the kernel rejects it in place.
      if (!(logits.dtype == DType::F32 && dlogits.dtype == DType::BF16)) expect_dtype(dlogits, logits.dtype);
      expect_shape(dlogits, logits.shape);
      expect_same_device(logits, dlogits);
    }
    PolicyLossArgs a;
    a.logits = logits.data; a.logits_dtype = logits.dtype; a.n = n; a.v = logits.shape[1];
    a.targets = static_cast<const int32_t*>(targets.data); a.temperature = static_cast<float>(temp);
    a.old_logp = static_cast<const float*>(old.data); a.ref_logp = static_cast<const float*>(ref.data);
    a.advantages = static_cast<const float*>(adv.data); a.weights = static_cast<const float*>(weights.data);
    a.pg_coef = static_cast<float>(pg); a.kl_coef = static_cast<float>(klc); a.entropy_coeff = static_cast<float>(ent);
    a.clip_low = static_cast<float>(lo); a.clip_high = static_cast<float>(hi); a.dual_clip = static_cast<float>(dual);
    a.kl_type = parse_kl(string_arg(o, "klType", "low_var_kl"));
    a.logp = static_cast<float*>(logp.data); a.entropy = static_cast<float*>(entropy.data); a.dlogits = dlogits.data;
    if (dlogits.present) a.dlogits_dtype = dlogits.dtype;
    PolicyLossStats stats;
    int64_t bad = -1;
    a.stats = &stats;
    a.bad_row = &bad;
    check(run(logits.on_cuda(), policy_loss_cpu, policy_loss_cuda, a, logits.device));
    report_bad_row(bad);
    return stats_to_js(info.Env(), stats);
  });
}

// valueLoss({ values, oldValues, returns, weights, clip, dvalues? }) -> { loss, clipFrac, weightSum }
// The four inputs (and dvalues) share one shape of any rank, e.g. [b, t] from gae and
// aggregationWeights; the kernel sees them flattened.
Napi::Value ValueLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg values = tensor_arg(o, "values");
    expect_dtype(values, DType::F32);
    TensorArg old = tensor_arg(o, "oldValues"), ret = tensor_arg(o, "returns"), w = tensor_arg(o, "weights");
    TensorArg dvalues = optional_tensor_arg(o, "dvalues");
    for (auto* t : {&old, &ret, &w, &dvalues}) {
      if (!t->present) continue;
      expect_dtype(*t, DType::F32);
      expect_shape(*t, values.shape);
      expect_same_device(values, *t);
    }
    for (auto* t : {&values, &old, &ret, &w}) check_finite(*t);
    const double clip = number_arg(o, "clip", 0.5);
    const float clip_f = static_cast<float>(clip);  // the kernel's clip: must stay finite and > 0 in fp32
    if (!(clip > 0) || !(clip_f > 0.f) || !std::isfinite(clip_f))
      fail(Code::Value, "clip", "must be a finite number > 0 (in fp32), got " + std::to_string(clip));
    ValueLossArgs a;
    a.n = values.numel(); a.values = static_cast<const float*>(values.data);
    a.old_values = static_cast<const float*>(old.data); a.returns = static_cast<const float*>(ret.data);
    a.weights = static_cast<const float*>(w.data); a.clip = clip_f;
    a.dvalues = static_cast<float*>(dvalues.data);
    ValueLossStats st;
    a.stats = &st;
    check(run(values.on_cuda(), value_loss_cpu, value_loss_cuda, a, values.device));
    Napi::Object r = Napi::Object::New(info.Env());
    r.Set("loss", st.total);
    r.Set("clipFrac", st.clipfrac);
    r.Set("weightSum", st.weight_sum);
    return r;
  });
}

// sampleTokens({ logits, temperature, topP, topK, uniforms, tokens })
Napi::Value SampleTokens(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = options(info);
    TensorArg logits = tensor_arg(o, "logits");
    expect_float_dtype(logits);
    if (logits.shape.size() != 2 || logits.shape[1] == 0)
      fail(Code::Shape, "logits", "expected shape [b, v] with v >= 1, got " + logits.shape_str());
    const int64_t b = logits.shape[0];
    TensorArg uniforms = tensor_arg(o, "uniforms"), tokens = tensor_arg(o, "tokens");
    require_f32_vector(uniforms, b, logits);
    expect_dtype(tokens, DType::I32);
    expect_shape(tokens, {b});
    expect_same_device(logits, tokens);
    {
      std::vector<char> scratch;
      const float* u = static_cast<const float*>(host_view(uniforms, scratch));
      for (int64_t i = 0; i < b; ++i)
        if (!(u[i] >= 0.f && u[i] < 1.f)) fail(Code::Value, "uniforms", "values must lie in [0, 1), got " + std::to_string(u[i]) + " at index " + std::to_string(i));
    }
    double temp = number_arg(o, "temperature", 1.0), top_p = number_arg(o, "topP", 1.0), top_k = number_arg(o, "topK", 0);
    if (!(temp >= 0)) fail(Code::Value, "temperature", "must be >= 0 (0 = greedy), got " + std::to_string(temp));
    if (!(top_p > 0 && top_p <= 1)) fail(Code::Value, "topP", "must be in (0, 1], got " + std::to_string(top_p));
    if (top_k < 0 || top_k != static_cast<int64_t>(top_k)) fail(Code::Value, "topK", "must be a non-negative integer (0 = off), got " + std::to_string(top_k));
    SampleArgs a;
    a.logits = logits.data; a.logits_dtype = logits.dtype; a.b = b; a.v = logits.shape[1];
    a.temperature = static_cast<float>(temp); a.top_p = static_cast<float>(top_p); a.top_k = static_cast<int64_t>(top_k);
    a.uniforms = static_cast<const float*>(uniforms.data); a.tokens = static_cast<int32_t*>(tokens.data);
    int64_t bad = -1;
    a.bad_row = &bad;
    check(run(logits.on_cuda(), sample_cpu, sample_cuda, a, logits.device));
    report_bad_row(bad);
    return info.Env().Undefined();
  });
}

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("logprobForward", Napi::Function::New(env, LogprobForward, "logprobForward"));
  exports.Set("logprobBackward", Napi::Function::New(env, LogprobBackward, "logprobBackward"));
  exports.Set("grpoAdvantage", Napi::Function::New(env, GrpoAdvantage, "grpoAdvantage"));
  exports.Set("ppoClipLoss", Napi::Function::New(env, PpoClipLoss, "ppoClipLoss"));
  exports.Set("klPenalty", Napi::Function::New(env, KlPenalty, "klPenalty"));
  exports.Set("aggregationWeights", Napi::Function::New(env, AggregationWeights, "aggregationWeights"));
  exports.Set("gae", Napi::Function::New(env, Gae, "gae"));
  exports.Set("policyLoss", Napi::Function::New(env, PolicyLoss, "policyLoss"));
  exports.Set("sampleTokens", Napi::Function::New(env, SampleTokens, "sampleTokens"));
  exports.Set("valueLoss", Napi::Function::New(env, ValueLoss, "valueLoss"));
}

}  // namespace rlvr::binding
