// The CUDA Backend (ops/backend.h): device memory through the
// rlvr::cuda runtime services (kernels.h) and the *_cuda ops. Host code, in a
// file of its own so that CPU-only targets (rlvr_ops_model_cpu_check) link
// ops_model.cpp without any CUDA symbol. Everything runs on the legacy default
// stream, so ops and copies are ordered without explicit synchronization.
// The addon compiles this file in every build: without nvcc the ops and the
// runtime services it names are the stubs of native/src/kernels/cuda_stub.cpp,
// so creating an OpsModel on it fails with Code::Device at the first allocation.
#include <utility>

#include "ops/backend.h"

namespace rlvr::engine {
namespace {

// One Backend per device: Backend holds plain function pointers (no context),
// so each device's allocator is its own instantiation.
template <int D>
Status alloc_on(int64_t bytes, void** p) {
  return cuda::malloc_device(D, bytes, p);
}

template <int D>
Backend make_cuda_backend() {
  Backend k{};
  k.name = "cuda";
  k.alloc = alloc_on<D>;
  k.release = cuda::free_device;
  k.upload = cuda::copy_h2d;
  k.download = cuda::copy_d2h;
  k.copy = cuda::copy_d2d;
  k.zero = [](void* p, int64_t bytes) { return cuda::memset_device(p, 0, bytes); };
  k.sync = cuda::synchronize;
  k.gemm = ops::gemm_cuda;
  k.cast_bf16 = ops::cast_bf16_cuda;
  k.bias_bwd = ops::bias_bwd_cuda;
  k.rmsnorm_fwd = ops::rmsnorm_fwd_cuda;
  k.rmsnorm_bwd = ops::rmsnorm_bwd_cuda;
  k.positions = ops::positions_cuda;
  k.rope_table = ops::rope_table_cuda;
  k.rope_apply = ops::rope_apply_cuda;
  k.rope_apply_bf16 = ops::rope_apply_bf16_cuda;
  k.attention_fwd = ops::attention_fwd_cuda;
  k.attention_bwd = ops::attention_bwd_cuda;
  k.kv_append = ops::kv_append_cuda;
  k.swiglu_fwd = ops::swiglu_fwd_cuda;
  k.swiglu_bwd = ops::swiglu_bwd_cuda;
  k.swiglu_fwd_bf16 = ops::swiglu_fwd_bf16_cuda;
  k.swiglu_bwd_bf16 = ops::swiglu_bwd_bf16_cuda;
  k.embed_fwd = ops::embed_fwd_cuda;
  k.embed_bwd = ops::embed_bwd_cuda;
  k.grad_norm = ops::grad_norm_cuda;
  k.adamw = ops::adamw_cuda;
  k.logprob_fwd = kernels::logprob_fwd_cuda;
  k.policy_loss = kernels::policy_loss_cuda;
  k.value_loss = kernels::value_loss_cuda;
  // LM-head chunks of 2^28 logits (1 GiB fp32): large GEMMs, ~1.7K rows at a 152K vocab.
  k.lm_chunk_floats = int64_t{1} << 28;
  // Keep all layers' activations up to 40 GiB (Qwen2.5-1.5B: ~140 KB per token
  // per layer, so 8K tokens keep everything on an 80 GB card); beyond, recompute.
  k.act_budget_bytes = 40.0 * 1024 * 1024 * 1024;
  return k;
}

template <int... D>
const Backend* backend_table(int device, std::integer_sequence<int, D...>) {
  static const Backend table[] = {make_cuda_backend<D>()...};
  return &table[device];
}

}  // namespace

const Backend* cuda_backend_for(int device) {
  if (device < 0 || device >= kMaxCudaBackends) return nullptr;
  return backend_table(device, std::make_integer_sequence<int, kMaxCudaBackends>{});
}

const Backend& cuda_backend() { return *cuda_backend_for(0); }

}  // namespace rlvr::engine
