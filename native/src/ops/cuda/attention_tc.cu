// bf16 tensor-core attention (attention_tc_kernels.cuh): the production variants, the faster of
// each pair on an H100 (native/dev/README.md): the forward single-buffers the value tile, the dq
// kernel its key / value tiles (three blocks per SM each). The others: native/dev/.
#include "ops/cuda/attention_tc_kernels.cuh"

namespace rlvr::engine::ops::attn {

bool tc_supported(int64_t head_dim) { return head_dim >= 1 && head_dim <= 128 && sm80_or_newer(); }

bool sm80_or_newer() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return false;
  static std::atomic<int> known[64];  // 0 unknown, 1 sm_80+, 2 older
  int k = known[dev].load(std::memory_order_relaxed);
  if (k == 0) {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
    k = major >= 8 ? 1 : 2;
    known[dev].store(k, std::memory_order_relaxed);
  }
  return k == 1;
}

Status fwd_tc(const AttnFwdArgs& a, const Geo& geo) { return fwd_tc_with<true>(a, geo); }

Status bwd_tc(const AttnBwdArgs& a, const Geo& geo, const float* drow) { return bwd_tc_with<true>(a, geo, drow); }

}  // namespace rlvr::engine::ops::attn
