// The CPU model engine: a Qwen2 / Qwen3 / Llama decoder (RMSNorm, RoPE with given
// inverse frequencies, GQA attention with optional q/k/v biases and q/k RMSNorm, SwiGLU MLP,
// tied or untied LM head) in fp32, with
//   - score():            per-token log-prob and entropy of given targets (no grad),
//   - forward_backward(): the fused policy objective at the LM head and an
//                         explicit backward through every layer, accumulating
//                         into the gradients (so repeated calls = gradient
//                         accumulation over micro-batches),
//   - optimizer_step():   AdamW (decoupled decay, bias correction) after global
//                         grad-norm clipping; zeroes the gradients,
//   - prefill()/step():   KV-cache decoding returning next-token logits [B, V].
// No Node-API here: the binding (native/src/binding/engine_binding.cpp)
// validates every argument before calling in; the engine itself only checks
// what it alone can (e.g. KV-cache capacity, non-finite logits).
//
// Batch layout: B sequences x T positions, row r = b*T + t. mask[b, t] is 1
// for real tokens, 0 for padding (left or right). Position ids are, as in HF,
// the cumulative count of mask-1 tokens minus 1. targets[b, t] is the token
// whose log-prob is read from the logits at (b, t), i.e. the caller shifts
// (targets[b, t] = ids[b, t + 1] for a causal LM). With segment ids several sequences
// share a row (packing), each computed bit for bit as if alone in its own row.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "ops/backend.h"  // kDefaultActBudgetBytes

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

class Model {
 public:
  explicit Model(Config c);  // parameters start at zero

  const Config& config() const { return cfg_; }
  const std::vector<ParamInfo>& params() const { return params_; }
  int find_param(const std::string& name) const;  // -1 when unknown
  float* param(int i) { return data_.data() + params_[i].offset; }
  const float* grad(int i) const { return grad_.data() + params_[i].offset; }
  int64_t num_parameters() const { return static_cast<int64_t>(data_.size()); }
  // Call after writing parameters through param(): marks the cached packed W^T stale
  // (repacked in place on next use).
  void params_changed() { wt_fresh_.assign(params_.size(), false); }

  // logp/entropy [b*t]; rows with row_mask == 0 (or null row_mask: mask == 0) get 0.
  Status score(const Batch& x, const int32_t* targets, const float* row_mask, float temperature, float* logp,
               float* entropy);
  // score() for sequences that share prompts, running each shared prefix once: prefix [g, P]
  // (each row >= 1 real token), ext [r, E] (row i continues prefix group[i]; its real tokens
  // first), targets / row_mask / logp / entropy over ext's [r*E] rows. Bitwise equal to score()
  // on the concatenated rows (same per-row GEMMs, same attention order over real slots).
  Status score_prefixed(const Batch& prefix, const Batch& ext, const int32_t* group, const int32_t* targets,
                        const float* row_mask, float temperature, float* logp, float* entropy);
  // Full logits [b*t, v] (tests and debugging only: the training and scoring
  // paths never materialize them).
  Status logits(const Batch& x, float* out);
  // Accumulates d(total)/d(params) into the gradients; total = sum_i w_i * term_i
  // (see kernels.h (h)). Inputs are [b*t]; old_logp / advantages may be null
  // when pg_coef == 0, ref_logp when kl_coef == 0. logp/entropy (optional
  // outputs) are written for rows with weight != 0, 0 elsewhere. If the model
  // produces a non-finite logits row, all gradients are zeroed (this call's
  // partial LM-head gradients would be meaningless) and a Value error returned.
  Status forward_backward(const Batch& x, const int32_t* targets, const float* old_logp, const float* ref_logp,
                          const float* advantages, const float* weights, const LossOptions& o, float* logp,
                          float* entropy, kernels::PolicyLossStats* stats);
  // Critic (value head) paths, value_head.cpp. values: v[r] = score.w . final_hidden[r] + score.b
  // for rows with row_mask != 0 (null: mask), 0 elsewhere. value_forward_backward: the clipped
  // value loss (kernels.h (j)) over rows with weight != 0, accumulated into the gradients like
  // forward_backward; writes the values it computed (0 where weight == 0).
  Status values(const Batch& x, const float* row_mask, float* out);
  Status value_forward_backward(const Batch& x, const float* old_values, const float* returns, const float* weights,
                                float clip, float* values_out, kernels::ValueLossStats* stats);

