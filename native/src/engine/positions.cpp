#include "engine/positions.h"

namespace rlvr::engine {

std::vector<int32_t> positions(const Batch& x) {
  std::vector<int32_t> pos(static_cast<size_t>(x.b * x.t));
  for (int64_t b = 0; b < x.b; ++b) {
    int32_t c = 0;
    for (int64_t t = 0; t < x.t; ++t) {
      if (x.seg && t > 0 && x.seg[b * x.t + t] != x.seg[b * x.t + t - 1]) c = 0;  // a packed sequence starts
      c += x.mask[b * x.t + t] != 0.f ? 1 : 0;
      pos[b * x.t + t] = x.mask[b * x.t + t] != 0.f ? c - 1 : 1;
    }
  }
  return pos;
}

std::vector<int64_t> segment_starts(const Batch& x) {
  std::vector<int64_t> first(static_cast<size_t>(x.b * x.t), 0);
  if (!x.seg) return first;
  for (int64_t b = 0; b < x.b; ++b) {
    int64_t f = 0;
    for (int64_t t = 0; t < x.t; ++t) {
      if (t > 0 && x.seg[b * x.t + t] != x.seg[b * x.t + t - 1]) f = t;
      first[b * x.t + t] = f;
    }
  }
  return first;
}

}  // namespace rlvr::engine
