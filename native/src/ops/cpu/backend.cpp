// The CPU backend (backend.h): host memory and the fast CPU ops (cpu_ops.h), the engine's
// default "cpu" backend. Ops with nothing faster to offer (positions, RoPE tables, the KV-cache
// append, embedding gathers, the bf16 casts) are the reference ones (ref/ref_ops.cpp): they are
// copies or per-element functions, cheap and bitwise what any implementation gives.
#include "ops/backend.h"
#include "ops/cpu/cpu_ops.h"

namespace rlvr::engine {

const Backend& cpu_backend() {
  static const Backend b = [] {
    Backend k = ref_backend();  // host memory and the ops kept from the reference
    k.name = "cpu";
    k.gemm = cpuops::gemm;
    k.prepared_b_bytes = cpuops::prepared_b_bytes;
    k.prepare_b = cpuops::prepare_b;
    k.bias_bwd = cpuops::bias_bwd;
    k.rmsnorm_fwd = cpuops::rmsnorm_fwd;
    k.rmsnorm_bwd = cpuops::rmsnorm_bwd;
    k.rope_apply = cpuops::rope_apply;
    k.attention_fwd = cpuops::attention_fwd;
    k.attention_bwd = cpuops::attention_bwd;
    k.swiglu_fwd = cpuops::swiglu_fwd;
    k.swiglu_bwd = cpuops::swiglu_bwd;
    k.embed_bwd = cpuops::embed_bwd;
    k.grad_norm = cpuops::grad_norm;
    k.adamw = cpuops::adamw;
    return k;
  }();
  return b;
}

}  // namespace rlvr::engine
