// Binding of the model engine. Methods take one options object of tensor
// descriptors (cpu only: host memory whatever the backend; the "cuda" backend
// copies to the device itself) and numbers, validate everything, call the
// engine (EngineImpl: OpsModel on the backend) and return fresh typed arrays
// (never [tokens x vocab] logits, except the size-capped test-only logits()).
// The long calls validate here, then run as an EngineCall (async_call.h) and
// return a promise of what they used to return.
#include "binding/engine_binding.h"

#include <cmath>
#include <limits>
#include <string>

#include "binding/errors.h"
#include "binding/loss_args.h"
#include "binding/tensor_arg.h"

namespace rlvr::binding {
namespace {

constexpr int64_t kMaxDebugLogits = int64_t{1} << 24;

Napi::Object options(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) fail(Code::Value, "options", "expected an options object");
  return info[0].As<Napi::Object>();
}

int64_t int_field(const Napi::Object& o, const char* key, int64_t min) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) fail(Code::Value, key, "expected an integer");
  double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x) || x != std::floor(x) || x < static_cast<double>(min) || x > 1e12)
    fail(Code::Value, key, "expected an integer >= " + std::to_string(min) + ", got " + std::to_string(x));
  return static_cast<int64_t>(x);
}

bool bool_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) fail(Code::Value, key, "expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

TensorArg cpu_tensor(const Napi::Object& o, const char* key, bool optional = false) {
  TensorArg t = optional ? optional_tensor_arg(o, key) : tensor_arg(o, key);
  if (t.present && t.on_cuda())
    fail(Code::Device, key, "the engine takes cpu tensors (every backend; \"cuda\" copies them to its device)");
  return t;
}

bool has(const Napi::Object& o, const char* key) { return o.Has(key) && !o.Get(key).IsUndefined(); }

// segmentIds (optional) [b, t] i32 >= 0, non-decreasing along each row (packed sequences).
void segment_arg(const Napi::Object& o, const TensorArg& ids, engine::Batch& b) {
  TensorArg seg = cpu_tensor(o, "segmentIds", true);
  if (!seg.present) return;
  expect_dtype(seg, DType::I32);
  expect_shape(seg, ids.shape);
  const int32_t* s = static_cast<const int32_t*>(seg.data);
  for (int64_t r = 0; r < b.b; ++r)
    for (int64_t t = 0; t < b.t; ++t) {
      const int64_t i = r * b.t + t;
      if (s[i] < 0) fail(Code::Value, "segmentIds", "must be >= 0, got " + std::to_string(s[i]) + " at index " + std::to_string(i));
      if (t > 0 && s[i] < s[i - 1])
        fail(Code::Value, "segmentIds", "must be non-decreasing along each row (a packed sequence is contiguous); index " +
                                            std::to_string(i) + " goes from " + std::to_string(s[i - 1]) + " to " + std::to_string(s[i]));
    }
  b.seg = s;
}

// inputIds [b, t] i32 with ids in range, attentionMask [b, t] 0/1, segmentIds (packing) unless
// no_packing says why not.
engine::Batch batch_args(const Napi::Object& o, int64_t vocab, TensorArg& ids, TensorArg& mask,
                         const std::string& no_packing) {
  ids = cpu_tensor(o, "inputIds");
  expect_dtype(ids, DType::I32);
  if (ids.shape.size() != 2 || ids.shape[0] < 1 || ids.shape[1] < 1)
    fail(Code::Shape, "inputIds", "expected shape [b, t] with b, t >= 1, got " + ids.shape_str());
  check_token_ids(ids, vocab);
  mask = cpu_tensor(o, "attentionMask");
  expect_dtype(mask, DType::F32);
  expect_shape(mask, ids.shape);
  check_mask(mask);
  engine::Batch b;
  b.b = ids.shape[0];
  b.t = ids.shape[1];
  b.ids = static_cast<const int32_t*>(ids.data);
  b.mask = static_cast<const float*>(mask.data);
  if (no_packing.empty()) {
    segment_arg(o, ids, b);
  } else if (has(o, "segmentIds")) {
    fail(Code::Value, "segmentIds", no_packing);
  }
  return b;
}

// The batch of a scoring / training call: packing allowed (every backend has it).
engine::Batch batch_args(const Napi::Object& o, const EngineImpl& m, TensorArg& ids, TensorArg& mask) {
  return batch_args(o, m.config().vocab, ids, mask, "");
}

constexpr const char* kNoPackingInDecode = "packed sequences are for scoring and training, not for decoding (prefill)";

TensorArg targets_arg(const Napi::Object& o, const TensorArg& ids, int64_t vocab) {
  TensorArg t = cpu_tensor(o, "targets");
  expect_dtype(t, DType::I32);
  expect_shape(t, ids.shape);
  check_token_ids(t, vocab);
  return t;
}

// f32 [b, t], finite; zero wherever the attention mask is 0 when `masked`.
TensorArg row_values(const Napi::Object& o, const char* key, const TensorArg& ids, const TensorArg& mask, bool optional,
                     bool zero_on_padding) {
  TensorArg t = cpu_tensor(o, key, optional);
  if (!t.present) return t;
  expect_dtype(t, DType::F32);
  expect_shape(t, ids.shape);
  check_finite(t);
  if (zero_on_padding) {
    const float* v = static_cast<const float*>(t.data);
    const float* m = static_cast<const float*>(mask.data);
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      if (v[i] != 0.f && m[i] == 0.f)
        fail(Code::Value, key, "is non-zero at index " + std::to_string(i) + " where attentionMask is 0 (padding)");
  }
  return t;
}

// scoreMask (optional) [b, t] f32 0/1, zero wherever attentionMask is 0.
TensorArg score_mask_arg(const Napi::Object& o, const TensorArg& ids, const TensorArg& mask) {
  TensorArg sm = cpu_tensor(o, "scoreMask", true);
  if (!sm.present) return sm;
  expect_dtype(sm, DType::F32);
  expect_shape(sm, ids.shape);
  check_mask(sm);
  return row_values(o, "scoreMask", ids, mask, true, true);
}

double temperature_arg(const Napi::Object& o) {
  double t = number_arg(o, "temperature", 1.0);
  if (!(t > 0)) fail(Code::Value, "temperature", "must be > 0, got " + std::to_string(t));
  return t;
}

// { logp, entropy } from a call's outputs 0 and 1: what score and scorePrefixed return.
Napi::Value logp_entropy(Napi::Env env, EngineCall& c) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("logp", c.output_array(0));
  r.Set("entropy", c.output_array(1));
  return r;
}

