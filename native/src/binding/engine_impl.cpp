// EngineImpl (engine_impl.h): engine::OpsModel on the backend asked for; each call that
// touches backend memory first makes the model's CUDA device current.
#include "binding/engine_impl.h"

#include "model/ops_model.h"

namespace rlvr::binding {

Status EngineImpl::create(const std::string& backend, int device, engine::Config c, bool bf16_gemm,
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
  out->reset(new EngineImpl(name, device, std::move(m)));
  return Status::Ok();
}

EngineImpl::EngineImpl(const char* name, int device, std::unique_ptr<engine::OpsModel> m)
    : name_(name), device_(device), m_(std::move(m)) {}

EngineImpl::~EngineImpl() {
  // Device memory is freed on the device it was allocated on.
  if (device_ >= 0) (void)cuda::set_device(device_);
  m_.reset();
}

Status EngineImpl::enter() const { return device_ >= 0 ? cuda::set_device(device_) : Status::Ok(); }

const engine::Config& EngineImpl::config() const { return m_->config(); }
const std::vector<engine::ParamInfo>& EngineImpl::params() const { return m_->params(); }
int EngineImpl::find_param(const std::string& name) const { return m_->find_param(name); }
int64_t EngineImpl::num_parameters() const { return m_->num_parameters(); }
int64_t EngineImpl::cache_rows() const { return m_->cache_rows(); }
void EngineImpl::set_lm_chunk_rows(int64_t rows) { m_->set_lm_chunk_rows(rows); }
void EngineImpl::set_act_budget_bytes(double bytes) { m_->set_act_budget_bytes(bytes); }
bool EngineImpl::last_kept_activations() const { return m_->last_kept_activations(); }
bool EngineImpl::supports_rollout() const { return !m_->config().value_head; }

Status EngineImpl::set_param(int i, const float* data) {
  RLVR_TRY(enter());
  return m_->set_param(i, data);
}
Status EngineImpl::get_param(int i, float* out) {
  RLVR_TRY(enter());
  return m_->get_param(i, out);
}
Status EngineImpl::get_grad(int i, float* out) {
  RLVR_TRY(enter());
  return m_->get_grad(i, out);
}
Status EngineImpl::get_adam(int i, float* m, float* v, int64_t* step) {
  RLVR_TRY(enter());
  *step = m_->adam_step();
  return m_->get_adam(i, m, v);
}
Status EngineImpl::set_adam(int64_t step, int i, const float* m, const float* v) {
  RLVR_TRY(enter());
  return m_->set_adam(step, i, m, v);
}
Status EngineImpl::zero_grad() {
  RLVR_TRY(enter());
  return m_->zero_grad();
}
Status EngineImpl::grad_norm(double* out) {
  RLVR_TRY(enter());
  return m_->grad_norm(out);
}
Status EngineImpl::score(const engine::Batch& x, const int32_t* t, const float* rm, float temp, float* lp, float* en) {
  RLVR_TRY(enter());
  return m_->score(x, t, rm, temp, lp, en);
}
Status EngineImpl::logits(const engine::Batch& x, float* out) {
  RLVR_TRY(enter());
  return m_->logits(x, out);
}
Status EngineImpl::forward_backward(const engine::Batch& x, const int32_t* t, const float* ol, const float* rl,
                                    const float* ad, const float* w, const engine::LossOptions& o, float* lp, float* en,
                                    kernels::PolicyLossStats* st) {
  RLVR_TRY(enter());
  return m_->forward_backward(x, t, ol, rl, ad, w, o, lp, en, st);
}
Status EngineImpl::optimizer_step(const engine::AdamWOptions& o, engine::StepResult* res) {
  RLVR_TRY(enter());
  return m_->optimizer_step(o, res);
}
Status EngineImpl::prefill(const engine::Batch& x, int64_t cap, float* out) {
  RLVR_TRY(enter());
  return m_->prefill(x, cap, out);
}
Status EngineImpl::step(const int32_t* tokens, float* out) {
  RLVR_TRY(enter());
  return m_->step(tokens, out);
}
Status EngineImpl::reset_cache() {
  RLVR_TRY(enter());
  m_->reset_cache();
  return Status::Ok();
}
Status EngineImpl::release_workspace() {
  RLVR_TRY(enter());
  m_->release_scratch();
  return Status::Ok();
}
Status EngineImpl::score_prefixed(const engine::Batch& pre, const engine::Batch& ext, const int32_t* g,
                                  const int32_t* t, const float* rm, float temp, float* lp, float* en) {
  RLVR_TRY(enter());
  return m_->score_prefixed(pre, ext, g, t, rm, temp, lp, en);
}
Status EngineImpl::values(const engine::Batch& x, const float* rm, float* out) {
  RLVR_TRY(enter());
  return m_->values(x, rm, out);
}
Status EngineImpl::value_forward_backward(const engine::Batch& x, const float* ov, const float* ret, const float* w,
                                          float clip, float* vo, kernels::ValueLossStats* st) {
  RLVR_TRY(enter());
  return m_->value_forward_backward(x, ov, ret, w, clip, vo, st);
}
Status EngineImpl::rollout(const engine::RolloutRequest& r, engine::RolloutResult* out) {
  RLVR_TRY(enter());
  return m_->rollout(r, out);
}

}  // namespace rlvr::binding
