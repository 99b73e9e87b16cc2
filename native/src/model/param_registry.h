// The parameter registry of a Qwen2 / Llama decoder: Hugging Face names, shapes and offsets into
// one flat fp32 buffer, in @rlvr/model's expectedTensorShapes order (OpsModel's
// layout on every backend).
#pragma once
#include <vector>

#include "model/config.h"

namespace rlvr::engine {

struct ParamRegistry {
  std::vector<ParamInfo> params;
  int64_t total = 0;                   // floats in the flat buffer
  int embed = 0, norm = 0, lm = -1;    // lm: the embedding when tied, -1 with a value head
  int score_w = -1, score_b = -1;      // value head only
  std::vector<int> layer_base;         // index of each layer's first parameter
};

// Layer slots after layer_base[l]: ln1, q, k, v, [q/k/v biases when qkv_bias], o, ln2, gate, up, down.
ParamRegistry build_param_registry(const Config& c);

}  // namespace rlvr::engine