// A call's only output.
Napi::Value first_output(Napi::Env, EngineCall& c) { return c.output_array(0); }

Napi::Float32Array new_f32(Napi::Env env, int64_t n) {
  return Napi::Float32Array::New(env, static_cast<size_t>(n));
}

}  // namespace

void EngineWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function fn = DefineClass(env, "Engine",
                                  {InstanceMethod("paramInfo", &EngineWrap::ParamInfo),
                                   InstanceMethod("setParam", &EngineWrap::SetParam),
                                   InstanceMethod("getParam", &EngineWrap::GetParam),
                                   InstanceMethod("getGrad", &EngineWrap::GetGrad),
                                   InstanceMethod("getAdamState", &EngineWrap::GetAdamState),
                                   InstanceMethod("setAdamState", &EngineWrap::SetAdamState),
                                   InstanceMethod("zeroGrad", &EngineWrap::ZeroGrad),
                                   InstanceMethod("gradNorm", &EngineWrap::GradNorm),
                                   InstanceMethod("score", &EngineWrap::Score),
                                   InstanceMethod("logits", &EngineWrap::Logits),
                                   InstanceMethod("scorePrefixed", &EngineWrap::ScorePrefixed),
                                   InstanceMethod("forwardBackward", &EngineWrap::ForwardBackward),
                                   InstanceMethod("values", &EngineWrap::Values),
                                   InstanceMethod("valueForwardBackward", &EngineWrap::ValueForwardBackward),
                                   InstanceMethod("optimizerStep", &EngineWrap::OptimizerStep),
                                   InstanceMethod("prefill", &EngineWrap::Prefill),
                                   InstanceMethod("step", &EngineWrap::Step),
                                   InstanceMethod("resetCache", &EngineWrap::ResetCache),
                                   InstanceMethod("releaseWorkspace", &EngineWrap::ReleaseWorkspace),
                                   InstanceMethod("numParameters", &EngineWrap::NumParameters),
                                   InstanceMethod("setLmChunkRows", &EngineWrap::SetLmChunkRows),
                                   InstanceMethod("keptActivations", &EngineWrap::KeptActivations),
                                   InstanceMethod("backend", &EngineWrap::Backend),
                                   InstanceMethod("rollout", &EngineWrap::Rollout),
                                   InstanceMethod("cancelRollout", &EngineWrap::CancelRollout),
                                   InstanceMethod("supportsRollout", &EngineWrap::SupportsRollout)});
  exports.Set("Engine", fn);
}

