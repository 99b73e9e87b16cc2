#include "model/positions.h"

#include <cstring>
#include <string>
#include <unordered_map>

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

Status continuation_layout(const Batch& prefix, const Batch& ext, const int32_t* group, ContinuationLayout* out) {
  const int64_t G = prefix.b, P = prefix.t, R = ext.b, E = ext.t, cap = P + E;
  std::vector<int32_t> count(static_cast<size_t>(G), 0);
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t t = 0; t < P; ++t) count[g] += prefix.mask[g * P + t] != 0.f ? 1 : 0;
    if (count[g] == 0) return Status::Error(Code::Value, "prefixMask", "prefix row " + std::to_string(g) + " has no real token");
  }
  out->pos.assign(static_cast<size_t>(R * E), 0);
  out->mask.assign(static_cast<size_t>(R * cap), 0.f);
  for (int64_t i = 0; i < R; ++i) {
    const int64_t g = group[i];
    std::memcpy(out->mask.data() + i * cap, prefix.mask + g * P, sizeof(float) * P);
    int32_t c = count[g];
    for (int64_t t = 0; t < E; ++t) {
      const int64_t r = i * E + t;
      const bool real = ext.mask[r] != 0.f;
      out->mask[i * cap + P + t] = ext.mask[r];
      c += real ? 1 : 0;
      out->pos[r] = real ? c - 1 : 1;
    }
  }
  return Status::Ok();
}

DistinctRows distinct_rows(const Batch& x) {
  DistinctRows d;
  d.of_row.resize(static_cast<size_t>(x.b));
  std::unordered_map<std::string, int32_t> seen;
  std::string key(static_cast<size_t>(x.t) * (sizeof(int32_t) + sizeof(float)), '\0');
  for (int64_t b = 0; b < x.b; ++b) {
    std::memcpy(&key[0], x.ids + b * x.t, sizeof(int32_t) * x.t);
    std::memcpy(&key[sizeof(int32_t) * x.t], x.mask + b * x.t, sizeof(float) * x.t);
    const auto it = seen.emplace(key, static_cast<int32_t>(d.first.size())).first;
    if (it->second == static_cast<int32_t>(d.first.size())) d.first.push_back(b);
    d.of_row[b] = it->second;
  }
  return d;
}

}  // namespace rlvr::engine
