// The model behind a JavaScript Engine: engine::OpsModel (native/src/model/ops_model.h) over
// the backend asked for, so the binding (engine_binding.cpp: argument checking and conversions)
// is written once and never branches on the backend.
//   "cpu":     cpu_backend() (native/src/ops/cpu: the fast multi-threaded CPU ops), the default;
//   "ops-cpu": ref_backend() (native/src/ops/ref: the reference ops, fp64 GEMM accumulation,
//              single-threaded), the ground truth the CUDA ops are checked against;
//   "cuda":    cuda_backend_for(device).
// All pointers are host memory: OpsModel copies to and from its backend inside. The whole
// interface on every backend: packed segments, shared-prompt scoring and the value head (a
// critic). No Node-API here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/rollout.h"

namespace rlvr::binding {

class EngineImpl {
 public:
  virtual ~EngineImpl() = default;

  virtual const char* backend() const = 0;  // "cpu", "ops-cpu" or "cuda"
  virtual const engine::Config& config() const = 0;
  virtual const std::vector<engine::ParamInfo>& params() const = 0;
  int find_param(const std::string& name) const;
  virtual int64_t num_parameters() const = 0;

  // One parameter (index into params()), host data of its numel floats.
  virtual Status set_param(int i, const float* data) = 0;
  virtual Status get_param(int i, float* out) = 0;
  virtual Status get_grad(int i, float* out) = 0;
  virtual Status get_adam(int i, float* m, float* v, int64_t* step) = 0;
  virtual Status set_adam(int64_t step, int i, const float* m, const float* v) = 0;
  virtual Status zero_grad() = 0;
  virtual Status grad_norm(double* out) = 0;

  virtual Status score(const engine::Batch& x, const int32_t* targets, const float* row_mask, float temperature,
                       float* logp, float* entropy) = 0;
  virtual Status logits(const engine::Batch& x, float* out) = 0;
  virtual Status forward_backward(const engine::Batch& x, const int32_t* targets, const float* old_logp,
                                  const float* ref_logp, const float* advantages, const float* weights,
                                  const engine::LossOptions& o, float* logp, float* entropy,
                                  kernels::PolicyLossStats* stats) = 0;
  virtual Status optimizer_step(const engine::AdamWOptions& o, engine::StepResult* res) = 0;
  virtual Status prefill(const engine::Batch& x, int64_t capacity, float* out) = 0;
  virtual Status step(const int32_t* tokens, float* out) = 0;
  virtual Status reset_cache() = 0;
  // Frees the workspaces kept between calls (kept activations, LM-head chunk, decode logits) so
  // another phase can use the memory; the next call reallocates them. The KV cache stays.
  virtual Status release_workspace() = 0;
  virtual int64_t cache_rows() const = 0;  // rows of the active decode, 0 when none
  virtual void set_lm_chunk_rows(int64_t rows) = 0;
  // Bytes of kept activations before training recomputes per layer (< 0: the backend's default).
  virtual void set_act_budget_bytes(double bytes) = 0;
  // Whether the last training pass kept every layer's activations (false before any).
  virtual bool last_kept_activations() const = 0;
  // The critic (engine built with Config::value_head), every backend; on a policy
  // engine they fail with the engines' Value error (argument "engine").
  virtual Status values(const engine::Batch& x, const float* row_mask, float* out) = 0;
  virtual Status value_forward_backward(const engine::Batch& x, const float* old_values, const float* returns,
                                        const float* weights, float clip, float* values_out,
                                        kernels::ValueLossStats* stats) = 0;

  // Shared-prompt scoring (OpsModel::score_prefixed).
  virtual Status score_prefixed(const engine::Batch& prefix, const engine::Batch& ext, const int32_t* group,
                                const int32_t* targets, const float* row_mask, float temperature, float* logp,
                                float* entropy) = 0;

  // The native rollout (OpsModel::rollout): OpsModel backends only; the others say so with a
  // Value error naming "backend", and supports_rollout() lets callers take another path.
  virtual bool supports_rollout() const { return false; }
  virtual Status rollout(const engine::RolloutRequest&, engine::RolloutResult*) {
    return Status::Error(Code::Value, "backend",
                         std::string("backend \"") + backend() + "\" has no native rollout (use \"ops-cpu\" or \"cuda\")");
  }
};

// backend "cpu" or "ops-cpu" (device ignored), or "cuda" (device: CUDA ordinal).
// Errors: Device when CUDA is not compiled in or the device is absent, Internal on
// allocation failure.
Status make_ops_engine(const std::string& backend, int device, engine::Config c, bool bf16_gemm,
                       std::unique_ptr<EngineImpl>* out);

}  // namespace rlvr::binding