// new Engine({ vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
//              headDim, rmsNormEps, attentionBias, qkNorm?, tieWordEmbeddings, invFreq, valueHead?,
//              backend?: "cpu" | "ops-cpu" | "cuda", device?: number, bf16Gemm?: boolean,
//              activationBudgetBytes?: number })
EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
  try {
    if (info.Length() < 1 || !info[0].IsObject()) fail(Code::Value, "config", "expected a config object");
    Napi::Object o = info[0].As<Napi::Object>();
    engine::Config c;
    c.vocab = int_field(o, "vocabSize", 1);
    c.hidden = int_field(o, "hiddenSize", 1);
    c.inter = int_field(o, "intermediateSize", 1);
    c.layers = int_field(o, "numLayers", 1);
    c.heads = int_field(o, "numHeads", 1);
    c.kv_heads = int_field(o, "numKvHeads", 1);
    c.head_dim = int_field(o, "headDim", 2);
    double eps = number_arg(o, "rmsNormEps", -1);
    if (!(eps > 0)) fail(Code::Value, "rmsNormEps", "must be > 0");
    c.rms_eps = static_cast<float>(eps);
    c.qkv_bias = bool_field(o, "attentionBias");
    c.qk_norm = has(o, "qkNorm") ? bool_field(o, "qkNorm") : false;
    c.tied = bool_field(o, "tieWordEmbeddings");
    c.value_head = has(o, "valueHead") ? bool_field(o, "valueHead") : false;
    std::string backend = "cpu";
    if (has(o, "backend")) {
      if (!o.Get("backend").IsString()) fail(Code::Value, "backend", "expected \"cpu\", \"ops-cpu\" or \"cuda\"");
      backend = o.Get("backend").As<Napi::String>().Utf8Value();
      if (backend != "cpu" && backend != "ops-cpu" && backend != "cuda")
        fail(Code::Value, "backend", "expected \"cpu\", \"ops-cpu\" or \"cuda\", got \"" + backend + "\"");
    }
    int device = 0;
    if (has(o, "device")) {
      if (backend != "cuda") fail(Code::Value, "device", "only backend \"cuda\" takes a device (backend is \"" + backend + "\")");
      const int64_t d = int_field(o, "device", 0);
      if (d > (int64_t{1} << 20)) fail(Code::Device, "device", "CUDA device " + std::to_string(d) + " is not available");
      device = static_cast<int>(d);
    }
    const bool bf16 = has(o, "bf16Gemm") ? bool_field(o, "bf16Gemm") : false;
    if (bf16 && backend == "cpu")
      fail(Code::Value, "bf16Gemm", "bf16 GEMMs run on backend \"ops-cpu\" (their reference math) or \"cuda\"");
    Napi::Value f = o.Get("invFreq");
    if (!f.IsTypedArray()) fail(Code::Value, "invFreq", "expected a Float32Array or Float64Array");
    Napi::TypedArray ta = f.As<Napi::TypedArray>();
    if (ta.TypedArrayType() == napi_float32_array) {
      Napi::Float32Array a = f.As<Napi::Float32Array>();
      c.inv_freq.assign(a.Data(), a.Data() + a.ElementLength());
    } else if (ta.TypedArrayType() == napi_float64_array) {
      Napi::Float64Array a = f.As<Napi::Float64Array>();
      for (size_t i = 0; i < a.ElementLength(); ++i) c.inv_freq.push_back(static_cast<float>(a[i]));
    } else {
      fail(Code::DType, "invFreq", "expected a Float32Array or Float64Array");
    }
    check(engine::validate_config(c));
    // activationBudgetBytes: memory a training pass may spend keeping every layer's activations
    // for the backward (beyond it: per-layer recompute, the same gradients bit for bit).
    const double budget = number_arg(o, "activationBudgetBytes", -1);
    if (has(o, "activationBudgetBytes") && budget < 0) fail(Code::Value, "activationBudgetBytes", "must be >= 0");
    check(EngineImpl::create(backend, device, std::move(c), bf16, &model_));
    model_->set_act_budget_bytes(budget);
  } catch (const ArgError& e) {
    throw to_js_error(info.Env(), e);
  } catch (const std::bad_alloc&) {
    throw to_js_error(info.Env(), {Code::Memory, "", "out of host memory allocating the model"});
  }
}

