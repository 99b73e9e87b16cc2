// The reference ops' Backend (backend.h): host memory and the *_cpu ops (ref_ops.cpp, the RL
// kernels of kernels/cpu): the engine's "ref" backend (JS name "ops-cpu" too), the ground truth
// the CUDA checks measure against.
#include <cstdlib>
#include <cstring>

#include "ops/backend.h"

namespace rlvr::engine {

const Backend& ref_backend() {
  static const Backend b = [] {
    Backend k{};
    k.name = "ref";
    k.alloc = [](int64_t bytes, void** p) -> Status {
      *p = bytes > 0 ? std::malloc(static_cast<size_t>(bytes)) : nullptr;
      if (bytes > 0 && !*p) return Status::Error(Code::Memory, "", "out of host memory");
      return Status::Ok();
    };
    k.release = [](void* p) -> Status { std::free(p); return Status::Ok(); };
    k.upload = [](void* d, const void* s, int64_t n) -> Status { if (n > 0) std::memcpy(d, s, n); return Status::Ok(); };
    k.download = k.upload;
    k.copy = k.upload;
    k.zero = [](void* p, int64_t n) -> Status { if (n > 0) std::memset(p, 0, n); return Status::Ok(); };
    k.sync = []() -> Status { return Status::Ok(); };
    k.gemm = ops::gemm_cpu;
    k.cast_bf16 = ops::cast_bf16_cpu;
    k.bias_bwd = ops::bias_bwd_cpu;
    k.rmsnorm_fwd = ops::rmsnorm_fwd_cpu;
    k.rmsnorm_bwd = ops::rmsnorm_bwd_cpu;
    k.positions = ops::positions_cpu;
    k.rope_table = ops::rope_table_cpu;
    k.rope_apply = ops::rope_apply_cpu;
    k.rope_apply_bf16 = ops::rope_apply_bf16_cpu;
    k.attention_fwd = ops::attention_fwd_cpu;
    k.attention_bwd = ops::attention_bwd_cpu;
    k.kv_append = ops::kv_append_cpu;
    k.swiglu_fwd = ops::swiglu_fwd_cpu;
    k.swiglu_bwd = ops::swiglu_bwd_cpu;
    k.swiglu_fwd_bf16 = ops::swiglu_fwd_bf16_cpu;
    k.swiglu_bwd_bf16 = ops::swiglu_bwd_bf16_cpu;
    k.embed_fwd = ops::embed_fwd_cpu;
    k.embed_bwd = ops::embed_bwd_cpu;
    k.grad_norm = ops::grad_norm_cpu;
    k.adamw = ops::adamw_cpu;
    k.logprob_fwd = kernels::logprob_fwd_cpu;
    k.policy_loss = kernels::policy_loss_cpu;
    k.value_loss = kernels::value_loss_cpu;
    k.lm_chunk_floats = int64_t{1} << 25;  // as the CPU backend: ~128 MB of logits
    k.act_budget_bytes = kDefaultActBudgetBytes;
    return k;
  }();
  return b;
}

}  // namespace rlvr::engine
