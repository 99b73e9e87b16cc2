// Used when rlvr is built without nvcc: every CUDA entry point reports
// Code::Device, and the runtime reports no devices.
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
Status copy_h2d(void*, const void*, int64_t) { return no_cuda(); }
Status copy_d2h(void*, const void*, int64_t) { return no_cuda(); }
Status copy_d2d(void*, const void*, int64_t) { return no_cuda(); }
Status memset_device(void*, int, int64_t) { return no_cuda(); }
Status synchronize() { return no_cuda(); }
std::string runtime_version() { return ""; }
}  // namespace cuda

}  // namespace rlvr