EngineImpl& EngineWrap::model() {
  if (!model_) fail(Code::Internal, "", "engine is not initialized");
  if (busy_) fail(Code::Value, "engine", "busy: a call on this engine is in flight (await its promise first)");
  return *model_;
}

const EngineImpl& EngineWrap::shape() {
  if (!model_) fail(Code::Internal, "", "engine is not initialized");
  return *model_;
}

std::unique_ptr<EngineCall> EngineWrap::begin_call(const Napi::CallbackInfo& info) {
  return std::make_unique<EngineCall>(info.Env(), info.This().As<Napi::Object>(), &busy_);
}

Napi::Value EngineWrap::ParamInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const auto& ps = shape().params();
    Napi::Array out = Napi::Array::New(env, ps.size());
    for (size_t i = 0; i < ps.size(); ++i) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("name", ps[i].name);
      Napi::Array sh = Napi::Array::New(env, ps[i].shape.size());
      for (size_t j = 0; j < ps[i].shape.size(); ++j) sh.Set(static_cast<uint32_t>(j), static_cast<double>(ps[i].shape[j]));
      e.Set("shape", sh);
      out.Set(static_cast<uint32_t>(i), e);
    }
    return out;
  });
}

static int param_index(const EngineImpl& m, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) fail(Code::Value, "name", "expected a parameter name");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int i = m.find_param(name);
  if (i < 0) fail(Code::Value, "name", "no parameter named \"" + name + "\"");
  return i;
}

// setParam(name, Float32Array)
Napi::Value EngineWrap::SetParam(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    int i = param_index(m, info);
    if (info.Length() < 2 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      fail(Code::DType, "data", "expected a Float32Array");
    Napi::Float32Array a = info[1].As<Napi::Float32Array>();
    const auto& p = m.params()[i];
    if (static_cast<int64_t>(a.ElementLength()) != p.numel)
      fail(Code::Shape, "data", "\"" + p.name + "\" has " + std::to_string(p.numel) + " elements, got " +
                                    std::to_string(a.ElementLength()));
    const float* src = a.Data();
    for (int64_t k = 0; k < p.numel; ++k)
      if (!std::isfinite(src[k]))
        fail(Code::Value, "data", "\"" + p.name + "\" has a non-finite value at index " + std::to_string(k));
    check(m.set_param(i, src));
    return info.Env().Undefined();
  });
}

// A copy of parameter `name`'s slice of a flat per-parameter buffer (weights or gradients).
template <typename Get>
static Napi::Value copy_param_slice(EngineImpl& m, const Napi::CallbackInfo& info, Get get) {
  int i = param_index(m, info);
  const auto& p = m.params()[i];
  Napi::Float32Array out = new_f32(info.Env(), p.numel);
  check(get(i, out.Data()));
  return out;
}

Napi::Value EngineWrap::GetParam(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    return copy_param_slice(m, info, [&](int i, float* out) { return m.get_param(i, out); });
  });
}

Napi::Value EngineWrap::GetGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    return copy_param_slice(m, info, [&](int i, float* out) { return m.get_grad(i, out); });
  });
}

// getAdamState(name) -> { step, m: Float32Array, v: Float32Array }
Napi::Value EngineWrap::GetAdamState(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    int i = param_index(m, info);
    const auto& p = m.params()[i];
    Napi::Float32Array mo = new_f32(info.Env(), p.numel), vo = new_f32(info.Env(), p.numel);
    int64_t step = 0;
    check(m.get_adam(i, mo.Data(), vo.Data(), &step));
    Napi::Object r = Napi::Object::New(info.Env());
    r.Set("step", static_cast<double>(step));
    r.Set("m", mo);
    r.Set("v", vo);
    return r;
  });
}

