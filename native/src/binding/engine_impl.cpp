// The EngineImpl implementation (engine_impl.h): thin forwarding to engine::OpsModel on the
// backend asked for, making the CUDA device current first where there is one.
#include "binding/engine_impl.h"

#include <algorithm>

#include "model/ops_model.h"

namespace rlvr::binding {

int EngineImpl::find_param(const std::string& name) const {
  const auto& ps = params();
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

// ---- every backend: engine::OpsModel ---------------------------------------------------

class OpsEngine final : public EngineImpl {
 public:
  // device: the CUDA ordinal, made current before every call (the CUDA ops run
  // on the current device); -1 for the CPU backends.
  OpsEngine(const char* name, int device, std::unique_ptr<engine::OpsModel> m)
      : name_(name), device_(device), m_(std::move(m)) {}

  const char* backend() const override { return name_; }
  const engine::Config& config() const override { return m_->config(); }
  const std::vector<engine::ParamInfo>& params() const override { return m_->params(); }
  int64_t num_parameters() const override { return m_->num_parameters(); }

  Status set_param(int i, const float* data) override {
    RLVR_TRY(enter());
    return m_->set_param(i, data);
  }
  Status get_param(int i, float* out) override {
    RLVR_TRY(enter());
    return m_->get_param(i, out);
  }
  Status get_grad(int i, float* out) override {
    RLVR_TRY(enter());
    return m_->get_grad(i, out);
  }
  Status get_adam(int i, float* m, float* v, int64_t* step) override {
    RLVR_TRY(enter());
    *step = m_->adam_step();
    return m_->get_adam(i, m, v);
  }
  Status set_adam(int64_t step, int i, const float* m, const float* v) override {
    RLVR_TRY(enter());
    return m_->set_adam(step, i, m, v);
  }
  Status zero_grad() override {
    RLVR_TRY(enter());
    return m_->zero_grad();
  }
  Status grad_norm(double* out) override {
    RLVR_TRY(enter());
    return m_->grad_norm(out);
  }
  Status score(const engine::Batch& x, const int32_t* t, const float* rm, float temp, float* lp,
               float* en) override {
    RLVR_TRY(enter());
    return m_->score(x, t, rm, temp, lp, en);
  }
  Status logits(const engine::Batch& x, float* out) override {
    RLVR_TRY(enter());
    return m_->logits(x, out);
  }
  Status forward_backward(const engine::Batch& x, const int32_t* t, const float* ol, const float* rl,
                          const float* ad, const float* w, const engine::LossOptions& o, float* lp, float* en,
                          kernels::PolicyLossStats* st) override {
    RLVR_TRY(enter());
    return m_->forward_backward(x, t, ol, rl, ad, w, o, lp, en, st);
  }
  Status optimizer_step(const engine::AdamWOptions& o, engine::StepResult* res) override {
    RLVR_TRY(enter());
    return m_->optimizer_step(o, res);
  }
  Status prefill(const engine::Batch& x, int64_t cap, float* out) override {
    RLVR_TRY(enter());
    return m_->prefill(x, cap, out);
  }
  Status step(const int32_t* tokens, float* out) override {
    RLVR_TRY(enter());
    return m_->step(tokens, out);
  }
  Status reset_cache() override {
    RLVR_TRY(enter());
    m_->reset_cache();
    return Status::Ok();
  }
  Status release_workspace() override {
    RLVR_TRY(enter());
    m_->release_scratch();
    return Status::Ok();
  }
  int64_t cache_rows() const override { return m_->cache_rows(); }
  void set_lm_chunk_rows(int64_t rows) override { m_->set_lm_chunk_rows(rows); }
  void set_act_budget_bytes(double bytes) override { m_->set_act_budget_bytes(bytes); }
  bool last_kept_activations() const override { return m_->last_kept_activations(); }
  Status score_prefixed(const engine::Batch& pre, const engine::Batch& ext, const int32_t* g, const int32_t* t,
                        const float* rm, float temp, float* lp, float* en) override {
    RLVR_TRY(enter());
    return m_->score_prefixed(pre, ext, g, t, rm, temp, lp, en);
  }
  Status values(const engine::Batch& x, const float* rm, float* out) override {
    RLVR_TRY(enter());
    return m_->values(x, rm, out);
  }
  Status value_forward_backward(const engine::Batch& x, const float* ov, const float* ret, const float* w, float clip,
                                float* vo, kernels::ValueLossStats* st) override {
    RLVR_TRY(enter());
    return m_->value_forward_backward(x, ov, ret, w, clip, vo, st);
  }
  bool supports_rollout() const override { return !m_->config().value_head; }
  Status rollout(const engine::RolloutRequest& r, engine::RolloutResult* out) override {
    RLVR_TRY(enter());
    return m_->rollout(r, out);
  }

  ~OpsEngine() override {
    // Device memory is freed on the device it was allocated on.
    if (device_ >= 0) (void)cuda::set_device(device_);
    m_.reset();
  }

 private:
  Status enter() const { return device_ >= 0 ? cuda::set_device(device_) : Status::Ok(); }

  const char* name_;
  int device_;
  std::unique_ptr<engine::OpsModel> m_;
};

}  // namespace

Status make_ops_engine(const std::string& backend, int device, engine::Config c, bool bf16_gemm,
                       std::unique_ptr<EngineImpl>* out) {
  const engine::Backend* be = nullptr;
  const char* name = nullptr;
  if (backend == "cpu") {
    be = &engine::cpu_backend();
    name = "cpu";
    device = -1;
  } else if (backend == "ops-cpu") {
    be = &engine::ref_backend();
    name = "ops-cpu";
    device = -1;
  } else if (backend == "cuda") {
    if (!cuda::compiled())
      return Status::Error(Code::Device, "backend",
                           "backend \"cuda\": rlvr was built without CUDA (nvcc was not found at build time); rebuild "
                           "with the CUDA toolkit, or use backend \"cpu\" (the same model code on the CPU)");
    RLVR_TRY(cuda::set_device(device));  // Code::Device naming "device" when it is absent
    be = engine::cuda_backend_for(device);
    if (!be)
      return Status::Error(Code::Device, "device",
                           "CUDA device " + std::to_string(device) + ": the engine supports devices 0.." +
                               std::to_string(engine::kMaxCudaBackends - 1));
    name = "cuda";
  } else {
    return Status::Error(Code::Value, "backend", "expected \"cpu\", \"ops-cpu\" or \"cuda\", got \"" + backend + "\"");
  }
  std::unique_ptr<engine::OpsModel> m;
  RLVR_TRY(engine::OpsModel::create(*be, std::move(c), bf16_gemm, &m));
  *out = std::make_unique<OpsEngine>(name, device, std::move(m));
  return Status::Ok();
}

}  // namespace rlvr::binding
