// Definitions shared by the engine's translation units (model.cpp, score_prefix.cpp):
// one layer's activation buffers and where a query's keys/values live.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"

namespace rlvr::engine {

// Where the keys/values of a query's sequence live. Query row r belongs to
// sequence b = r / q_per_seq and sits at slot slot0 + r % q_per_seq; it
// attends to slots 0..slot with mask 1, whose K/V rows are at
// k + (b * seq_stride + j) * kv_dim.
struct Model::AttnSrc {
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t seq_stride = 0;
  const float* mask = nullptr;
  int64_t mask_stride = 0;
  int64_t q_per_seq = 1, slot0 = 0;
  // Packed sequences: per query row, the first slot of its segment (keys before it belong to
  // other sequences). Null: 0.
  const int64_t* first = nullptr;
  // Compacted query rows (score_prefixed drops padding): query row r belongs to sequence
  // row_seq[r] at slot row_slot[r]. Null: from q_per_seq and slot0 as above.
  const int64_t* row_seq = nullptr;
  const int64_t* row_slot = nullptr;
};

// One layer's activations for n rows (reused across layers).
struct Model::Acts {
  std::vector<float> xn1, inv1, q, k, v, att, x2, xn2, inv2, g, u, h;
  std::vector<float> qp, kp, qinv, kinv;  // qk_norm: q / k before the per-head RMSNorm, its inv per head
  void resize(int64_t n, const Config& c) {
    const int64_t H = c.hidden, Q = c.heads * c.head_dim, KV = c.kv_heads * c.head_dim, I = c.inter;
    xn1.resize(n * H); inv1.resize(n); q.resize(n * Q); k.resize(n * KV); v.resize(n * KV); att.resize(n * Q);
    x2.resize(n * H); xn2.resize(n * H); inv2.resize(n); g.resize(n * I); u.resize(n * I); h.resize(n * I);
    if (c.qk_norm) {
      qp.resize(n * Q); kp.resize(n * KV); qinv.resize(n * c.heads); kinv.resize(n * c.kv_heads);
    }
  }
};

}  // namespace rlvr::engine