// setAdamState(name, step, m: Float32Array, v: Float32Array)
Napi::Value EngineWrap::SetAdamState(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    int i = param_index(m, info);
    const auto& p = m.params()[i];
    if (info.Length() < 4 || !info[1].IsNumber()) fail(Code::Value, "step", "expected (name, step, m, v)");
    const double step = info[1].As<Napi::Number>().DoubleValue();
    if (!(step >= 0) || step != static_cast<int64_t>(step)) fail(Code::Value, "step", "must be a non-negative integer");
    const float* mv[2];
    const char* names[2] = {"m", "v"};
    for (int k = 0; k < 2; ++k) {
      if (!info[2 + k].IsTypedArray() || info[2 + k].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        fail(Code::DType, names[k], "expected a Float32Array");
      Napi::Float32Array a = info[2 + k].As<Napi::Float32Array>();
      if (static_cast<int64_t>(a.ElementLength()) != p.numel)
        fail(Code::Shape, names[k], "\"" + p.name + "\" has " + std::to_string(p.numel) + " elements, got " + std::to_string(a.ElementLength()));
      for (int64_t j = 0; j < p.numel; ++j)
        if (!std::isfinite(a.Data()[j]) || (k == 1 && a.Data()[j] < 0.f))
          fail(Code::Value, names[k], "\"" + p.name + "\" has an invalid value at index " + std::to_string(j) + (k == 1 ? " (second moments are finite and >= 0)" : " (must be finite)"));
      mv[k] = a.Data();
    }
    check(m.set_adam(static_cast<int64_t>(step), i, mv[0], mv[1]));
    return info.Env().Undefined();
  });
}

Napi::Value EngineWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    check(model().zero_grad());
    return info.Env().Undefined();
  });
}

Napi::Value EngineWrap::GradNorm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    double norm = 0;
    check(model().grad_norm(&norm));
    return Napi::Number::New(info.Env(), norm);
  });
}

Napi::Value EngineWrap::NumParameters(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(shape().num_parameters()));
  });
}

// score({ inputIds, attentionMask, targets, scoreMask?, temperature }) -> Promise<{ logp, entropy }>
Napi::Value EngineWrap::Score(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    TensorArg ids, mask;
    engine::Batch b = batch_args(o, m, ids, mask);
    TensorArg tg = targets_arg(o, ids, m.config().vocab);
    TensorArg sm = score_mask_arg(o, ids, mask);
    float temp = static_cast<float>(temperature_arg(o));
    const int64_t n = b.b * b.t;
    auto c = begin_call(info);
    const engine::Batch x = c->keep(b);
    const int32_t* targets = c->keep(static_cast<const int32_t*>(tg.data), n);
    const float* rows = c->keep(static_cast<const float*>(sm.data), n);
    float* lp = c->output(n);
    float* en = c->output(n);
    return EngineCall::start(std::move(c), [pm = &m, x, targets, rows, temp, lp, en] { return pm->score(x, targets, rows, temp, lp, en); },
                             logp_entropy);
  });
}

// scorePrefixed({ prefixIds, prefixMask, inputIds, attentionMask, group, targets, scoreMask?, temperature })
//   -> Promise<{ logp, entropy }> over inputIds' [r, e] rows; row i continues prefix group[i].
Napi::Value EngineWrap::ScorePrefixed(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    const int64_t vocab = m.config().vocab;
    TensorArg pids = cpu_tensor(o, "prefixIds");
    expect_dtype(pids, DType::I32);
    if (pids.shape.size() != 2 || pids.shape[0] < 1 || pids.shape[1] < 1)
      fail(Code::Shape, "prefixIds", "expected shape [g, p] with g, p >= 1, got " + pids.shape_str());
    check_token_ids(pids, vocab);
    TensorArg pmask = cpu_tensor(o, "prefixMask");
    expect_dtype(pmask, DType::F32);
    expect_shape(pmask, pids.shape);
    check_mask(pmask);
    TensorArg ids, mask;
    engine::Batch ext = batch_args(o, vocab, ids, mask, "packed sequences are not supported by scorePrefixed");
    TensorArg grp = cpu_tensor(o, "group");
    expect_dtype(grp, DType::I32);
    expect_shape(grp, {ext.b});
    const int32_t* g = static_cast<const int32_t*>(grp.data);
    for (int64_t i = 0; i < ext.b; ++i)
      if (g[i] < 0 || g[i] >= pids.shape[0])
        fail(Code::Range, "group", "group[" + std::to_string(i) + "] = " + std::to_string(g[i]) + " is not a prefix row in [0, " +
                                       std::to_string(pids.shape[0]) + ")");
    TensorArg tg = targets_arg(o, ids, vocab);
    TensorArg sm = score_mask_arg(o, ids, mask);
    float temp = static_cast<float>(temperature_arg(o));
    engine::Batch pre;
    pre.b = pids.shape[0];
    pre.t = pids.shape[1];
    pre.ids = static_cast<const int32_t*>(pids.data);
    pre.mask = static_cast<const float*>(pmask.data);
    const int64_t n = ext.b * ext.t;
    auto c = begin_call(info);
    const engine::Batch kpre = c->keep(pre), kext = c->keep(ext);
    const int32_t* group = c->keep(g, ext.b);
    const int32_t* targets = c->keep(static_cast<const int32_t*>(tg.data), n);
    const float* rows = c->keep(static_cast<const float*>(sm.data), n);
    float* lp = c->output(n);
    float* en = c->output(n);
    return EngineCall::start(
        std::move(c),
        [pm = &m, kpre, kext, group, targets, rows, temp, lp, en] {
          return pm->score_prefixed(kpre, kext, group, targets, rows, temp, lp, en);
        },
        logp_entropy);
  });
}

