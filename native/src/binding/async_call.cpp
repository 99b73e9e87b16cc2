#include "binding/async_call.h"

#include <exception>
#include <new>
#include <utility>

namespace rlvr::binding {

EngineCall::EngineCall(Napi::Env env, Napi::Object engine, bool* busy)
    : Napi::AsyncWorker(env, "rlvr:engine"), deferred_(Napi::Promise::Deferred::New(env)),
      engine_(Napi::Persistent(engine)), busy_(busy) {}

engine::Batch EngineCall::keep(const engine::Batch& b) {
  engine::Batch k = b;
  const int64_t n = b.b * b.t;
  k.ids = keep(b.ids, n);
  k.mask = keep(b.mask, n);
  k.seg = keep(b.seg, n);
  return k;
}

float* EngineCall::output(int64_t n, size_t* index) {
  Napi::Float32Array a = Napi::Float32Array::New(Env(), static_cast<size_t>(n));
  if (index) *index = outputs_.size();
  outputs_.push_back(Napi::Persistent(a));
  return a.Data();
}

Napi::Float32Array EngineCall::output_array(size_t index) const { return outputs_.at(index).Value(); }

Napi::Promise EngineCall::start(std::unique_ptr<EngineCall> call, Work work, Result result) {
  call->work_ = std::move(work);
  call->result_ = std::move(result);
  *call->busy_ = true;
  Napi::Promise promise = call->deferred_.Promise();
  call.release()->Queue();  // AsyncWorker deletes itself after OnOK / OnError
  return promise;
}

// On the libuv thread: no Node-API here, only the engine and the call's own buffers.
void EngineCall::Execute() {
  try {
    Status s = work_();
    if (!s.ok()) error_ = ArgError{s.code, s.argument, s.message};
  } catch (const ArgError& e) {
    error_ = e;
  } catch (const std::bad_alloc&) {
    error_ = ArgError{Code::Memory, "", "out of host memory"};
  } catch (const std::exception& ex) {
    error_ = ArgError{Code::Internal, "", ex.what()};
  } catch (...) {
    error_ = ArgError{Code::Internal, "", "unknown native exception"};
  }
}

void EngineCall::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  *busy_ = false;  // first: a continuation of the promise may call the engine again
  if (error_.code != Code::Ok) {
    deferred_.Reject(to_js_error(env, error_).Value());
    return;
  }
  try {
    deferred_.Resolve(result_(env, *this));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (const ArgError& e) {
    deferred_.Reject(to_js_error(env, e).Value());
  } catch (const std::exception& ex) {
    deferred_.Reject(to_js_error(env, {Code::Internal, "", ex.what()}).Value());
  }
}

// Only reached when Execute itself could not run (Execute never calls SetError).
void EngineCall::OnError(const Napi::Error& e) {
  *busy_ = false;
  deferred_.Reject(to_js_error(Env(), {Code::Internal, "", e.Message()}).Value());
}

}  // namespace rlvr::binding
