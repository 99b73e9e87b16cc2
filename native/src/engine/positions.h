// Position ids and packed-segment starts of a batch, shared by the CPU engine (model.cpp) and
// OpsModel (cuda/engine/ops_model.cpp), so both number tokens the same way.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model.h"

namespace rlvr::engine {

// HF position ids: cumsum(mask) - 1 for real tokens, 1 for padding; with packed sequences
// (x.seg) the count restarts at each sequence.
std::vector<int32_t> positions(const Batch& x);

// Per token of x: the slot where its packed sequence starts (0 without x.seg), for the
// attention's first visible key.
std::vector<int64_t> segment_starts(const Batch& x);

}  // namespace rlvr::engine
