// The CPU backend's GEMM op (cpu_ops.h): ops::GemmArgs on gemm.h's deterministic sgemm. A
// transposed B is the linear layers' forward (x W^T), which runs on W packed in column panels:
// the caller's prepared panels (GemmArgs::bp, from prepare_b, cached per weight by OpsModel) or,
// without them, panels packed for this call. Either way the same arithmetic (gemm.h).
#include <cstring>
#include <vector>

#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"

namespace rlvr::engine::cpuops {

int64_t prepared_b_bytes(int64_t n, int64_t k) { return packed_panel_floats(n, k) * 4; }

Status prepare_b(const float* w, int64_t n, int64_t k, void* out) {
  if (!w || !out || n < 0 || k < 0) return Status::Error(Code::Value, "prepare_b", "null pointer or negative size");
  pack_weight_panels(w, n, k, static_cast<float*>(out));
  return Status::Ok();
}

Status gemm(const ops::GemmArgs& g) {
  if (g.dtype != DType::F32 || g.c16) return ops::gemm_cpu(g);  // bf16 operands or output: the reference math
  if (!g.c || !g.a || !g.b) return Status::Error(Code::Value, "gemm", "null operand");
  const int64_t a_rs = g.trans_a ? 1 : g.lda, a_cs = g.trans_a ? g.lda : 1;
  const float* a = static_cast<const float*>(g.a);
  if (!g.trans_b) {
    sgemm(g.m, g.n, g.k, a, a_rs, a_cs, static_cast<const float*>(g.b), g.ldb, g.c, g.ldc, g.accumulate, g.bias);
    return Status::Ok();
  }
  const float* bp = static_cast<const float*>(g.bp);
  std::vector<float> packed;
  if (!bp) {
    // B(p, j) = b[j * ldb + p]: rows of a [n, k] matrix with row stride ldb
    std::vector<float> dense;
    const float* w = static_cast<const float*>(g.b);
    if (g.ldb != g.k) {
      dense.resize(static_cast<size_t>(g.n * g.k));
      for (int64_t j = 0; j < g.n; ++j) std::memcpy(dense.data() + j * g.k, w + j * g.ldb, sizeof(float) * g.k);
      w = dense.data();
    }
    packed.resize(static_cast<size_t>(packed_panel_floats(g.n, g.k)));
    pack_weight_panels(w, g.n, g.k, packed.data());
    bp = packed.data();
  }
  sgemm_bpacked(g.m, g.n, g.k, a, a_rs, a_cs, bp, g.c, g.ldc, g.accumulate, g.bias);
  return Status::Ok();
}

}  // namespace rlvr::engine::cpuops