// logits({ inputIds, attentionMask }) -> Promise<Float32Array [b*t*v]>; tests only, capped at 2^24 values.
Napi::Value EngineWrap::Logits(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    TensorArg ids, mask;
    engine::Batch b = batch_args(o, m, ids, mask);
    const int64_t total = b.b * b.t * m.config().vocab;
    if (total > kMaxDebugLogits)
      fail(Code::Shape, "inputIds", "full logits are for tests only; b*t*vocab = " + std::to_string(total) +
                                        " exceeds " + std::to_string(kMaxDebugLogits));
    auto c = begin_call(info);
    const engine::Batch x = c->keep(b);
    float* out = c->output(total);
    return EngineCall::start(std::move(c), [pm = &m, x, out] { return pm->logits(x, out); }, first_output);
  });
}

// forwardBackward({ inputIds, attentionMask, targets, weights, oldLogp?, refLogp?, advantages?,
//   temperature, pgCoef, klCoef, entropyCoeff, clipLow, clipHigh, dualClip, klType })
//   -> Promise<{ total, pgLoss, klLoss, entropy, clipFrac, dualClipFrac, ppoKl, weightSum, tokenLogp, tokenEntropy }>
Napi::Value EngineWrap::ForwardBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    TensorArg ids, mask;
    engine::Batch b = batch_args(o, m, ids, mask);
    TensorArg tg = targets_arg(o, ids, m.config().vocab);
    engine::LossOptions lo;
    lo.temperature = static_cast<float>(temperature_arg(o));
    double pg = number_arg(o, "pgCoef", 1.0), klc = number_arg(o, "klCoef", 0.0), ent = number_arg(o, "entropyCoeff", 0.0);
    double clo = number_arg(o, "clipLow", 0.2), chi = number_arg(o, "clipHigh", 0.2), dual = number_arg(o, "dualClip", 0);
    check_clip(clo, chi, dual);
    lo.pg_coef = static_cast<float>(pg); lo.kl_coef = static_cast<float>(klc); lo.entropy_coeff = static_cast<float>(ent);
    lo.clip_low = static_cast<float>(clo); lo.clip_high = static_cast<float>(chi); lo.dual_clip = static_cast<float>(dual);
    lo.kl_type = parse_kl(string_arg(o, "klType", "low_var_kl"));
    TensorArg w = row_values(o, "weights", ids, mask, false, true);
    TensorArg old = row_values(o, "oldLogp", ids, mask, true, false);
    TensorArg adv = row_values(o, "advantages", ids, mask, true, false);
    TensorArg ref = row_values(o, "refLogp", ids, mask, true, false);
    if (pg != 0 && !old.present) fail(Code::Value, "oldLogp", "is required when pgCoef != 0");
    if (pg != 0 && !adv.present) fail(Code::Value, "advantages", "is required when pgCoef != 0");
    if (klc != 0 && !ref.present) fail(Code::Value, "refLogp", "is required when klCoef != 0");
    const int64_t n = b.b * b.t;
    auto c = begin_call(info);
    const engine::Batch x = c->keep(b);
    const int32_t* targets = c->keep(static_cast<const int32_t*>(tg.data), n);
    const float* old_lp = c->keep(static_cast<const float*>(old.data), n);
    const float* ref_lp = c->keep(static_cast<const float*>(ref.data), n);
    const float* advs = c->keep(static_cast<const float*>(adv.data), n);
    const float* weights = c->keep(static_cast<const float*>(w.data), n);
    float* lp = c->output(n);
    float* en = c->output(n);
    auto st = std::make_shared<kernels::PolicyLossStats>();
    return EngineCall::start(
        std::move(c),
        [pm = &m, x, targets, old_lp, ref_lp, advs, weights, lo, lp, en, st] {
          return pm->forward_backward(x, targets, old_lp, ref_lp, advs, weights, lo, lp, en, st.get());
        },
        [st](Napi::Env env, EngineCall& call) -> Napi::Value {
          Napi::Object r = stats_to_js(env, *st);
          r.Set("tokenLogp", call.output_array(0));
          r.Set("tokenEntropy", call.output_array(1));
          return r;
        });
  });
}

