// The decoder's shared declarations (OpsModel, ops_model.h, and the binding): the config of a
// Qwen2 / Qwen3 / Llama decoder (RMSNorm, RoPE with given inverse frequencies, GQA attention with
// optional q/k/v biases and q/k RMSNorm, SwiGLU MLP, tied or untied LM head, or a value head),
// the parameter registry's entries, the loss and optimizer options, and the batch layout.
//
// Batch layout: B sequences x T positions, row r = b*T + t. mask[b, t] is 1
// for real tokens, 0 for padding (left or right). Position ids are, as in HF,
// the cumulative count of mask-1 tokens minus 1. targets[b, t] is the token
// whose log-prob is read from the logits at (b, t), i.e. the caller shifts
// (targets[b, t] = ids[b, t + 1] for a causal LM). With segment ids several sequences
// share a row (packing), each computed bit for bit as if alone in its own row.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace rlvr::engine {

struct Config {
  int64_t vocab = 0, hidden = 0, inter = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
  float rms_eps = 1e-6f;
  bool qkv_bias = false;  // Qwen2: true
  // Qwen3: each q / k head goes through an RMSNorm over head_dim (self_attn.q_norm / k_norm,
  // weight [head_dim]) after its projection and before RoPE.
  bool qk_norm = false;
  bool tied = false;      // lm_head shares model.embed_tokens.weight
  // A critic (PPO): score.weight [1, h] and score.bias [1] (HF *ForTokenClassification,
  // num_labels 1) replace the LM head; values() / value_forward_backward() instead of
  // the log-prob, logits and decoding paths.
  bool value_head = false;
  std::vector<float> inv_freq;  // head_dim / 2 RoPE inverse frequencies (scaling already applied)
};

// Ok when the config is usable, else the field at fault and what is wrong (Code::Shape for
// invFreq, Code::Value otherwise).
Status validate_config(const Config& c);

struct ParamInfo {
  std::string name;  // Hugging Face name
  std::vector<int64_t> shape;
  int64_t offset = 0, numel = 0;  // into the flat parameter buffer
};

struct LossOptions {
  float temperature = 1.f;
  float pg_coef = 1.f, kl_coef = 0.f, entropy_coeff = 0.f;
  float clip_low = 0.2f, clip_high = 0.2f, dual_clip = 0.f;
  kernels::KlType kl_type = kernels::KlType::LowVarKl;
};

struct AdamWOptions {
  float lr = 1e-6f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.01f;
  float max_grad_norm = 1.f;  // <= 0: no clipping
};

struct StepResult {
  double grad_norm = 0;  // global L2 norm before clipping
  bool skipped = false;  // non-finite gradient: no update (gradients are still zeroed)
  int64_t step = 0;      // AdamW steps taken so far
};

struct Batch {
  int64_t b = 0, t = 0;
  const int32_t* ids = nullptr;  // [b, t]
  const float* mask = nullptr;   // [b, t] 0/1
  // Packed sequences: [b, t] segment ids, non-decreasing along each row; a token attends only
  // to earlier tokens of its own segment and its position counts from the segment's start.
  // Null: one sequence per row. Not for prefill/decode.
  const int32_t* seg = nullptr;
};

}  // namespace rlvr::engine
