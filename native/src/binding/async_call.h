// One long engine call off the JavaScript thread, returning a promise.
//
// The binding method validates and converts its arguments on the JavaScript
// thread (bad arguments throw there, synchronously), then hands the work to an
// EngineCall: the work runs in Napi::AsyncWorker::Execute on a libuv thread and
// the promise settles on the JavaScript thread (OnOK): resolved with the result,
// or rejected with the same typed error (to_js_error) a failed Status gives today.
//
// What the worker thread touches is never a JavaScript object:
//  - inputs are copied (keep): they are per-token arrays, cheap next to the model
//    work, and JavaScript stays free to change or drop its arrays meanwhile;
//  - outputs are Float32Arrays created on the JavaScript thread before the work
//    starts (output) and held by references; JavaScript cannot see them until the
//    promise resolves, so the worker writes their memory with no copy;
//  - the engine's JavaScript object is referenced until the promise settles (the
//    garbage collector cannot free the model under the worker), and it is marked
//    busy meanwhile: every other engine method refuses to run (engine_binding.cpp).
#pragma once
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "binding/errors.h"
#include "model/config.h"

namespace rlvr::binding {

class EngineCall : public Napi::AsyncWorker {
 public:
  using Work = std::function<Status()>;
  // Builds the promise's value on the JavaScript thread once the work succeeded.
  using Result = std::function<Napi::Value(Napi::Env, EngineCall&)>;

  // `engine`: the JavaScript object of the engine the work runs on; `*busy` is true
  // from start() until the promise settles.
  EngineCall(Napi::Env env, Napi::Object engine, bool* busy);

  // A copy of n elements owned by the call (null stays null).
  template <typename T>
  const T* keep(const T* data, int64_t n) {
    if (data == nullptr) return nullptr;
    inputs_.emplace_back(static_cast<size_t>(n) * sizeof(T));
    if (n > 0) std::memcpy(inputs_.back().data(), data, static_cast<size_t>(n) * sizeof(T));
    return reinterpret_cast<const T*>(inputs_.back().data());
  }
  // The batch with its ids, mask and segment ids copied.
  engine::Batch keep(const engine::Batch& b);

  // A Float32Array of n values for the work to fill; its index for result().
  float* output(int64_t n, size_t* index = nullptr);
  Napi::Float32Array output_array(size_t index) const;

  // Queues the work and returns the promise; the call owns itself from here on.
  static Napi::Promise start(std::unique_ptr<EngineCall> call, Work work, Result result);

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference engine_;
  bool* busy_;
  std::vector<std::vector<unsigned char>> inputs_;
  std::vector<Napi::Reference<Napi::Float32Array>> outputs_;
  Work work_;
  Result result_;
  ArgError error_{Code::Ok, "", ""};
};

}  // namespace rlvr::binding
