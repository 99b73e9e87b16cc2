// Definitions shared by OpsModel's translation units (ops_model.cpp, ops_value_head.cpp,
// ops_score_prefix.cpp): the workspace accessor, one layer's activation
// buffers and where a layer's queries find their keys / values.
#pragma once
#include <cstdint>

#include "model/ops_model.h"

namespace rlvr::engine {

template <class T>
Status OpsModel::ws(int slot, int64_t count, T** out) {
  RLVR_TRY(ws_[slot].reserve(be_, count * static_cast<int64_t>(sizeof(T))));
  *out = static_cast<T*>(ws_[slot].get());
  return Status::Ok();
}

// One layer's activations for up to `rows` rows, carved from one allocation
// (pieces aligned to 64 floats for the vectorized bf16 / fp32 loads). In bf16
// mode the tensors that only feed GEMMs or the SwiGLU op hold their bf16 form
// (uint16 bits, half the space): xn1, xn2 (the RMSNorm outputs), g, u (the
// gate / up projections, written so by the GEMMs) and h (the SwiGLU output);
// attb is the bf16 copy of att for the Wo GEMMs (att itself stays fp32: the
// attention backward reads it); q16, k16, v16 are the bf16 copies of q (after RoPE), k (after
// RoPE) and v that the tensor-core attention reads, made once for its forward and backward.
// The backward reads these instead of casting again.
struct OpsModel::Acts {
  BackendBuf mem;
  int64_t rows = 0;
  bool bf16 = false;
  float *xn1, *inv1, *q, *k, *v, *att, *lse, *x2, *xn2, *inv2, *g, *u, *h;
  void *attb, *q16, *k16, *v16;
  // qk_norm (Qwen3): q, k before the per-head RMSNorm and its inv per head (absent otherwise)
  float *qp, *kp, *qinv, *kinv;
  static constexpr int kPieces = 21;
  // Each piece's elements per row and element size in bytes (4 fp32, 2 bf16, 0 absent), in the
  // order of the pointers below: the one description both the allocation and the budget use.
  static void layout(const Config& c, bool bf16, int64_t (&elems)[kPieces], int (&bytes)[kPieces]) {
    const int64_t H = c.hidden, Q = c.heads * c.head_dim, KV = c.kv_heads * c.head_dim, I = c.inter;
    const int gemm_in = bf16 ? 2 : 4, copy = bf16 ? 2 : 0;  // GEMM-only tensors; the bf16-only copies
    const int qkn = c.qk_norm ? 4 : 0;
    const int64_t e[kPieces] = {H, 1, Q, KV, KV, Q, c.heads, H, H, 1, I, I, I, Q, Q, KV, KV, Q, KV, c.heads, c.kv_heads};
    const int b[kPieces] = {gemm_in, 4, 4, 4, 4, 4, 4, 4, gemm_in, 4, gemm_in, gemm_in, gemm_in, copy, copy, copy, copy,
                            qkn, qkn, qkn, qkn};
    for (int i = 0; i < kPieces; ++i) {
      elems[i] = e[i];
      bytes[i] = b[i];
    }
  }
  static double floats_per_row(const Config& c, bool bf16) {
    int64_t e[kPieces];
    int b[kPieces];
    layout(c, bf16, e, b);
    double f = 0;
    for (int i = 0; i < kPieces; ++i) f += static_cast<double>(e[i]) * b[i] / 4;
    return f;
  }
  Status ensure(const Backend& be, int64_t n, const Config& c, bool bf16_mode) {
    if (mem.get() && n <= rows && bf16_mode == bf16) return Status::Ok();
    int64_t e[kPieces], sizes[kPieces];
    int b[kPieces];
    layout(c, bf16_mode, e, b);
    for (int i = 0; i < kPieces; ++i) sizes[i] = (n * e[i] * b[i] + 3) / 4;  // in floats
    float *attb_f, *q16_f, *k16_f, *v16_f;
    float** ptrs[kPieces] = {&xn1, &inv1, &q, &k, &v, &att, &lse, &x2, &xn2, &inv2, &g, &u, &h, &attb_f, &q16_f, &k16_f, &v16_f,
                             &qp, &kp, &qinv, &kinv};
    int64_t total = 0;
    for (int64_t s : sizes) total += (s + 63) / 64 * 64;
    RLVR_TRY(mem.reserve(be, total * 4));
    float* p = static_cast<float*>(mem.get());
    for (int i = 0; i < kPieces; ++i) {
      *ptrs[i] = p;
      p += (sizes[i] + 63) / 64 * 64;
    }
    attb = attb_f; q16 = q16_f; k16 = k16_f; v16 = v16_f;
    rows = n;
    bf16 = bf16_mode;
    return Status::Ok();
  }
};

// Parameter indices of one layer (-1: no bias; qn, kn -1: no q/k RMSNorm).
struct OpsModel::LayerW {
  int ln1, wq, wk, wv, bq, bk, bv, qn, kn, wo, ln2, wg, wu, wd;
};

// Where a layer's queries find keys / values (ops::AttnFwdArgs' layout).
// k == null: the layer's own k / v (training, score); else the KV cache, into
// which the layer first appends its rows at cache_rows.
struct OpsModel::AttnSrc {
  int64_t b = 0, tq = 0, slot0 = 0, seq_stride = 0, mask_stride = 0;
  const float* mask = nullptr;
  float* k = nullptr;
  float* v = nullptr;
  const int32_t* first = nullptr;  // packed sequences: each query's segment start slot (ops::AttnFwdArgs)
};

}  // namespace rlvr::engine
