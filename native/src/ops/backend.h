// The ops' backends as the model sees them: a Backend is the memory and one implementation of
// every op (ops.h) of one device, so the model is written once over it. Backends:
//   cpu_backend():        host memory and the fast CPU ops (cpu/: the engine's "cpu" backend);
//   ref_backend():        host memory and the reference ops (ref/: "ref", JS "ops-cpu" too);
//   cuda_backend_for(d):  CUDA device d (cuda/backend.cpp).
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/kernels.h"
#include "ops/ops.h"

namespace rlvr::engine {

// The most memory a training pass spends, by default on the host backends, on keeping every
// layer's activations for the backward instead of recomputing them per layer (both give bitwise
// the same gradients).
constexpr double kDefaultActBudgetBytes = 1024.0 * 1024 * 1024;

// Memory + ops of one device. Array pointers passed to the ops live in this
// backend's memory; scalar outputs (norms, stats, bad_row) are host pointers.
struct Backend {
  const char* name;
  Status (*alloc)(int64_t bytes, void** p);  // contents undefined
  Status (*release)(void* p);
  Status (*upload)(void* dst, const void* host_src, int64_t bytes);
  Status (*download)(void* host_dst, const void* src, int64_t bytes);
  Status (*copy)(void* dst, const void* src, int64_t bytes);
  Status (*zero)(void* p, int64_t bytes);
  Status (*sync)();
  Status (*gemm)(const ops::GemmArgs&);
  Status (*cast_bf16)(const float*, void*, int64_t);
  Status (*bias_bwd)(const float*, float*, int64_t, int64_t);
  Status (*rmsnorm_fwd)(const ops::RmsNormFwdArgs&);
  Status (*rmsnorm_bwd)(const ops::RmsNormBwdArgs&);
  Status (*positions)(const float*, int64_t, int64_t, int32_t*);
  Status (*rope_table)(const int32_t*, int64_t, const float*, int64_t, float*);
  Status (*rope_apply)(float*, int64_t, int64_t, int64_t, const float*, bool);
  Status (*rope_apply_bf16)(float*, int64_t, int64_t, int64_t, const float*, bool, void*);
  Status (*attention_fwd)(const ops::AttnFwdArgs&);
  Status (*attention_bwd)(const ops::AttnBwdArgs&);
  Status (*kv_append)(const float*, const float*, int64_t, int64_t, const int64_t*, float*, float*);
  Status (*swiglu_fwd)(const float*, const float*, float*, int64_t);
  Status (*swiglu_bwd)(const float*, const float*, const float*, float*, float*, int64_t);
  Status (*swiglu_fwd_bf16)(const void*, const void*, void*, int64_t);
  Status (*swiglu_bwd_bf16)(const void*, const void*, const void*, void*, void*, int64_t);
  Status (*embed_fwd)(const float*, const int32_t*, int64_t, int64_t, float*);
  Status (*embed_bwd)(const int32_t*, const float*, int64_t, int64_t, float*);
  Status (*grad_norm)(const float*, int64_t, double*);
  Status (*adamw)(const ops::AdamWArgs&);
  Status (*logprob_fwd)(const kernels::LogprobFwdArgs&);
  Status (*policy_loss)(const kernels::PolicyLossArgs&);
  Status (*value_loss)(const kernels::ValueLossArgs&);  // the critic's clipped value loss
  // Optional (null: none): the backend's own layout of a weight W [n, k] as the B operand of
  // linear_fwd (x W^T), made once per parameter change and passed as GemmArgs::bp (the CPU
  // backend's packed GEMM panels). prepare_b writes prepared_b_bytes(n, k) bytes at out.
  int64_t (*prepared_b_bytes)(int64_t n, int64_t k);
  Status (*prepare_b)(const float* w, int64_t n, int64_t k, void* out);
  // Defaults: floats of logits per LM-head chunk; bytes of kept activations
  // before forward_backward switches to per-layer recompute.
  int64_t lm_chunk_floats;
  double act_budget_bytes;
};
const Backend& cpu_backend();  // cpu/backend.cpp
const Backend& ref_backend();  // ref/backend.cpp
// native/src/ops/cuda/backend.cpp. cuda_backend_for(d): memory on CUDA device d
// (null outside [0, kMaxCudaBackends)); cuda_backend() is device 0. The ops run
// on the calling thread's current device, so a caller using device d != 0 makes
// it current (cuda::set_device) before each OpsModel call. In a build without
// CUDA the ops and runtime services are stubs (native/src/kernels/cuda_stub.cpp):
// the first allocation fails with Code::Device.
constexpr int kMaxCudaBackends = 16;
const Backend* cuda_backend_for(int device);
const Backend& cuda_backend();

// A block of backend memory, grown on demand (contents are lost when it grows).
class BackendBuf {
 public:
  BackendBuf() = default;
  BackendBuf(const BackendBuf&) = delete;
  BackendBuf& operator=(const BackendBuf&) = delete;
  BackendBuf(BackendBuf&& o) noexcept { *this = std::move(o); }
  BackendBuf& operator=(BackendBuf&& o) noexcept;
  ~BackendBuf() { reset(); }
  Status reserve(const Backend& be, int64_t bytes);
  void reset();
  void* get() const { return p_; }
  int64_t bytes() const { return bytes_; }

 private:
  const Backend* be_ = nullptr;
  void* p_ = nullptr;
  int64_t bytes_ = 0;
};

inline BackendBuf& BackendBuf::operator=(BackendBuf&& o) noexcept {
  if (this != &o) {
    reset();
    be_ = o.be_; p_ = o.p_; bytes_ = o.bytes_;
    o.p_ = nullptr; o.bytes_ = 0;
  }
  return *this;
}

inline Status BackendBuf::reserve(const Backend& be, int64_t bytes) {
  if (p_ && bytes <= bytes_) return Status::Ok();
  reset();
  be_ = &be;
  RLVR_TRY(be.alloc(std::max<int64_t>(bytes, 256), &p_));
  bytes_ = std::max<int64_t>(bytes, 256);
  return Status::Ok();
}

inline void BackendBuf::reset() {
  if (p_) be_->release(p_);
  p_ = nullptr;
  bytes_ = 0;
}

}  // namespace rlvr::engine
