// rlvr_ops_model_cpu_check: OpsModel against the CPU engine (native/src/model: engine::Model)
// on tiny random Qwen2 / Qwen3 / Llama configs and a long-sequence run, with the suite of
// native/test/model_suite.h. No CUDA needed.
//  - OpsModel on the CPU backend (native/src/ops/cpu, the engine's "cpu"): bitwise equal to
//    engine::Model in everything the suite compares (log-probs, entropies, loss stats, full
//    logits, every gradient, the grad norm, parameters and AdamW moments after a step, prefill
//    and decode logits, score_prefixed, packed sequences; the critic's values, loss and
//    gradients), since both run the same op code in the same order;
//  - OpsModel on the reference ops (native/src/ops/ref, "ref" / "ops-cpu"): within bounds
//    (fp64 GEMM accumulation there), the check that the reference the CUDA ops are held to
//    assembles into the same model;
//  - OpsModel alone: keep-vs-recompute gradients (bitwise); how far the bf16 GEMM path moves
//    the outputs (bf16 vs fp32, both on CPU); and the bf16 path's sensitivity to fp32-level
//    noise, under the bounds the CUDA bf16 check (rlvr_cuda_ops_model_check) uses.
// Tolerances: model_suite.h.
//   usage: rlvr_ops_model_cpu_check      exit 0 all passed, 1 any FAIL
#include "test/model_suite.h"
#include "model/model.h"

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
  Status score_prefixed(const Batch& pre, const Batch& ext, const int32_t* g, const int32_t* t, const float* rm,
                        float temp, float* lp, float* en) override {
    return m.score_prefixed(pre, ext, g, t, rm, temp, lp, en);
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
  Status get_adam(int i, float* mo, float* v) override {
    m.get_adam(i, mo, v);
    return Status::Ok();
  }
  Status logits(const Batch& x, float* out) override { return m.logits(x, out); }
  Status prefill(const Batch& x, int64_t cap, float* out) override { return m.prefill(x, cap, out); }
  Status step(const int32_t* tokens, float* out) override { return m.step(tokens, out); }
  Status values(const Batch& x, const float* rm, float* out) override { return m.values(x, rm, out); }
  Status value_forward_backward(const Batch& x, const float* ov, const float* ret, const float* w, float clip,
                                float* vo, kernels::ValueLossStats* st) override {
    return m.value_forward_backward(x, ov, ret, w, clip, vo, st);
  }
};

}  // namespace

