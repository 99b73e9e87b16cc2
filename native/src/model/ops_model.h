// OpsModel: the Qwen2 / Qwen3 / Llama decoder (model/config.h) assembled
// from the engine ops (native/src/ops/ops.h) and the fused LM-head kernels
// (kernels.h: logprob_fwd, policy_loss), over a Backend that supplies memory
// and one implementation of every op:
//   cpu_backend():  host memory, the fast CPU ops (ops/cpu: multi-threaded, packed
//                   GEMM panels as prepared weights), the engine's "cpu" -- bitwise
//                   the former engine::Model's results;
//   ref_backend():  host memory, the *_cpu references (ops/ref/ref_ops.cpp,
//                   native/src/kernels/cpu) -- runs anywhere, the ground truth;
//   cuda_backend(): device memory (rlvr::cuda::malloc_device ...), the *_cuda
//                   ops (ops/cuda/backend.cpp; linked into the CUDA harnesses,
//                   and into the addon over stubs when it is built without nvcc).
// This file and ops_model.cpp are host code only, so the same model code runs
// on every backend and the reference instance is what the CUDA one is checked
// against (rlvr_cuda_ops_model_check).
//
// The API (Config, Batch, LossOptions,
// AdamWOptions, StepResult, the parameter registry in Hugging Face order):
// score, forward_backward (accumulates), optimizer_step (grad norm + AdamW,
// zeroes the gradients), prefill / step (KV cache); with Config::value_head
// (a critic, ops_value_head.cpp) values / value_forward_backward instead of
// the LM-head paths. Host pointers in and out; parameters, gradients, optimizer state, activations and the KV
// cache live in backend memory. Per-parameter access (set_param / get_param /
// get_grad / get_adam / set_adam) and logits() serve the Node binding
// (native/src/binding/engine_impl.cpp). Packed sequences (Batch::seg) in
// score / logits / values and training, and score_prefixed, as Model.
//
// bf16_gemm (off by default, so the CPU backend is comparable with Model):
// every linear-layer GEMM (forward, both backward products, LM head) takes
// bf16 operands with fp32 accumulation -- a bf16 copy of the weights, refreshed
// after each parameter change, and activations / output gradients cast right
// before the GEMM -- while parameters, gradients, AdamW state, norms,
// attention and the loss stay fp32 (the usual autocast mixed precision).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ops/backend.h"
#include "model/config.h"  // Config, ParamInfo, Batch, LossOptions, AdamWOptions, StepResult (declarations only)
#include "model/rollout.h"

namespace rlvr::engine {

class OpsModel {
 public:
  // Parameters start at zero. Errors: an invalid config, or an allocation failure.
  static Status create(const Backend& be, Config c, bool bf16_gemm, std::unique_ptr<OpsModel>* out);
  ~OpsModel();

  const Config& config() const { return cfg_; }
  const Backend& backend() const { return be_; }
  bool bf16_gemm() const { return bf16_; }
  const std::vector<ParamInfo>& params() const { return params_; }
  int find_param(const std::string& name) const;
  int64_t num_parameters() const { return nparams_; }

  // Whole flat buffers (num_parameters() floats, registry order), host side.
  Status set_parameters(const float* host);
  Status get_parameters(float* host) const;
  Status get_gradients(float* host) const;  // zeros before the first forward_backward
  // One parameter (index into params(), host data of its numel floats).
  Status set_param(int i, const float* host);
  Status get_param(int i, float* host) const;
  Status get_grad(int i, float* host) const;  // zeros before the first forward_backward
  // AdamW moments of one parameter (zeros before the first step) and, for
  // set_adam, the step count (bias correction).
  Status get_adam(int i, float* m, float* v) const;
  Status set_adam(int64_t step, int i, const float* m, const float* v);
  // The flat parameter buffer in backend memory (e.g. a device-side random
  // init); call params_changed() after writing through it.
  float* parameter_data() { return static_cast<float*>(data_.get()); }
  void params_changed() { bf16_fresh_ = false; prep_fresh_.assign(prep_fresh_.size(), 0); }

