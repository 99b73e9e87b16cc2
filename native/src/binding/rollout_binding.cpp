// engine.rollout(...): the native rollout (EngineImpl::rollout, OpsModel::rollout) as one
// EngineCall. Everything is validated here on the JavaScript thread (typed errors naming the
// field); the rollout runs on the libuv pool; progress reaches JavaScript through a
// thread-safe function (non-blocking, so the decode loop never waits on the event loop);
// cancelRollout() sets a flag the loop checks between decode steps.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "binding/async_call.h"
#include "binding/engine_binding.h"
#include "binding/errors.h"
#include "model/model_errors.h"

namespace rlvr::binding {
namespace {

double num(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) fail(Code::Value, key, "expected a number");
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x)) fail(Code::Value, key, "expected a finite number");
  return x;
}

int64_t integer(const Napi::Object& o, const char* key, int64_t min, int64_t max = int64_t{1} << 40) {
  const double x = num(o, key);
  if (x != std::floor(x) || x < static_cast<double>(min) || x > static_cast<double>(max))
    fail(Code::Value, key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                               std::to_string(x));
  return static_cast<int64_t>(x);
}

Napi::Int32Array i32_array(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    fail(Code::DType, key, "expected an Int32Array");
  return v.As<Napi::Int32Array>();
}

// What the progress thread-safe function carries.
struct Progress {
  int64_t rows_done, tokens;
};

}  // namespace

// rollout({ ids: Int32Array, offsets: Int32Array [count + 1], n, temperature, topP, topK,
//           maxNewTokens, eosIds: Int32Array, ignoreEos, seed, logprobTemperature, slots,
//           maxPositions, onProgress?: (rowsDone, tokens) => void })
//   -> Promise<{ tokens: Int32Array, logprobs: Float32Array, offsets: Float64Array [rows + 1],
//                finish: Uint8Array [rows] (0 eos, 1 length, 2 context) }>
Napi::Value EngineWrap::Rollout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    EngineImpl& m = model();
    if (!m.supports_rollout()) check(engine::no_lm_head());  // a critic: the LM-head paths' typed error
    if (info.Length() < 1 || !info[0].IsObject()) fail(Code::Value, "options", "expected an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Int32Array ids = i32_array(o, "ids"), offs = i32_array(o, "offsets");
    if (offs.ElementLength() < 2) fail(Code::Value, "prompts", "expected at least one prompt");
    const int64_t count = static_cast<int64_t>(offs.ElementLength()) - 1;
    const int32_t* op = offs.Data();
    if (op[0] != 0 || op[count] != static_cast<int64_t>(ids.ElementLength()))
      fail(Code::Value, "offsets", "must start at 0 and end at ids.length");
    for (int64_t i = 0; i < count; ++i)
      if (op[i + 1] < op[i]) fail(Code::Value, "offsets", "must be non-decreasing");
    Napi::Int32Array eos = i32_array(o, "eosIds");
    auto c = begin_call(info);
    auto req = std::make_shared<engine::RolloutRequest>();
    std::vector<int64_t> off64(static_cast<size_t>(count + 1));
    for (int64_t i = 0; i <= count; ++i) off64[i] = op[i];
    req->ids = c->keep(ids.Data(), static_cast<int64_t>(ids.ElementLength()));
    req->offsets = c->keep(off64.data(), count + 1);
    req->count = count;
    req->n = integer(o, "n", 1);
    req->temperature = static_cast<float>(num(o, "temperature"));
    req->top_p = static_cast<float>(num(o, "topP"));
    req->top_k = integer(o, "topK", 0);
    req->max_new_tokens = integer(o, "maxNewTokens", 1);
    req->eos.assign(eos.Data(), eos.Data() + eos.ElementLength());
    Napi::Value ie = o.Get("ignoreEos");
    if (!ie.IsBoolean()) fail(Code::Value, "ignoreEos", "expected a boolean");
    req->ignore_eos = ie.As<Napi::Boolean>().Value();
    if (!o.Get("forcedLengths").IsUndefined()) {
      Napi::Int32Array fl = i32_array(o, "forcedLengths");
      req->forced_lengths.assign(fl.Data(), fl.Data() + fl.ElementLength());
    }
    req->seed = static_cast<uint32_t>(integer(o, "seed", 0, 0xffffffffll));
    req->logprob_temperature = static_cast<float>(num(o, "logprobTemperature"));
    req->slots = integer(o, "slots", 1);
    req->max_positions = integer(o, "maxPositions", 2);
    if (req->count * req->n > (int64_t{1} << 40)) fail(Code::Value, "n", "too many rows");
    {  // the pool's KV cache, as prefill's capacity check: a typed error rather than a failed allocation
      int64_t w = 0;
      for (int64_t i = 0; i < count; ++i) w = std::max(w, std::min<int64_t>(op[i + 1] - op[i] + req->max_new_tokens, req->max_positions));
      const engine::Config& cfg = m.config();
      const double bytes = engine::rollout_cache_bytes(cfg.layers, cfg.kv_heads * cfg.head_dim,
                                                       std::min(req->slots, req->count * req->n), w);
      if (bytes > 6.4e10)
        fail(Code::Range, "slots", "the rollout's KV cache would need " + std::to_string(bytes / 1e9) +
                                       " GB (over 64 GB): use fewer slots or a shorter maxNewTokens");
    }
    // The model checks the rest (prompt lengths, ids, eos ids, ...) before any work: the
    // promise rejects with its typed error.
    rollout_cancel_->store(false);
    req->cancel = rollout_cancel_.get();
    std::shared_ptr<Napi::ThreadSafeFunction> tsfn;
    Napi::Value cb = o.Get("onProgress");
    if (!cb.IsUndefined()) {
      if (!cb.IsFunction()) fail(Code::Value, "onProgress", "expected a function");
      tsfn = std::make_shared<Napi::ThreadSafeFunction>(
          Napi::ThreadSafeFunction::New(info.Env(), cb.As<Napi::Function>(), "rlvr:rollout-progress", 0, 1));
      req->progress = [tsfn](int64_t rows_done, int64_t tokens) {
        auto* p = new Progress{rows_done, tokens};
        napi_status s = tsfn->NonBlockingCall(p, [](Napi::Env env, Napi::Function fn, Progress* d) {
          std::unique_ptr<Progress> own(d);
          if (env == nullptr || fn == nullptr) return;
          try {
            fn.Call({Napi::Number::New(env, static_cast<double>(d->rows_done)),
                     Napi::Number::New(env, static_cast<double>(d->tokens))});
          } catch (const Napi::Error&) {  // a throwing progress callback must not end the process
          }
        });
        if (s != napi_ok) delete p;
      };
    }
    auto res = std::make_shared<engine::RolloutResult>();
    auto cancel_keep = rollout_cancel_;  // the flag outlives the engine object if need be
    return EngineCall::start(
        std::move(c),
        [pm = &m, req, res, tsfn, cancel_keep] {
          // released however the rollout ends (a throw included), or the event loop stays alive;
          // queued progress calls still run, then the function goes
          struct Release {
            Napi::ThreadSafeFunction* f;
            ~Release() {
              if (f) f->Release();
            }
          } release{tsfn.get()};
          return pm->rollout(*req, res.get());
        },
        [res](Napi::Env env, EngineCall&) -> Napi::Value {
          const size_t nt = res->tokens.size(), nr = res->finish.size();
          Napi::Int32Array tk = Napi::Int32Array::New(env, nt);
          Napi::Float32Array lp = Napi::Float32Array::New(env, nt);
          Napi::Float64Array of = Napi::Float64Array::New(env, nr + 1);
          Napi::Uint8Array fi = Napi::Uint8Array::New(env, nr);
          for (size_t i = 0; i < nt; ++i) {
            tk[i] = res->tokens[i];
            lp[i] = res->logprobs[i];
          }
          for (size_t i = 0; i <= nr; ++i) of[i] = static_cast<double>(res->offsets[i]);
          for (size_t i = 0; i < nr; ++i) fi[i] = res->finish[i];
          Napi::Object r = Napi::Object::New(env);
          r.Set("tokens", tk);
          r.Set("logprobs", lp);
          r.Set("offsets", of);
          r.Set("finish", fi);
          return r;
        });
  });
}

