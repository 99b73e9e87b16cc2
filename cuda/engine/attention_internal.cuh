// What attention.cu (dispatch, fp32 SIMT kernels) and attention_tc.cu (bf16
// tensor-core kernels) share. Not part of the ops interface.
#pragma once
#include <cstdint>

#include "cuda/common.cuh"
#include "cuda/engine/ops.h"

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

// True when the bf16 math of ops.h runs on tensor cores here: head_dim <= 128
// and the current device is sm_80 or newer (mma.sync m16n8k16 bf16).
bool tc_supported(int64_t head_dim);

// The tensor-core kernels (preconditions: tc_supported, a.bf16, b / heads
// within the grid limits checked by the caller). The backward takes
// drow[r, h] = sum_d dout * out, computed by the caller.
Status fwd_tc(const AttnFwdArgs& a, const Geo& g);
Status bwd_tc(const AttnBwdArgs& a, const Geo& g, const float* drow);

}  // namespace rlvr::engine::ops::attn