  Status score(const Batch& x, const int32_t* targets, const float* row_mask, float temperature, float* logp,
               float* entropy);
  // score() for sequences sharing prompts (ops_score_prefix.cpp):
  // each prefix [g, P] runs once; row i of ext [r, E] continues prefix group[i]; outputs over
  // ext's rows. Equal to score() on the concatenations up to fp32 summation order.
  Status score_prefixed(const Batch& prefix, const Batch& ext, const int32_t* group, const int32_t* targets,
                        const float* row_mask, float temperature, float* logp, float* entropy);
  // Full logits [b*t, v] on the host, every row (tests and debugging).
  Status logits(const Batch& x, float* out);
  Status forward_backward(const Batch& x, const int32_t* targets, const float* old_logp, const float* ref_logp,
                          const float* advantages, const float* weights, const LossOptions& o, float* logp,
                          float* entropy, kernels::PolicyLossStats* stats);
  // Critic (Config::value_head; ops_value_head.cpp): values /
  // value_forward_backward: v[r] = score.w . final_hidden[r] + score.b on rows with
  // row_mask != 0 (null: the mask), 0 elsewhere; the clipped value loss over rows
  // with weight != 0, accumulated into the gradients like forward_backward. A
  // critic has no LM head: score, logits, forward_backward and prefill fail with
  // Model's Value error, and values / value_forward_backward on a policy too.
  Status values(const Batch& x, const float* row_mask, float* out);
  Status value_forward_backward(const Batch& x, const float* old_values, const float* returns, const float* weights,
                                float clip, float* values_out, kernels::ValueLossStats* stats);
  Status optimizer_step(const AdamWOptions& o, StepResult* res);
  Status zero_grad();
  Status grad_norm(double* out);
  int64_t adam_step() const { return adam_step_; }

  // KV-cache decoding as Model. out: host [b, v], or null to leave the logits
  // in backend memory only (decode_logits(), e.g. for sampling on the device).
  Status prefill(const Batch& x, int64_t capacity, float* out);
  Status step(const int32_t* tokens, float* out);
  void reset_cache();
  const float* decode_logits() const { return static_cast<const float*>(dec_logits_.get()); }
  int64_t cache_len() const { return cache_len_; }
  int64_t cache_rows() const { return cache_b_; }  // 0 when no decode is active

  // A whole rollout batch (prompts x n samples) in one call: continuous batching over a pool of
  // req.slots sequences, shared prompts prefilled once, sampling and log-probs on the backend
  // (ops_rollout.cpp). Independent of prefill / step: an active decode's cache is kept.
  Status rollout(const RolloutRequest& req, RolloutResult* out);

  void set_lm_chunk_rows(int64_t rows) { lm_chunk_override_ = rows; }  // 0 = backend default
  void set_act_budget_bytes(double bytes) { act_budget_ = bytes; }     // < 0 = backend default
  // Whether the last forward_backward kept every layer's activations (else it recomputed per layer).
  bool last_kept_activations() const { return last_keep_; }
  void release_scratch();  // frees workspaces (kept activations, LM-head chunk, ...); the cache stays

 private:
  struct Acts;
  struct LayerW;
  struct AttnSrc;
  struct RolloutRun;  // ops_rollout.cpp
  // Workspace slots (each a BackendBuf in ws_, kept between calls).
  enum Slot : int {
    kIds, kMask, kPos, kCs, kResid, kXa, kXb, kXf, kInvf, kDxf, kDres, kRecompute,
    kDh, kDu, kDxn, kDatt, kDq, kDk, kDv, kCastA, kCastB, kCastC, kDres16,
    kDqn, kDkn,  // qk_norm: dq / dk of the normed heads
    kRows, kTg, kWts, kOld, kRef, kAdv, kXc, kDxc, kLogits, kLp, kEn, kLse, kCrow, kLast, kXl,
    kVal, kDval,  // value head
    kFirst,       // packed sequences: segment start per token
    kPrefixK, kPrefixV, kGather, kDest, kCacheK, kCacheV, kTmpK, kTmpV,  // score_prefixed, and prefill's copies
    kSlot,        // prefill: each row's distinct prompt
    kNumSlots
  };
  // The loss head of a training pass: given the final-normed hidden state xf
  // [n, h], accumulates its parameters' gradients and writes d loss / d xf into
  // dxf (zeroed on entry). Backend memory.
  using HeadFn = std::function<Status(const float* xf, float* dxf)>;
  OpsModel(const Backend& be, Config c, bool bf16);

