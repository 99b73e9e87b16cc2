// GpuBuffer: an opaque handle to device memory owned by JavaScript. Freed by
// free() or, failing that, by the garbage collector's finalizer.
#pragma once
#include <napi.h>

#include <cstdint>

namespace rlvr::binding {

class GpuBuffer : public Napi::ObjectWrap<GpuBuffer> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // The wrapped buffer when v is a GpuBuffer instance, else nullptr.
  static GpuBuffer* Unwrap(Napi::Value v);

  explicit GpuBuffer(const Napi::CallbackInfo& info);
  ~GpuBuffer() override;

  void* ptr() const { return ptr_; }
  int device() const { return device_; }
  int64_t bytes() const { return bytes_; }

 private:
  Napi::Value CopyFromHost(const Napi::CallbackInfo& info);
  Napi::Value CopyToHost(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value GetBytes(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  void release();

  void* ptr_ = nullptr;
  int device_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace rlvr::binding
