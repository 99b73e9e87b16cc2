// rlvr_ops_model_cpu_check: OpsModel on the CPU backend (native/src/ops/cpu, the engine's
// "cpu") against OpsModel on the reference ops (native/src/ops/ref, "ops-cpu") on tiny random
// Qwen2 / Qwen3 / Llama configs and a long-sequence run, with the suite of
// native/test/model_suite.h. No CUDA needed.
//  - cpu vs ref, policy and critic: within cpu_vs_ref_tolerances() (the GEMM's fp32 vs fp64
//    accumulation and attention's summation order are the only differences);
//  - each backend alone: keep-vs-recompute gradients (bitwise);
//  - the reference's bf16 GEMM path: how far it moves the outputs (bf16 vs fp32) and its
//    sensitivity to fp32-level noise, under the bounds the CUDA bf16 check
//    (rlvr_cuda_ops_model_check) uses.
// Tolerances: model_suite.h.
//   usage: rlvr_ops_model_cpu_check      exit 0 all passed, 1 any FAIL
#include "test/model_suite.h"

using namespace rlvr;
using namespace rlvr::opscheck;

int main() {
  Tally t;
  uint64_t seed = 11;
  const engine::Backend& cpu = engine::cpu_backend();
  const engine::Backend& ref = engine::ref_backend();
  for (const Case& c : tiny_cases()) {
    Config critic = c.cfg;
    critic.value_head = true;
    std::printf("# %s: OpsModel(cpu backend) vs OpsModel(ref), fp32\n", c.name.c_str());
    {
      auto test = make_ops(cpu, c.cfg, false), want = make_ops(ref, c.cfg, false);
      run_suite(t, c.name, *test, *want, c.cfg, cpu_vs_ref_tolerances(), seed);
    }
    std::printf("# %s critic (value head): OpsModel(cpu backend) vs OpsModel(ref), fp32\n", c.name.c_str());
    {
      auto test = make_ops(cpu, critic, false), want = make_ops(ref, critic, false);
      run_critic_suite(t, c.name + ".critic", *test, *want, critic, cpu_vs_ref_tolerances(), seed + 4);
    }
    std::printf("# %s: keep vs recompute\n", c.name.c_str());
    check_recompute(t, c.name + ".cpu.fp32", cpu, c.cfg, false, seed + 2);
    check_recompute(t, c.name + ".fp32", ref, c.cfg, false, seed + 2);
    check_recompute(t, c.name + ".bf16", ref, c.cfg, true, seed + 3);
    std::printf("# %s: OpsModel(ref, bf16 GEMMs) vs OpsModel(ref, fp32) (what bf16 does; smooth loss)\n",
                c.name.c_str());
    {
      auto test = make_ops(ref, c.cfg, true), want = make_ops(ref, c.cfg, false);
      run_suite(t, c.name + ".bf16-vs-fp32", *test, *want, c.cfg, bf16_vs_fp32_tolerances(), seed);
    }
    std::printf("# %s: OpsModel(ref, bf16) on weights x (1 + 1e-6 N) vs OpsModel(ref, bf16): the bounds the CUDA "
                "bf16 check uses\n", c.name.c_str());
    const Config* cfgs[2] = {&c.cfg, &critic};
    for (const Config* cfg : cfgs) {
      const std::string label = c.name + (cfg->value_head ? ".critic" : "") + ".bf16-noise";
      Engine test;
      test.perturb = 1e-6;
      Status s = engine::OpsModel::create(ref, *cfg, true, &test.m);
      expect_ok(t, label + ".create", s);
      auto want = make_ops(ref, *cfg, true);
      if (!s.ok()) continue;
      if (cfg->value_head)
        run_critic_suite(t, label, test, *want, *cfg, bf16_noise_tolerances(), seed + 4);
      else
        run_suite(t, label, test, *want, *cfg, bf16_noise_tolerances(), seed);
    }
    seed += 100;
  }
  {
    const Case c = tiny_cases().back();
    Config critic = c.cfg;
    critic.value_head = true;
    std::printf("# %s, long sequences: OpsModel(cpu backend) vs OpsModel(ref), fp32 (policy and critic)\n",
                c.name.c_str());
    auto test = make_ops(cpu, c.cfg, false), want = make_ops(ref, c.cfg, false);
    run_suite(t, c.name + ".long", *test, *want, c.cfg, cpu_vs_ref_tolerances(), seed, long_shapes());
    auto ctest = make_ops(cpu, critic, false), cwant = make_ops(ref, critic, false);
    run_critic_suite(t, c.name + ".critic.long", *ctest, *cwant, critic, cpu_vs_ref_tolerances(), seed + 4,
                     long_shapes());
  }
  std::printf("# ops model cpu check: %d passed, %d failed\n", t.pass, t.fail);
  return t.fail ? 1 : 0;
}
