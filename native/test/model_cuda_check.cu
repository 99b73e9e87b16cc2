// rlvr_cuda_ops_model_check: OpsModel on the CUDA backend against OpsModel on
// the reference ops (ref_backend(); "cpu" in the labels), with
// the suite of model_suite.h, on the tiny Qwen2 / Llama / head_dim-128
// configs and a long-sequence run:
//   - fp32 GEMMs: cuda_fp32_tolerances();
//   - bf16 GEMMs on both (same bf16 math; on CUDA cuBLAS when it loads, and the
//     WMMA kernel): bf16_noise_tolerances() (looser:
//     fp32-level differences flip bf16 roundings; the CPU check shows the
//     bounds hold for 1e-6 weight noise);
//   - keep-all-activations vs per-layer recompute on the device: bitwise.
// PASS/FAIL lines; exit 0 all passed, 1 any FAIL, 2 no device, 3 a setup error.
//   usage: rlvr_cuda_ops_model_check [--quick]   (--quick: no long run)
#include <cstring>

#include "ops/cuda/cublas_gemm.h"
#include "test/model_suite.h"

using namespace rlvr;
using namespace rlvr::opscheck;

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (cuda::device_count() < 1) {
    std::printf("# no CUDA device: nothing checked\n");
    return 2;
  }
  cuda::DeviceInfo di;
  if (cuda::device_info(0, &di).ok()) std::printf("# device: %s\n", di.name.c_str());
  const engine::Backend& gpu = engine::cuda_backend();
  const engine::Backend& cpu = engine::ref_backend();
  const bool cublas = engine::ops::bf16_gemm_impl().rfind("cublas", 0) == 0;
  std::printf("# bf16 GEMMs: %s\n", engine::ops::bf16_gemm_impl().c_str());
  Tally t;
  uint64_t seed = 11;  // the CPU check's seeds: same weights and batches
  for (const Case& c : tiny_cases()) {
    std::printf("# %s: OpsModel(cuda, fp32) vs OpsModel(cpu, fp32)\n", c.name.c_str());
    {
      auto test = make_ops(gpu, c.cfg, false);
      auto ref = make_ops(cpu, c.cfg, false);
      run_suite(t, c.name + ".cuda-fp32", *test, *ref, c.cfg, cuda_fp32_tolerances(), seed);
    }
    // bf16: the default GEMM (cuBLAS when it loads), then the WMMA kernel too.
    for (const bool wmma : {false, true}) {
      if (wmma && !cublas) break;
      engine::ops::set_cublas_enabled(!wmma);
      const std::string label = c.name + (wmma ? ".cuda-bf16-wmma" : ".cuda-bf16");
      std::printf("# %s: OpsModel(cuda, bf16 GEMMs on %s) vs OpsModel(cpu, bf16)\n", c.name.c_str(),
                  engine::ops::bf16_gemm_impl().c_str());
      auto test = make_ops(gpu, c.cfg, true);
      auto ref = make_ops(cpu, c.cfg, true);
      run_suite(t, label, *test, *ref, c.cfg, bf16_noise_tolerances(), seed);
    }
    engine::ops::set_cublas_enabled(cublas);
    std::printf("# %s: OpsModel(cuda) keep vs recompute\n", c.name.c_str());
    check_recompute(t, c.name + ".cuda-fp32", gpu, c.cfg, false, seed + 2);
    check_recompute(t, c.name + ".cuda-bf16", gpu, c.cfg, true, seed + 3);
    Config critic = c.cfg;
    critic.value_head = true;
    std::printf("# %s critic (value head): OpsModel(cuda) vs OpsModel(cpu), fp32 and bf16\n", c.name.c_str());
    {
      auto test = make_ops(gpu, critic, false);
      auto ref = make_ops(cpu, critic, false);
      run_critic_suite(t, c.name + ".critic.cuda-fp32", *test, *ref, critic, cuda_fp32_tolerances(), seed + 4);
    }
    {
      auto test = make_ops(gpu, critic, true);
      auto ref = make_ops(cpu, critic, true);
      run_critic_suite(t, c.name + ".critic.cuda-bf16", *test, *ref, critic, bf16_noise_tolerances(), seed + 4);
    }
    seed += 100;
  }
  if (!quick) {
    const Case c = tiny_cases().back();
    std::printf("# %s, long sequences: OpsModel(cuda, fp32) vs OpsModel(cpu, fp32)\n", c.name.c_str());
    auto test = make_ops(gpu, c.cfg, false);
    auto ref = make_ops(cpu, c.cfg, false);
    run_suite(t, c.name + ".long.cuda-fp32", *test, *ref, c.cfg, cuda_fp32_tolerances(), seed, long_shapes());
    Config critic = c.cfg;
    critic.value_head = true;
    auto ctest = make_ops(gpu, critic, false);
    auto cref = make_ops(cpu, critic, false);
    run_critic_suite(t, c.name + ".critic.long.cuda-fp32", *ctest, *cref, critic, cuda_fp32_tolerances(), seed + 4,
                     long_shapes());
  }
  Status s = cuda::synchronize();
  if (!s.ok()) {
    std::printf("FAIL device error at exit: %s\n", s.message.c_str());
    t.fail++;
  }
  std::printf("# ops model cuda check: %d passed, %d failed\n", t.pass, t.fail);
  return t.fail ? 1 : 0;
}