// cancelRollout(): the running rollout (if any) stops at its next decode step and rejects.
// Callable while the engine is busy: it only sets a flag.
Napi::Value EngineWrap::CancelRollout(const Napi::CallbackInfo& info) {
  rollout_cancel_->store(true);
  return info.Env().Undefined();
}

// supportsRollout() -> whether rollout() runs on this backend (OpsModel policies).
Napi::Value EngineWrap::SupportsRollout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), shape().supports_rollout()); });
}

// counterUniforms({ seed, streams: Float64Array, steps: Float64Array }) -> Float32Array: the
// rollout's uniforms, for checking them against the sampler's counterUniform (rng.ts).
Napi::Value CounterUniforms(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) fail(Code::Value, "options", "expected an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    const uint32_t seed = static_cast<uint32_t>(integer(o, "seed", 0, 0xffffffffll));
    Napi::Value sv = o.Get("streams"), tv = o.Get("steps");
    if (!sv.IsTypedArray() || sv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      fail(Code::DType, "streams", "expected a Float64Array");
    if (!tv.IsTypedArray() || tv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      fail(Code::DType, "steps", "expected a Float64Array");
    Napi::Float64Array st = sv.As<Napi::Float64Array>(), sp = tv.As<Napi::Float64Array>();
    if (st.ElementLength() != sp.ElementLength()) fail(Code::Shape, "steps", "must have the length of streams");
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), st.ElementLength());
    for (size_t i = 0; i < st.ElementLength(); ++i) {
      const double s = st[i], t = sp[i];
      if (!(s >= 0 && s <= 9007199254740991.0 && s == std::floor(s))) fail(Code::Value, "streams", "expected integers in [0, 2^53)");
      if (!(t >= 0 && t <= 4294967295.0 && t == std::floor(t))) fail(Code::Value, "steps", "expected integers in [0, 2^32)");
      out[i] = engine::counter_uniform(seed, static_cast<uint64_t>(s), static_cast<uint32_t>(t));
    }
    return out;
  });
}

void InitRollout(Napi::Env env, Napi::Object exports) {
  exports.Set("counterUniforms", Napi::Function::New(env, CounterUniforms, "counterUniforms"));
}

}  // namespace rlvr::binding