  StepResult optimizer_step(const AdamWOptions& o);
  // AdamW state for checkpoints: the step count (bias correction) and, per
  // parameter, the first and second moments (all zero before the first step).
  int64_t adam_step() const { return adam_step_; }
  void get_adam(int i, float* m, float* v) const;
  void set_adam(int64_t step, int i, const float* m, const float* v);
  void zero_grad();
  double grad_norm() const;

  // KV-cache decoding. prefill: prompts [b, t] (each row needs >= 1 real token),
  // room for `capacity` slots per row (>= t); writes the logits at each row's
  // last real token into out [b, v]. step: appends one token per row and
  // writes its next-token logits [b, v].
  Status prefill(const Batch& x, int64_t capacity, float* out);
  Status step(const int32_t* tokens, float* out);
  void reset_cache();
  // Rows per LM-head chunk (0 = automatic, ~128 MB of logits); tests set it small to
  // exercise the chunking.
  void set_lm_chunk_rows(int64_t rows) { lm_chunk_override_ = rows; }
  // Bytes of kept activations before forward_backward recomputes per layer (< 0: kDefaultActBudgetBytes).
  void set_act_budget_bytes(double bytes) { act_budget_ = bytes; }
  // Whether the last training pass kept every layer's activations (else it recomputed per layer).
  bool last_kept_activations() const { return last_keep_; }
  int64_t cache_len() const { return cache_len_; }
  int64_t cache_rows() const { return cache_b_; }

 private:
  struct LayerP;     // pointers to one layer's tensors (params or grads)
  struct Acts;       // one layer's activations for n rows
  struct AttnSrc;    // where a query's keys/values live

  LayerP layer(int l, bool grads);
  const float* wt(int idx);  // cached W^T of a linear weight, packed in GEMM panels (gemm.h)
  const float* lm_weight() { return param(lm_idx_); }
  void rope_tables(int64_t n, const int32_t* pos, std::vector<float>& cs);
  void layer_forward(int l, const float* x_in, float* x_out, Acts& a, int64_t n, const std::vector<float>& cs,
                     const AttnSrc& src, float* cache_k, float* cache_v, const int64_t* cache_rows);
  void layer_backward(int l, const float* x_in, Acts& a, float* dres, int64_t n, const std::vector<float>& cs,
                      const AttnSrc& src, int64_t bsz, int64_t tlen);
  void embed(const int32_t* ids, int64_t n, float* x);
  void final_norm(const float* x, float* xf, int64_t n);  // model.norm, no saved statistics
  Status require_lm_head() const;
  // row_names (optional): the caller's row index of each xf row, for error messages.
  Status lm_head_logprob(const float* xf, const std::vector<int64_t>& rows, const int32_t* targets, float temperature,
                         float* logp, float* entropy, const int64_t* row_names = nullptr);
  // Runs the body over a whole batch (no grad) and returns final-normed hidden [b*t, h].
  void body_forward(const Batch& x, std::vector<float>& xf);
  // A head on the final-normed hidden states xf [b*t, h]: computes its loss, accumulates its
  // own parameters' gradients and writes d loss / d xf into dxf (zeroed on entry).
  using HeadFn = std::function<Status(const float* xf, float* dxf)>;
  // Forward through the body keeping what the backward needs (within the activation budget),
  // the head, then the backward through the final norm, the layers and the embedding.
  Status train_body(const Batch& x, const HeadFn& head);

  Config cfg_;
  std::vector<ParamInfo> params_;
  std::vector<float> data_, grad_, adam_m_, adam_v_;
  std::vector<std::vector<float>> wt_;  // kept allocated; repacked in place when stale
  std::vector<bool> wt_fresh_;
  int64_t adam_step_ = 0;
  int64_t lm_chunk_override_ = 0;
  double act_budget_ = -1;
  bool last_keep_ = false;
  int64_t lm_chunk() const;
  int embed_idx_ = 0, norm_idx_ = 0, lm_idx_ = 0;
  int score_w_idx_ = -1, score_b_idx_ = -1;  // value head only
  std::vector<int> layer_base_;  // index of each layer's first parameter

  // KV cache: per layer [cache_b_, cache_cap_, kv_dim] for K and V.
  std::vector<std::vector<float>> cache_k_, cache_v_;
  std::vector<float> cache_mask_;  // [cache_b_, cache_cap_]
  std::vector<int32_t> cache_count_;  // real tokens per row (next position id)
  int64_t cache_b_ = 0, cache_cap_ = 0, cache_len_ = 0;
};

}  // namespace rlvr::engine
