// Batch layout of OpsModel (native/src/model/ops_model.cpp, ops_score_prefix.cpp), host side, so
// every backend numbers and groups tokens the same
// way: position ids, packed-segment starts, continuation rows after shared prefixes, and rows
// that repeat one another.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace rlvr::engine {

// HF position ids: cumsum(mask) - 1 for real tokens, 1 for padding; with packed sequences
// (x.seg) the count restarts at each sequence.
std::vector<int32_t> positions(const Batch& x);

// Per token of x: the slot where its packed sequence starts (0 without x.seg), for the
// attention's first visible key.
std::vector<int64_t> segment_starts(const Batch& x);

// score_prefixed's continuation rows: ext [r, E], row i after prefix group[i] of prefix [g, P].
// pos [r * E]: each token's position id (the prefix's count of real tokens continued, as
// positions() on the concatenation; padding 1); mask [r, P + E]: the slots row i attends over
// (its prefix's mask, then its own). A Value error (argument prefixMask) names a prefix row with
// no real token.
struct ContinuationLayout {
  std::vector<int32_t> pos;
  std::vector<float> mask;
};
Status continuation_layout(const Batch& prefix, const Batch& ext, const int32_t* group, ContinuationLayout* out);

// Rows of x with the same tokens and mask (prefill computes each once): first[k] is the first
// row of the k-th distinct one (ascending), of_row[b] the k of row b.
struct DistinctRows {
  std::vector<int64_t> first;
  std::vector<int32_t> of_row;
};
DistinctRows distinct_rows(const Batch& x);

}  // namespace rlvr::engine
