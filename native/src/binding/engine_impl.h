// The model behind a JavaScript Engine: engine::OpsModel (native/src/model/ops_model.h) on the
// backend asked for, with the CUDA device made current before every call that touches backend
// memory (the CUDA ops run on the current device). The binding (engine_binding.cpp: argument
// checking and conversions) is written once over it and never branches on the backend.
//   "cpu":     cpu_backend() (native/src/ops/cpu: the fast multi-threaded CPU ops), the default;
//   "ops-cpu": ref_backend() (native/src/ops/ref: the reference ops, fp64 GEMM accumulation,
//              single-threaded), the ground truth the CUDA ops are checked against;
//   "cuda":    cuda_backend_for(device).
// All pointers are host memory: OpsModel copies to and from its backend inside. No Node-API here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/rollout.h"

namespace rlvr::engine {
class OpsModel;
}

namespace rlvr::binding {

class EngineImpl {
 public:
  // backend "cpu" or "ops-cpu" (device ignored), or "cuda" (device: CUDA ordinal). Errors: Device
  // when CUDA is not compiled in or the device is absent, Memory / Value from OpsModel::create.
  static Status create(const std::string& backend, int device, engine::Config c, bool bf16_gemm,
                       std::unique_ptr<EngineImpl>* out);
  ~EngineImpl();

  const char* backend() const { return name_; }  // "cpu", "ops-cpu" or "cuda"
  const engine::Config& config() const;
  const std::vector<engine::ParamInfo>& params() const;
  int find_param(const std::string& name) const;
  int64_t num_parameters() const;

  // One parameter (index into params()), host data of its numel floats.
  Status set_param(int i, const float* data);
  Status get_param(int i, float* out);
  Status get_grad(int i, float* out);
  Status get_adam(int i, float* m, float* v, int64_t* step);
  Status set_adam(int64_t step, int i, const float* m, const float* v);
  Status zero_grad();
  Status grad_norm(double* out);

  Status score(const engine::Batch& x, const int32_t* targets, const float* row_mask, float temperature, float* logp,
               float* entropy);
  Status logits(const engine::Batch& x, float* out);
  Status forward_backward(const engine::Batch& x, const int32_t* targets, const float* old_logp, const float* ref_logp,
                          const float* advantages, const float* weights, const engine::LossOptions& o, float* logp,
                          float* entropy, kernels::PolicyLossStats* stats);
  Status optimizer_step(const engine::AdamWOptions& o, engine::StepResult* res);
  Status prefill(const engine::Batch& x, int64_t capacity, float* out);
  Status step(const int32_t* tokens, float* out);
  Status reset_cache();
  // Frees the workspaces kept between calls (kept activations, LM-head chunk, decode logits) so
  // another phase can use the memory; the next call reallocates them. The KV cache stays.
  Status release_workspace();
  int64_t cache_rows() const;  // rows of the active decode, 0 when none
  void set_lm_chunk_rows(int64_t rows);
  // Bytes of kept activations before training recomputes per layer (< 0: the backend's default).
  void set_act_budget_bytes(double bytes);
  // Whether the last training pass kept every layer's activations (false before any).
  bool last_kept_activations() const;
  // The critic (engine built with Config::value_head); on a policy engine they fail with
  // OpsModel's Value error (argument "engine"), as the LM-head paths do on a critic.
  Status values(const engine::Batch& x, const float* row_mask, float* out);
  Status value_forward_backward(const engine::Batch& x, const float* old_values, const float* returns,
                                const float* weights, float clip, float* values_out, kernels::ValueLossStats* stats);
  // Shared-prompt scoring (OpsModel::score_prefixed).
  Status score_prefixed(const engine::Batch& prefix, const engine::Batch& ext, const int32_t* group,
                        const int32_t* targets, const float* row_mask, float temperature, float* logp, float* entropy);
  // The native rollout (OpsModel::rollout), on every backend; a critic has none.
  bool supports_rollout() const;
  Status rollout(const engine::RolloutRequest& r, engine::RolloutResult* out);

 private:
  EngineImpl(const char* name, int device, std::unique_ptr<engine::OpsModel> m);
  Status enter() const;  // makes the model's CUDA device current (no-op on the CPU backends)

  const char* name_;
  int device_;  // CUDA ordinal, -1 on the CPU backends
  std::unique_ptr<engine::OpsModel> m_;
};

}  // namespace rlvr::binding
