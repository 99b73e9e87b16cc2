// Used when rlvr is built without nvcc: every CUDA entry point (the kernels of
// kernels.h, the engine ops of native/src/ops/ops.h) reports Code::Device, and the
// runtime reports no devices. OpsModel's CUDA backend (ops/cuda/backend.cpp) is
// compiled in every build over these, so a "cuda" engine fails with Code::Device.
#include "ops/cuda/cublas_gemm.h"
#include "ops/ops.h"
#include "kernels/kernels.h"

namespace rlvr {
namespace {
Status no_cuda() {
  return Status::Error(Code::Device, "device",
                       "rlvr was built without CUDA (nvcc was not found at build time); rebuild with the CUDA "
                       "toolkit installed to use device tensors");
}
}  // namespace

namespace kernels {
Status logprob_fwd_cuda(const LogprobFwdArgs&) { return no_cuda(); }
Status logprob_bwd_cuda(const LogprobBwdArgs&) { return no_cuda(); }
Status grpo_advantage_cuda(const GrpoAdvantageArgs&) { return no_cuda(); }
Status ppo_clip_cuda(const PpoClipArgs&) { return no_cuda(); }
Status kl_penalty_cuda(const KlArgs&) { return no_cuda(); }
Status agg_weights_cuda(const AggWeightsArgs&) { return no_cuda(); }
Status gae_cuda(const GaeArgs&) { return no_cuda(); }
Status policy_loss_cuda(const PolicyLossArgs&) { return no_cuda(); }
Status sample_cuda(const SampleArgs&) { return no_cuda(); }
Status value_loss_cuda(const ValueLossArgs&) { return no_cuda(); }
}  // namespace kernels

namespace engine::ops {
Status gemm_cuda(const GemmArgs&) { return no_cuda(); }
std::string bf16_gemm_impl() { return "none (built without CUDA)"; }
void set_cublas_enabled(bool) {}
Status cast_bf16_cuda(const float*, void*, int64_t) { return no_cuda(); }
Status bias_bwd_cuda(const float*, float*, int64_t, int64_t) { return no_cuda(); }
Status rmsnorm_fwd_cuda(const RmsNormFwdArgs&) { return no_cuda(); }
Status rmsnorm_bwd_cuda(const RmsNormBwdArgs&) { return no_cuda(); }
Status positions_cuda(const float*, int64_t, int64_t, int32_t*) { return no_cuda(); }
Status rope_table_cuda(const int32_t*, int64_t, const float*, int64_t, float*) { return no_cuda(); }
Status rope_apply_cuda(float*, int64_t, int64_t, int64_t, const float*, bool) { return no_cuda(); }
Status rope_apply_bf16_cuda(float*, int64_t, int64_t, int64_t, const float*, bool, void*) { return no_cuda(); }
Status attention_fwd_cuda(const AttnFwdArgs&) { return no_cuda(); }
Status attention_bwd_cuda(const AttnBwdArgs&) { return no_cuda(); }
Status kv_append_cuda(const float*, const float*, int64_t, int64_t, const int64_t*, float*, float*) { return no_cuda(); }
Status swiglu_fwd_cuda(const float*, const float*, float*, int64_t) { return no_cuda(); }
Status swiglu_bwd_cuda(const float*, const float*, const float*, float*, float*, int64_t) { return no_cuda(); }
Status swiglu_fwd_bf16_cuda(const void*, const void*, void*, int64_t) { return no_cuda(); }
Status swiglu_bwd_bf16_cuda(const void*, const void*, const void*, void*, void*, int64_t) { return no_cuda(); }
Status embed_fwd_cuda(const float*, const int32_t*, int64_t, int64_t, float*) { return no_cuda(); }
Status embed_bwd_cuda(const int32_t*, const float*, int64_t, int64_t, float*) { return no_cuda(); }
Status grad_norm_cuda(const float*, int64_t, double* norm) {
  if (norm) *norm = 0;
  return no_cuda();
}
Status adamw_cuda(const AdamWArgs&) { return no_cuda(); }
}  // namespace engine::ops

namespace cuda {
bool compiled() { return false; }
int device_count() { return 0; }
Status device_info(int, DeviceInfo*) { return no_cuda(); }
Status set_device(int) { return no_cuda(); }
Status malloc_device(int, int64_t, void** out) {
  if (out) *out = nullptr;
  return no_cuda();
}
Status free_device(void* p) { return p ? no_cuda() : Status::Ok(); }
Status memory_stats(int, MemoryStats*) { return no_cuda(); }
Status reset_memory_peak(int) { return no_cuda(); }
Status copy_h2d(void*, const void*, int64_t) { return no_cuda(); }
Status copy_d2h(void*, const void*, int64_t) { return no_cuda(); }
Status copy_d2d(void*, const void*, int64_t) { return no_cuda(); }
Status memset_device(void*, int, int64_t) { return no_cuda(); }
Status synchronize() { return no_cuda(); }
std::string runtime_version() { return ""; }
}  // namespace cuda

}  // namespace rlvr