int main() {
  Tally t;
  uint64_t seed = 11;
  for (const Case& c : tiny_cases()) {
    std::printf("# %s: OpsModel(cpu backend) vs engine::Model, bitwise\n", c.name.c_str());
    {
      auto test = make_ops(engine::cpu_backend(), c.cfg, false);
      ModelEngine ref(c.cfg);
      run_suite(t, c.name + ".bitwise", *test, ref, c.cfg, bitwise_tolerances(), seed);
      Config critic = c.cfg;
      critic.value_head = true;
      auto ctest = make_ops(engine::cpu_backend(), critic, false);
      ModelEngine cref(critic);
      run_critic_suite(t, c.name + ".critic.bitwise", *ctest, cref, critic, bitwise_tolerances(), seed + 4);
    }
    check_recompute(t, c.name + ".cpu-backend.fp32", engine::cpu_backend(), c.cfg, false, seed + 2);
    std::printf("# %s: OpsModel(ref, fp32) vs engine::Model\n", c.name.c_str());
    {
      auto test = make_ops(engine::ref_backend(), c.cfg, false);
      ModelEngine ref(c.cfg);
      run_suite(t, c.name, *test, ref, c.cfg, cpu_vs_model_tolerances(), seed);
    }
    std::printf("# %s: OpsModel(cpu) keep vs recompute\n", c.name.c_str());
    check_recompute(t, c.name + ".fp32", engine::ref_backend(), c.cfg, false, seed + 2);
    check_recompute(t, c.name + ".bf16", engine::ref_backend(), c.cfg, true, seed + 3);
    std::printf("# %s: OpsModel(cpu, bf16 GEMMs) vs OpsModel(cpu, fp32) (what bf16 does; smooth loss)\n",
                c.name.c_str());
    {
      auto test = make_ops(engine::ref_backend(), c.cfg, true);
      auto ref = make_ops(engine::ref_backend(), c.cfg, false);
      run_suite(t, c.name + ".bf16-vs-fp32", *test, *ref, c.cfg, bf16_vs_fp32_tolerances(), seed);
    }
    std::printf("# %s: OpsModel(cpu, bf16) on weights x (1 + 1e-6 N) vs OpsModel(cpu, bf16): the bounds the CUDA "
                "bf16 check uses\n", c.name.c_str());
    {
      PerturbedOpsEngine test;
      Status s = engine::OpsModel::create(engine::ref_backend(), c.cfg, true, &test.m);
      expect_ok(t, c.name + ".bf16-noise.create", s);
      auto ref = make_ops(engine::ref_backend(), c.cfg, true);
      if (s.ok()) run_suite(t, c.name + ".bf16-noise", test, *ref, c.cfg, bf16_noise_tolerances(), seed);
    }
    Config critic = c.cfg;
    critic.value_head = true;
    std::printf("# %s critic (value head): OpsModel(cpu, fp32) vs engine::Model\n", c.name.c_str());
    {
      auto test = make_ops(engine::ref_backend(), critic, false);
      ModelEngine ref(critic);
      run_critic_suite(t, c.name + ".critic", *test, ref, critic, cpu_vs_model_tolerances(), seed + 4);
    }
    std::printf("# %s critic: OpsModel(cpu, bf16) on weights x (1 + 1e-6 N) vs OpsModel(cpu, bf16)\n",
                c.name.c_str());
    {
      PerturbedOpsEngine test;
      Status s = engine::OpsModel::create(engine::ref_backend(), critic, true, &test.m);
      expect_ok(t, c.name + ".critic.bf16-noise.create", s);
      auto ref = make_ops(engine::ref_backend(), critic, true);
      if (s.ok()) run_critic_suite(t, c.name + ".critic.bf16-noise", test, *ref, critic, bf16_noise_tolerances(), seed + 4);
    }
    seed += 100;
  }
  {
    const Case c = tiny_cases().back();
    std::printf("# %s, long sequences: OpsModel(cpu backend) vs engine::Model, bitwise\n", c.name.c_str());
    {
      auto test = make_ops(engine::cpu_backend(), c.cfg, false);
      ModelEngine ref(c.cfg);
      run_suite(t, c.name + ".long.bitwise", *test, ref, c.cfg, bitwise_tolerances(), seed, long_shapes());
      Config critic = c.cfg;
      critic.value_head = true;
      auto ctest = make_ops(engine::cpu_backend(), critic, false);
      ModelEngine cref(critic);
      run_critic_suite(t, c.name + ".critic.long.bitwise", *ctest, cref, critic, bitwise_tolerances(), seed + 4,
                       long_shapes());
    }
    std::printf("# %s, long sequences: OpsModel(ref, fp32) vs engine::Model\n", c.name.c_str());
    auto test = make_ops(engine::ref_backend(), c.cfg, false);
    ModelEngine ref(c.cfg);
    run_suite(t, c.name + ".long", *test, ref, c.cfg, cpu_vs_model_tolerances(), seed, long_shapes());
    Config critic = c.cfg;
    critic.value_head = true;
    std::printf("# %s critic, long sequences: OpsModel(ref, fp32) vs engine::Model\n", c.name.c_str());
    auto ctest = make_ops(engine::ref_backend(), critic, false);
    ModelEngine cref(critic);
    run_critic_suite(t, c.name + ".critic.long", *ctest, cref, critic, cpu_vs_model_tolerances(), seed + 4,
                     long_shapes());
  }
  std::printf("# ops model cpu check: %d passed, %d failed\n", t.pass, t.fail);
  return t.fail ? 1 : 0;
}
