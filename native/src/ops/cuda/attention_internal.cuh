// What attention.cu (dispatch, fp32 SIMT kernels) and attention_tc.cu (bf16
// tensor-core kernels) share. Not part of the ops interface.
#pragma once
#include <cstdint>

#include "kernels/cuda/common.cuh"
#include "ops/ops.h"

namespace rlvr::engine::ops::attn {

struct Geo {  // derived sizes shared by the kernels
  int64_t qd, kvd, group;
  float scale;
};

// Opts a kernel in to `bytes` of dynamic shared memory when that is over the 48 KB default.
template <class K>
Status set_smem(K kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    RLVR_CUDA_TRY(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  return Status::Ok();
}

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

// cp.async (16 bytes, L2 only): the copy runs while the threads go on; src_bytes
// 0 fills the destination with zeros. Shared by the tensor-core kernels and the
// grouped-query decode kernel.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src), "r"(valid ? 16 : 0));
#else
  __trap();  // the host launches cp.async kernels only on sm_80+ (sm80_or_newer)
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// The current device is sm_80 or newer (cp.async, mma.sync m16n8k16 bf16);
// cached per device.
bool sm80_or_newer();
// True when the bf16 math of ops.h runs on tensor cores here: head_dim <= 128
// and sm80_or_newer().
bool tc_supported(int64_t head_dim);

// The tensor-core kernels (preconditions: tc_supported, a.bf16, b / heads
// within the grid limits checked by the caller). The backward takes
// drow[r, h] = sum_d dout * out, computed by the caller.
Status fwd_tc(const AttnFwdArgs& a, const Geo& g);
Status bwd_tc(const AttnBwdArgs& a, const Geo& g, const float* drow);

}  // namespace rlvr::engine::ops::attn
