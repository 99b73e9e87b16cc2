#include "binding/gpu_buffer.h"

#include <cmath>

#include "binding/errors.h"
#include "kernels/kernels.h"

namespace rlvr::binding {

namespace {
struct InstanceData {
  Napi::FunctionReference ctor;
};

// (byteOffset, length) of a typed array argument, checked against the buffer.
std::pair<char*, int64_t> host_span(const Napi::CallbackInfo& info, int64_t limit) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) fail(Code::Value, "host", "expected a typed array");
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  int64_t n = static_cast<int64_t>(ta.ByteLength());
  if (n > limit) fail(Code::Shape, "host", "typed array of " + std::to_string(n) + " bytes exceeds the buffer's " + std::to_string(limit));
  return {static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), n};
}
}  // namespace

void GpuBuffer::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function fn = DefineClass(env, "GpuBuffer",
                                  {InstanceMethod("copyFromHost", &GpuBuffer::CopyFromHost),
                                   InstanceMethod("copyToHost", &GpuBuffer::CopyToHost),
                                   InstanceMethod("free", &GpuBuffer::Free),
                                   InstanceAccessor("bytes", &GpuBuffer::GetBytes, nullptr),
                                   InstanceAccessor("device", &GpuBuffer::GetDevice, nullptr)});
  auto* data = new InstanceData{Napi::Persistent(fn)};
  env.SetInstanceData<InstanceData>(data);
  exports.Set("GpuBuffer", fn);
}

GpuBuffer* GpuBuffer::Unwrap(Napi::Value v) {
  if (!v.IsObject()) return nullptr;
  auto* data = v.Env().GetInstanceData<InstanceData>();
  if (!data || !v.As<Napi::Object>().InstanceOf(data->ctor.Value())) return nullptr;
  return Napi::ObjectWrap<GpuBuffer>::Unwrap(v.As<Napi::Object>());
}

// new GpuBuffer(device: number, bytes: number)
GpuBuffer::GpuBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GpuBuffer>(info) {
  try {
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
      fail(Code::Value, "GpuBuffer", "expected (device: number, bytes: number)");
    double dev = info[0].As<Napi::Number>().DoubleValue(), bytes = info[1].As<Napi::Number>().DoubleValue();
    if (!(dev >= 0) || dev != std::floor(dev)) fail(Code::Device, "device", "expected a non-negative integer");
    if (!(bytes >= 0) || bytes != std::floor(bytes) || bytes > 9.0e15) fail(Code::Value, "bytes", "expected a non-negative integer");
    int count = cuda::device_count();
    if (static_cast<int>(dev) >= count)
      fail(Code::Device, "device", "cuda:" + std::to_string(static_cast<int>(dev)) + " is not available (" +
                                       std::to_string(count) + " CUDA device(s) found" +
                                       (cuda::compiled() ? "" : "; rlvr was built without CUDA") + ")");
    device_ = static_cast<int>(dev);
    bytes_ = static_cast<int64_t>(bytes);
    check(cuda::malloc_device(device_, bytes_, &ptr_));
  } catch (const ArgError& e) {
    to_js_error(info.Env(), e).ThrowAsJavaScriptException();
  }
}

GpuBuffer::~GpuBuffer() { release(); }

void GpuBuffer::release() {
  if (ptr_) {
    cuda::set_device(device_);
    cuda::free_device(ptr_);
    ptr_ = nullptr;
  }
}

Napi::Value GpuBuffer::CopyFromHost(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!ptr_) fail(Code::Device, "GpuBuffer", "buffer was freed");
    auto [p, n] = host_span(info, bytes_);
    check(cuda::set_device(device_));
    check(cuda::copy_h2d(ptr_, p, n));
    return info.Env().Undefined();
  });
}

Napi::Value GpuBuffer::CopyToHost(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!ptr_) fail(Code::Device, "GpuBuffer", "buffer was freed");
    auto [p, n] = host_span(info, bytes_);
    check(cuda::set_device(device_));
    check(cuda::copy_d2h(p, ptr_, n));
    return info.Env().Undefined();
  });
}

Napi::Value GpuBuffer::Free(const Napi::CallbackInfo& info) {
  release();
  return info.Env().Undefined();
}

Napi::Value GpuBuffer::GetBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ptr_ ? bytes_ : 0)); }
Napi::Value GpuBuffer::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }

}  // namespace rlvr::binding