// values({ inputIds, attentionMask, scoreMask? }) -> Promise<Float32Array [b*t]> (critic engines only)
Napi::Value EngineWrap::Values(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    TensorArg ids, mask;
    engine::Batch b = batch_args(o, m, ids, mask);
    TensorArg sm = score_mask_arg(o, ids, mask);
    auto c = begin_call(info);
    const engine::Batch x = c->keep(b);
    const float* rows = c->keep(static_cast<const float*>(sm.data), b.b * b.t);
    float* out = c->output(b.b * b.t);
    return EngineCall::start(std::move(c), [pm = &m, x, rows, out] { return pm->values(x, rows, out); }, first_output);
  });
}

// valueForwardBackward({ inputIds, attentionMask, weights, oldValues, returns, clip })
//   -> Promise<{ loss, clipFrac, weightSum, values }>   (critic engines only; gradients accumulate)
Napi::Value EngineWrap::ValueForwardBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    TensorArg ids, mask;
    engine::Batch b = batch_args(o, m, ids, mask);
    TensorArg w = row_values(o, "weights", ids, mask, false, true);
    TensorArg old = row_values(o, "oldValues", ids, mask, false, false);
    TensorArg ret = row_values(o, "returns", ids, mask, false, false);
    const double clip = number_arg(o, "clip", 0.5);
    if (!(clip > 0) || !std::isfinite(clip)) fail(Code::Value, "clip", "must be a finite number > 0, got " + std::to_string(clip));
    const int64_t n = b.b * b.t;
    auto c = begin_call(info);
    const engine::Batch x = c->keep(b);
    const float* old_v = c->keep(static_cast<const float*>(old.data), n);
    const float* returns = c->keep(static_cast<const float*>(ret.data), n);
    const float* weights = c->keep(static_cast<const float*>(w.data), n);
    const float clip_f = static_cast<float>(clip);
    float* vals = c->output(n);
    auto st = std::make_shared<kernels::ValueLossStats>();
    return EngineCall::start(
        std::move(c),
        [pm = &m, x, old_v, returns, weights, clip_f, vals, st] {
          return pm->value_forward_backward(x, old_v, returns, weights, clip_f, vals, st.get());
        },
        [st](Napi::Env env, EngineCall& call) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("loss", st->total);
          r.Set("clipFrac", st->clipfrac);
          r.Set("weightSum", st->weight_sum);
          r.Set("values", call.output_array(0));
          return r;
        });
  });
}

