#include "model/param_registry.h"

#include <string>
#include <utility>

namespace rlvr::engine {

ParamRegistry build_param_registry(const Config& c) {
  const int64_t h = c.hidden, v = c.vocab, m = c.inter, q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim;
  ParamRegistry r;
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    ParamInfo p;
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.numel = 1;
    for (int64_t d : p.shape) p.numel *= d;
    p.offset = r.total;
    r.total += p.numel;
    r.params.push_back(std::move(p));
    return static_cast<int>(r.params.size()) - 1;
  };
  r.embed = add("model.embed_tokens.weight", {v, h});
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l);
    r.layer_base.push_back(static_cast<int>(r.params.size()));
    add(p + ".input_layernorm.weight", {h});
    add(p + ".self_attn.q_proj.weight", {q, h});
    add(p + ".self_attn.k_proj.weight", {kv, h});
    add(p + ".self_attn.v_proj.weight", {kv, h});
    if (c.qkv_bias) {
      add(p + ".self_attn.q_proj.bias", {q});
      add(p + ".self_attn.k_proj.bias", {kv});
      add(p + ".self_attn.v_proj.bias", {kv});
    }
    if (c.qk_norm) {
      add(p + ".self_attn.q_norm.weight", {c.head_dim});
      add(p + ".self_attn.k_norm.weight", {c.head_dim});
    }
    add(p + ".self_attn.o_proj.weight", {h, q});
    add(p + ".post_attention_layernorm.weight", {h});
    add(p + ".mlp.gate_proj.weight", {m, h});
    add(p + ".mlp.up_proj.weight", {m, h});
    add(p + ".mlp.down_proj.weight", {h, m});
  }
  r.norm = add("model.norm.weight", {h});
  if (c.value_head) {
    // HF *ForTokenClassification with num_labels = 1 (verl's critic): score = Linear(h, 1)
    r.score_w = add("score.weight", {1, h});
    r.score_b = add("score.bias", {1});
  } else {
    r.lm = c.tied ? r.embed : add("lm_head.weight", {v, h});
  }
  return r;
}

}  // namespace rlvr::engine
