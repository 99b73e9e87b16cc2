// Conversion of JavaScript tensor descriptors into raw views for the kernels.
// A descriptor is { dtype: "f32"|"f16"|"bf16"|"i32", shape: number[],
// device: "cpu"|"cuda:N", data?: TypedArray (cpu), buffer?: GpuBuffer (cuda) }.
// CPU tensors are zero-copy views of the typed array's memory.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace rlvr::binding {

struct TensorArg {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  int device = -1;  // -1 = cpu, else CUDA ordinal
  void* data = nullptr;  // may be null for an empty tensor: test `present`, not `data`
  bool present = false;  // false for an omitted optional argument
  int64_t numel() const;
  bool on_cuda() const { return device >= 0; }
  std::string shape_str() const;
};

// Reads obj[key] as a tensor; throws ArgError naming `key` when absent or malformed.
TensorArg tensor_arg(const Napi::Object& obj, const char* key);
// Same, but returns an empty TensorArg (data == nullptr) when obj[key] is undefined/null.
TensorArg optional_tensor_arg(const Napi::Object& obj, const char* key);

void expect_dtype(const TensorArg& t, DType d);
void expect_float_dtype(const TensorArg& t);  // f32, f16 or bf16
void expect_shape(const TensorArg& t, const std::vector<int64_t>& shape);
void expect_same_device(const TensorArg& a, const TensorArg& b);

// Host-readable copy of a (small) tensor for validation: the pointer itself on CPU.
const void* host_view(const TensorArg& t, std::vector<char>& scratch);

void check_finite(const TensorArg& t);                 // f32 only: no NaN / inf
void check_mask(const TensorArg& t);                   // f32 values in {0, 1}
void check_token_ids(const TensorArg& t, int64_t v);   // i32 values in [0, v)

double number_arg(const Napi::Object& obj, const char* key, double fallback);
bool bool_arg(const Napi::Object& obj, const char* key, bool fallback);
std::string string_arg(const Napi::Object& obj, const char* key, const std::string& fallback);

}  // namespace rlvr::binding
