// rlvr_ops_model_cpu_check: OpsModel on the CPU backend (the engine ops'
// references, cuda/engine/ref_cpu.cpp) against the CPU engine
// (native/src/engine: engine::Model) on tiny random Qwen2 and Llama configs,
// with the suite of cuda/tools/ops_model_suite.h. No CUDA needed: this is the
// check that the ops are assembled into the same model as model.cpp.
// Also: keep-vs-recompute gradients (bitwise) and, for information, how far
// the bf16 GEMM path moves the outputs (OpsModel bf16 vs fp32, both on CPU).
//   usage: rlvr_ops_model_cpu_check      exit 0 all passed, 1 any FAIL
#include "cuda/tools/ops_model_suite.h"
#include "engine/model.h"

using namespace rlvr;
using namespace rlvr::opscheck;

namespace {

struct ModelEngine : Engine {
  engine::Model m;
  explicit ModelEngine(const Config& c) : m(c) {}
  const std::vector<engine::ParamInfo>& params() const override { return m.params(); }
  int64_t num_parameters() const override { return m.num_parameters(); }
  Status set_parameters(const std::vector<float>& p) override {
    std::memcpy(m.param(0), p.data(), p.size() * 4);  // one flat buffer in registry order
    m.params_changed();
    return Status::Ok();
  }
  Status get_parameters(std::vector<float>* p) override {
    p->assign(m.param(0), m.param(0) + m.num_parameters());
    return Status::Ok();
  }
  Status get_gradients(std::vector<float>* g) override {
    g->assign(m.grad(0), m.grad(0) + m.num_parameters());
    return Status::Ok();
  }
  void set_lm_chunk_rows(int64_t rows) override { m.set_lm_chunk_rows(rows); }
  Status score(const Batch& x, const int32_t* t, const float* rm, float temp, float* lp, float* en) override {
    return m.score(x, t, rm, temp, lp, en);
  }
  Status forward_backward(const Batch& x, const int32_t* t, const float* ol, const float* rl, const float* ad,
                          const float* w, const LossOptions& o, float* lp, float* en,
                          kernels::PolicyLossStats* st) override {
    return m.forward_backward(x, t, ol, rl, ad, w, o, lp, en, st);
  }
  Status optimizer_step(const AdamWOptions& o, StepResult* r) override {
    *r = m.optimizer_step(o);
    return Status::Ok();
  }
  Status prefill(const Batch& x, int64_t cap, float* out) override { return m.prefill(x, cap, out); }
  Status step(const int32_t* tokens, float* out) override { return m.step(tokens, out); }
};

}  // namespace

int main() {
  // OpsModel (CPU backend) vs engine::Model, fp32. Both compute the same
  // formulas in the same op order; they differ only in (a) the GEMM, fp64
  // accumulation in the ops reference vs model.cpp's fp32 fixed-order panels
  // (~1e-7 relative per product), and (b) attention dot products' 16-lane
  // reduction (sequential vs a tree) and FMA contraction. Measured errors are
  // ~1e-6 of the values; the bounds are ~10x that.
  const Tolerances fp32{
      {2e-5, Measure::Abs, "fp32 logp ~O(5): measured <=1e-6"},
      {2e-5, Measure::Abs, "fp32 entropy ~O(4): measured <=1e-6"},
      {1e-5, Measure::Abs, "weighted means of the above"},
      {2e-5, Measure::Scaled, "fp32 backward through 2-3 layers: measured <=2e-6 of max|grad|"},
      {1e-5, Measure::Scaled, "fp64 sum of squares of ~equal gradients"},
      {2e-3, Measure::Abs, "AdamW step ~lr*sign(g): |dp/lr| error = relative grad error / |g| size, measured <=2e-4"},
      {2e-5, Measure::Scaled, "fp32 logits: measured <=1e-6 of max|logit|"},
  };
  // OpsModel bf16 GEMMs vs fp32 (both CPU): the bf16 rounding of weights and
  // activations (relative 2^-9) is the whole difference, so this bounds what the
  // bf16 path does to the outputs (and exercises its casts); loose by design.
  const Tolerances bf16{
      {0.15, Measure::Abs, "bf16 operand rounding: logp shifts ~1e-2"},
      {0.15, Measure::Abs, "bf16 operand rounding"},
      {0.05, Measure::Abs, "bf16 operand rounding"},
      {0.2, Measure::Scaled, "bf16 operands in every backward GEMM: a few % of max|grad|"},
      {0.05, Measure::Scaled, "bf16 operand rounding"},
      {2.5, Measure::Abs, "AdamW normalizes g: a gradient whose sign bf16 flips moves by up to 2 lr"},
      {0.1, Measure::Scaled, "bf16 operand rounding"},
  };
  Tally t;
  uint64_t seed = 11;
  for (const Case& c : tiny_cases()) {
    std::printf("# %s: OpsModel(cpu, fp32) vs engine::Model\n", c.name.c_str());
    {
      auto test = make_ops(engine::cpu_backend(), c.cfg, false);
      ModelEngine ref(c.cfg);
      run_suite(t, c.name, *test, ref, c.cfg, fp32, seed);
    }
    std::printf("# %s: OpsModel(cpu) keep vs recompute\n", c.name.c_str());
    check_recompute(t, c.name + ".fp32", engine::cpu_backend(), c.cfg, false, seed + 2);
    check_recompute(t, c.name + ".bf16", engine::cpu_backend(), c.cfg, true, seed + 3);
    std::printf("# %s: OpsModel(cpu, bf16 GEMMs) vs OpsModel(cpu, fp32)\n", c.name.c_str());
    {
      auto test = make_ops(engine::cpu_backend(), c.cfg, true);
      auto ref = make_ops(engine::cpu_backend(), c.cfg, false);
      run_suite(t, c.name + ".bf16-vs-fp32", *test, *ref, c.cfg, bf16, seed);
    }
    seed += 100;
  }
  std::printf("# ops model cpu check: %d passed, %d failed\n", t.pass, t.fail);
  return t.fail ? 1 : 0;
}