  LayerW layer(int l) const;
  Status require_lm_head() const;  // Model's Value error on a critic
  Status ensure_bf16();
  const void* W(int idx) const;  // a weight as the GEMMs take it (fp32 or its bf16 copy)
  DType gdt() const { return bf16_ ? DType::BF16 : DType::F32; }
  // x W(idx)^T as ops::linear_fwd with the backend's prepared form of the weight when it has one
  // (Backend::prepare_b, fp32 mode; made on first use after a parameter change).
  Status linear_fwd(int64_t M, int64_t N, int64_t K, const void* x, int idx, const float* bias, float* y,
                    bool accumulate = false, bool bf16_out = false);
  Status gin(const float* x, int64_t count, int slot, const void** out);  // GEMM operand (cast in bf16 mode)
  template <class T>
  Status ws(int slot, int64_t count, T** out);  // workspace slot of >= count elements
  Status ensure_grads();
  Status settle_grads();
  Status zero_ranges(const std::vector<std::pair<int64_t, int64_t>>& rs);
  static bool in_ranges(const std::vector<std::pair<int64_t, int64_t>>& rs, int64_t offset);
  Status ensure_adam();
  Status upload_batch(const Batch& x, int32_t** ids, float** mask, float** cs, const int32_t** first = nullptr);
  // acts_[0], one layer's activations for a no-grad pass (score, prefill, decode step), grown to
  // >= rows rows.
  Status scratch_acts(int64_t rows, Acts** out);
  Status layer_forward(int l, const float* x_in, float* x_out, Acts& a, int64_t n, const float* cs,
                       const AttnSrc& src, const int64_t* cache_rows);
  Status layer_backward(int l, const float* x_in, Acts& a, float* dres, int64_t n, int64_t bsz, int64_t tlen,
                        const float* cs, const float* mask, const int32_t* first);
  ops::GemmArgs act_out(const ops::GemmArgs& g) const;
  // A layer's RMSNorms, writing what the GEMMs read next in bf16 mode (see the definitions).
  Status norm_fwd(const float* x, const float* w, float* y, float* inv, int64_t n);
  Status norm_bwd(const float* x, const float* w, const float* inv, const float* dy, float* dres, float* dw, int64_t n,
                  bool accumulate = true);
  Status body_forward(const Batch& x, const float** xf);
  // forward (keeping activations within the budget), head, final-norm / layer / embedding backward.
  Status train_body(const Batch& x, const HeadFn& head);
  Status value_rows(const float* xf, const int32_t* rows_d, int64_t R, float** xc, const void** xin, float** v);
  Status lm_logprob(const float* xf, const std::vector<int64_t>& rows, const int32_t* targets, float temperature,
                    float* logp, float* entropy);
  int64_t lm_chunk() const;

  const Backend& be_;
  Config cfg_;
  bool bf16_;
  std::vector<ParamInfo> params_;
  int64_t nparams_ = 0;
  int embed_idx_ = 0, norm_idx_ = 0, lm_idx_ = 0;
  int score_w_idx_ = -1, score_b_idx_ = -1;  // value head only
  std::vector<int> layer_base_;
  BackendBuf data_, grad_, adam_m_, adam_v_, wbf16_, inv_freq_;
  bool grads_ready_ = false, bf16_fresh_ = false;
  std::vector<BackendBuf> prep_;  // per parameter: its prepared form (linear_fwd), when stale: prep_fresh_ 0
  std::vector<char> prep_fresh_;
  // After optimizer_step the layers' weight-matrix gradients are zero but not written as such:
  // the next training pass overwrites them (see optimizer_step); readers see zeros (settle_grads).
  bool grads_stale_ = false;
  std::vector<std::pair<int64_t, int64_t>> matrix_ranges_, other_ranges_;  // (offset, count) in the flat buffer
  int64_t adam_step_ = 0;
  int64_t lm_chunk_override_ = 0;
  double act_budget_ = -1;
  bool last_keep_ = false;
  std::vector<BackendBuf> ws_;
  std::vector<std::unique_ptr<Acts>> acts_;  // [0] for no-grad / recompute; [0, L) when kept
  // KV cache: [L, b, cap, kv_dim] for K and V; mask [b, cap] (host copy + backend copy).
  BackendBuf cache_k_, cache_v_, cache_mask_dev_, dec_logits_;
  std::vector<float> cache_mask_;
  std::vector<int32_t> cache_count_;
  int64_t cache_b_ = 0, cache_cap_ = 0, cache_len_ = 0;
};

}  // namespace rlvr::engine
