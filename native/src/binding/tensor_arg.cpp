#include "binding/tensor_arg.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "binding/errors.h"
#include "binding/gpu_buffer.h"

namespace rlvr::binding {

int64_t TensorArg::numel() const {
  // tensor_arg has checked that the product fits (or that an entry is 0)
  int64_t n = 1;
  for (int64_t d : shape) if (d == 0) return 0;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorArg::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::U8: return "u8";
  }
  return "?";
}

static DType parse_dtype(const std::string& name, const std::string& arg) {
  if (name == "f32") return DType::F32;
  if (name == "f16") return DType::F16;
  if (name == "bf16") return DType::BF16;
  if (name == "i32") return DType::I32;
  if (name == "u8") return DType::U8;
  fail(Code::DType, arg, "unsupported dtype \"" + name + "\" (expected f32, f16, bf16, i32 or u8)");
}

static int parse_device(const std::string& s, const std::string& arg) {
  if (s == "cpu") return -1;
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
    try {
      size_t pos = 0;
      int d = std::stoi(s.substr(5), &pos);
      if (pos == s.size() - 5 && d >= 0) return d;
    } catch (...) {}
  }
  fail(Code::Device, arg, "invalid device \"" + s + "\" (expected \"cpu\" or \"cuda:N\")");
}

TensorArg tensor_arg(const Napi::Object& obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (!v.IsObject()) fail(Code::Shape, key, "expected a tensor, got " + std::string(v.IsUndefined() ? "undefined" : "a non-object"));
  Napi::Object t = v.As<Napi::Object>();
  TensorArg a;
  a.name = key;
  a.present = true;
  Napi::Value dt = t.Get("dtype");
  if (!dt.IsString()) fail(Code::DType, key, "tensor has no dtype string");
  a.dtype = parse_dtype(dt.As<Napi::String>().Utf8Value(), key);
  Napi::Value sh = t.Get("shape");
  if (!sh.IsArray()) fail(Code::Shape, key, "tensor has no shape array");
  Napi::Array arr = sh.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value d = arr.Get(i);
    double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(x >= 0) || x != std::floor(x) || x > 9.0e15) fail(Code::Shape, key, "shape entries must be non-negative integers");
    a.shape.push_back(static_cast<int64_t>(x));
  }
  Napi::Value dev = t.Get("device");
  a.device = parse_device(dev.IsString() ? dev.As<Napi::String>().Utf8Value() : "cpu", key);
  // Checked product: a shape like [2^31, 2^31] would wrap numel * size to a
  // small number (0 for f32) and pass the byte check below against a tiny array.
  // (A zero entry makes the tensor empty whatever the others are.)
  int64_t bytes = dtype_size(a.dtype);
  const bool empty = std::find(a.shape.begin(), a.shape.end(), int64_t{0}) != a.shape.end();
  for (int64_t d : a.shape)
    if (!empty && __builtin_mul_overflow(bytes, d, &bytes))
      fail(Code::Shape, key, "shape " + a.shape_str() + " of " + dtype_name(a.dtype) +
                                 " needs more than 2^63 bytes (element count overflows): check the shape entries");
  if (empty) bytes = 0;
  if (a.device < 0) {
    Napi::Value data = t.Get("data");
    if (!data.IsTypedArray()) fail(Code::Device, key, "a cpu tensor needs a typed array in .data");
    Napi::TypedArray ta = data.As<Napi::TypedArray>();
    const int64_t have = static_cast<int64_t>(ta.ByteLength());
    if (have != bytes)
      fail(Code::Shape, key, "data holds " + std::to_string(have) + " bytes but shape " + a.shape_str() + " of " +
                                 dtype_name(a.dtype) + " needs " + std::to_string(bytes));
    a.data = static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  } else {
    Napi::Value buf = t.Get("buffer");
    GpuBuffer* gb = GpuBuffer::Unwrap(buf);
    if (!gb) fail(Code::Device, key, "a cuda tensor needs a GpuBuffer in .buffer");
    if (gb->ptr() == nullptr) fail(Code::Device, key, "the tensor's GPU buffer was freed");
    if (gb->device() != a.device) fail(Code::Device, key, "buffer lives on cuda:" + std::to_string(gb->device()));
    if (gb->bytes() < bytes) fail(Code::Shape, key, "GPU buffer is smaller than shape " + a.shape_str() + " needs");
    a.data = gb->ptr();
  }
  return a;
}

TensorArg optional_tensor_arg(const Napi::Object& obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    TensorArg a;
    a.name = key;
    return a;
  }
  return tensor_arg(obj, key);
}

void expect_dtype(const TensorArg& t, DType d) {
  if (t.dtype != d)
    fail(Code::DType, t.name, std::string("expected dtype ") + dtype_name(d) + ", got " + dtype_name(t.dtype));
}

void expect_float_dtype(const TensorArg& t) {
  if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
    fail(Code::DType, t.name, std::string("expected a floating dtype (f32, f16 or bf16), got ") + dtype_name(t.dtype));
}

void expect_shape(const TensorArg& t, const std::vector<int64_t>& shape) {
  if (t.shape != shape) {
    TensorArg want;
    want.shape = shape;
    fail(Code::Shape, t.name, "expected shape " + want.shape_str() + ", got " + t.shape_str());
  }
}

void expect_same_device(const TensorArg& a, const TensorArg& b) {
  auto name = [](int d) { return d < 0 ? std::string("cpu") : "cuda:" + std::to_string(d); };
  if (a.device != b.device)
    fail(Code::Device, b.name, "is on " + name(b.device) + " but " + a.name + " is on " + name(a.device));
}

const void* host_view(const TensorArg& t, std::vector<char>& scratch) {
  if (!t.on_cuda()) return t.data;
  const int64_t bytes = t.numel() * dtype_size(t.dtype);
  scratch.resize(static_cast<size_t>(bytes));
  check(cuda::set_device(t.device));
  check(cuda::copy_d2h(scratch.data(), t.data, bytes));
  return scratch.data();
}

void check_finite(const TensorArg& t) {
  expect_dtype(t, DType::F32);
  std::vector<char> scratch;
  const float* p = static_cast<const float*>(host_view(t, scratch));
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (!std::isfinite(p[i])) fail(Code::Value, t.name, "non-finite value " + std::to_string(p[i]) + " at index " + std::to_string(i));
}

void check_mask(const TensorArg& t) {
  expect_dtype(t, DType::F32);
  std::vector<char> scratch;
  const float* p = static_cast<const float*>(host_view(t, scratch));
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (p[i] != 0.f && p[i] != 1.f) fail(Code::Value, t.name, "mask values must be 0 or 1, got " + std::to_string(p[i]) + " at index " + std::to_string(i));
}

void check_token_ids(const TensorArg& t, int64_t v) {
  expect_dtype(t, DType::I32);
  std::vector<char> scratch;
  const int32_t* p = static_cast<const int32_t*>(host_view(t, scratch));
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (p[i] < 0 || p[i] >= v)
      fail(Code::Range, t.name, "token id " + std::to_string(p[i]) + " at index " + std::to_string(i) +
                                    " is outside the vocabulary [0, " + std::to_string(v) + ")");
}

double number_arg(const Napi::Object& obj, const char* key, double fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) fail(Code::Value, key, "expected a number");
  double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x)) fail(Code::Value, key, "expected a finite number, got " + std::to_string(x));
  return x;
}

bool bool_arg(const Napi::Object& obj, const char* key, bool fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) fail(Code::Value, key, "expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string string_arg(const Napi::Object& obj, const char* key, const std::string& fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) fail(Code::Value, key, "expected a string");
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace rlvr::binding