// optimizerStep({ lr, beta1, beta2, eps, weightDecay, maxGradNorm }) -> Promise<{ gradNorm, skipped, step }>
Napi::Value EngineWrap::OptimizerStep(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    engine::AdamWOptions a;
    double lr = number_arg(o, "lr", -1), b1 = number_arg(o, "beta1", 0.9), b2 = number_arg(o, "beta2", 0.999),
           eps = number_arg(o, "eps", 1e-8), wd = number_arg(o, "weightDecay", 0.01),
           mg = number_arg(o, "maxGradNorm", 1.0);
    if (!(lr >= 0)) fail(Code::Value, "lr", "is required and must be >= 0");
    if (!(b1 >= 0 && b1 < 1)) fail(Code::Value, "beta1", "must be in [0, 1), got " + std::to_string(b1));
    if (!(b2 >= 0 && b2 < 1)) fail(Code::Value, "beta2", "must be in [0, 1), got " + std::to_string(b2));
    if (!(eps > 0)) fail(Code::Value, "eps", "must be > 0, got " + std::to_string(eps));
    if (!(wd >= 0)) fail(Code::Value, "weightDecay", "must be >= 0, got " + std::to_string(wd));
    a.lr = static_cast<float>(lr); a.beta1 = static_cast<float>(b1); a.beta2 = static_cast<float>(b2);
    a.eps = static_cast<float>(eps); a.weight_decay = static_cast<float>(wd); a.max_grad_norm = static_cast<float>(mg);
    auto s = std::make_shared<engine::StepResult>();
    return EngineCall::start(
        begin_call(info), [pm = &m, a, s] { return pm->optimizer_step(a, s.get()); },
        [s](Napi::Env env, EngineCall&) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("gradNorm", s->grad_norm);
          r.Set("skipped", s->skipped);
          r.Set("step", static_cast<double>(s->step));
          return r;
        });
  });
}

// prefill({ inputIds, attentionMask, capacity }) -> Promise<Float32Array [b * v]>
Napi::Value EngineWrap::Prefill(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    TensorArg ids, mask;
    engine::Batch b = batch_args(o, m.config().vocab, ids, mask, kNoPackingInDecode);
    int64_t cap = int_field(o, "capacity", 1);
    if (cap < b.t) fail(Code::Range, "capacity", "must be >= the prompt length " + std::to_string(b.t));
    if (static_cast<double>(cap) * b.b * m.config().kv_heads * m.config().head_dim * m.config().layers * 8 > 6.4e10)
      fail(Code::Range, "capacity", "the KV cache would exceed 64 GB");
    auto c = begin_call(info);
    const engine::Batch x = c->keep(b);
    float* out = c->output(b.b * m.config().vocab);
    return EngineCall::start(std::move(c), [pm = &m, x, cap, out] { return pm->prefill(x, cap, out); }, first_output);
  });
}

// step({ tokens }) -> Promise<Float32Array [b * v]>
Napi::Value EngineWrap::Step(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    Napi::Object o = options(info);
    if (m.cache_rows() == 0) fail(Code::Value, "tokens", "no active decode: call prefill first");
    TensorArg tk = cpu_tensor(o, "tokens");
    expect_dtype(tk, DType::I32);
    expect_shape(tk, {m.cache_rows()});
    check_token_ids(tk, m.config().vocab);
    auto c = begin_call(info);
    const int32_t* tokens = c->keep(static_cast<const int32_t*>(tk.data), m.cache_rows());
    float* out = c->output(m.cache_rows() * m.config().vocab);
    return EngineCall::start(std::move(c), [pm = &m, tokens, out] { return pm->step(tokens, out); }, first_output);
  });
}

// setLmChunkRows(n): rows per LM-head chunk, 0 = automatic (tests use small values).
Napi::Value EngineWrap::SetLmChunkRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    if (info.Length() < 1 || !info[0].IsNumber()) fail(Code::Value, "rows", "expected a non-negative integer");
    double r = info[0].As<Napi::Number>().DoubleValue();
    if (!(r >= 0) || r != std::floor(r) || r > 1e9) fail(Code::Value, "rows", "expected a non-negative integer");
    m.set_lm_chunk_rows(static_cast<int64_t>(r));
    return info.Env().Undefined();
  });
}

// keptActivations() -> whether the last training pass kept every layer's activations (within
// activationBudgetBytes) rather than recomputing them per layer; false before any.
Napi::Value EngineWrap::KeptActivations(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), model().last_kept_activations()); });
}

Napi::Value EngineWrap::ResetCache(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    check(model().reset_cache());
    return info.Env().Undefined();
  });
}

// releaseWorkspace(): frees the memory kept between calls (not the KV cache, not the weights).
Napi::Value EngineWrap::ReleaseWorkspace(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    check(model().release_workspace());
    return info.Env().Undefined();
  });
}

// backend() -> "cpu" | "ops-cpu" | "cuda"
Napi::Value EngineWrap::Backend(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), shape().backend()); });
}

}  // namespace rlvr::binding
