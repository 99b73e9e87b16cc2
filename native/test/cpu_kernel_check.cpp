// Standalone check of the CPU kernels on every instruction-set path this
// machine runs (kernels/cpu/isa.h), with no Node or CUDA: what the ARM64 /
// macOS CI jobs run, and what can run under qemu-user. Built by
// `cmake --build native/build-check --target rlvr_cpu_kernel_check` (see
// native/CMakeLists.txt, RLVR_CPU_CHECK).
//
// GEMM: every output element must equal, bit for bit, a scalar reference that
// adds A(i,p)*B(p,j) for p = 0..K-1 in order from 0 (then + bias, then + C):
// with fmaf on the fused paths (avx512, avx2, neon, ARM64 generic), with the
// product rounded first on x86 generic. Shapes cover ragged panels, tails of
// every micro-tile, K blocking, transposed A, bias, accumulate, packed B and
// M = 1 (decode) against larger M (score). Row softmax: the fused paths agree
// bitwise; x86 generic within 1e-5 relative. Thread pool: every part of a
// region runs once with its fixed range. Exit status 0 when all hold.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_softmax.h"

using namespace rlvr;

namespace {

int failures = 0;
void fail(const std::string& what) {
  if (++failures <= 20) std::fprintf(stderr, "FAIL %s\n", what.c_str());
}

bool fused(cpu::Isa isa) {
#if defined(RLVR_ISA_X86)
  return isa != cpu::Isa::Generic;
#else
  (void)isa;
  return true;
#endif
}

float mul_add(float acc, float a, float b, bool fma) {
  if (fma) return std::fma(a, b, acc);
  volatile float prod = a * b;  // rounded on its own, as without FMA
  return acc + prod;
}

std::vector<float> rnd(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

void check_gemm(cpu::Isa isa, int64_t M, int64_t N, int64_t K, bool trans_a, bool with_bias, bool accumulate,
                bool packed) {
  const bool fma = fused(isa);
  const auto A = rnd(static_cast<size_t>(M * K), 1 + M * 7 + K), B = rnd(static_cast<size_t>(K * N), 2 + N + K * 3),
             bias = rnd(static_cast<size_t>(N), 3 + N), C0 = rnd(static_cast<size_t>(M * N), 4 + M + N);
  // A(i, p) = A[i * a_rs + p * a_cs]
  const int64_t a_rs = trans_a ? 1 : K, a_cs = trans_a ? M : 1;
  std::vector<float> C = C0;
  const float* bp = with_bias ? bias.data() : nullptr;
  if (packed) {
    // W [N, K] with W[j, p] = B[p, j]
    std::vector<float> W(static_cast<size_t>(N * K)), Wp(static_cast<size_t>(engine::packed_panel_floats(N, K)));
    for (int64_t j = 0; j < N; ++j)
      for (int64_t p = 0; p < K; ++p) W[j * K + p] = B[p * N + j];
    engine::pack_weight_panels(W.data(), N, K, Wp.data());
    engine::sgemm_bpacked(M, N, K, A.data(), a_rs, a_cs, Wp.data(), C.data(), N, accumulate, bp);
  } else {
    engine::sgemm(M, N, K, A.data(), a_rs, a_cs, B.data(), N, C.data(), N, accumulate, bp);
  }
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.f;
      for (int64_t p = 0; p < K; ++p) acc = mul_add(acc, A[i * a_rs + p * a_cs], B[p * N + j], fma);
      if (with_bias) acc = acc + bias[j];
      if (accumulate) acc = C0[i * N + j] + acc;
      if (std::memcmp(&acc, &C[i * N + j], sizeof acc) != 0) {
        fail(std::string(cpu::isa_name(isa)) + " gemm M=" + std::to_string(M) + " N=" + std::to_string(N) +
             " K=" + std::to_string(K) + (trans_a ? " A^T" : "") + (with_bias ? " bias" : "") +
             (accumulate ? " accumulate" : "") + (packed ? " packed" : "") + " at (" + std::to_string(i) + ", " +
             std::to_string(j) + "): " + std::to_string(C[i * N + j]) + " != reference " + std::to_string(acc));
        return;
      }
    }
}

struct SoftmaxOut {
  std::vector<float> lse, ent, grad;
};

SoftmaxOut softmax_rows() {
  const int64_t rows = 3, v = 5000;  // v spans several 2048 blocks and a ragged tail
  const auto z = rnd(static_cast<size_t>(rows * v), 99);
  SoftmaxOut o;
  o.grad.resize(z.size());
  for (int64_t r = 0; r < rows; ++r) {
    const cpu::RowResult res = cpu::row_forward(z.data() + r * v, DType::F32, v, 7, 0.8f);
    o.lse.push_back(res.lse);
    o.ent.push_back(res.entropy);
    cpu::row_backward(z.data() + r * v, DType::F32, o.grad.data() + r * v, DType::F32, v, 7, 0.8f, res.lse,
                      res.entropy, 0.5f, 0.25f);
  }
  return o;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool close(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::fabs(a[i] - b[i]) > 1e-5f * (1.f + std::fabs(b[i]))) return false;
  return a.size() == b.size();
}

// The pool hands out parts by claiming (parallel.cpp): every part of every
// region must run exactly once, with its fixed range and index, whichever
// thread takes it (run with RLVR_NUM_THREADS above the core count too).
void check_pool() {
  const int threads = cpu::num_threads();
  std::vector<std::atomic<int>> hits(static_cast<size_t>(64 * threads));
  for (int region = 0; region < 4000; ++region) {
    const int64_t n = 1 + region % (64 * threads);
    for (int64_t i = 0; i < n; ++i) hits[static_cast<size_t>(i)].store(0);
    std::atomic<int> bad{0};
    cpu::parallel_for(n, 1, [&](int64_t b, int64_t e, int part) {
      const int64_t parts = std::min<int64_t>(threads, n);
      if (b != n * part / parts || e != n * (part + 1) / parts) bad.fetch_add(1);
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i)
      if (hits[static_cast<size_t>(i)].load() != 1) bad.fetch_add(1);
    if (bad.load()) {
      fail("parallel_for region " + std::to_string(region) + " (n = " + std::to_string(n) + ", " +
           std::to_string(threads) + " threads): an index ran other than once, or a part had the wrong range");
      return;
    }
  }
}

}  // namespace

int main() {
  const std::vector<cpu::Isa> isas = cpu::supported_isas();
  std::string names;
  for (cpu::Isa i : isas) names += std::string(names.empty() ? "" : ", ") + cpu::isa_name(i);
  std::printf("paths: %s (auto: %s)\n", names.c_str(), cpu::isa_name(cpu::active_isa()));
  std::string why;
  if (cpu::set_isa("no-such-path", &why) || why.find("not a CPU path") == std::string::npos)
    fail("an unknown path name is refused with a reason (got \"" + why + "\")");

  bool have_ref = false;
  SoftmaxOut ref;
  cpu::Isa ref_isa = cpu::Isa::Generic;
  for (cpu::Isa isa : isas) {
    if (!cpu::set_isa(cpu::isa_name(isa), &why)) fail(std::string("set_isa ") + cpu::isa_name(isa) + ": " + why);
    if (cpu::active_isa() != isa) fail(std::string("active path is not ") + cpu::isa_name(isa));
    const int before = failures;
    for (int64_t M : {1, 2, 5, 6, 7, 13, 200})
      for (int64_t N : {1, 15, 16, 17, 32, 50, 96})
        for (int64_t K : {1, 7, 300})
          for (int flags = 0; flags < 16; ++flags)
            check_gemm(isa, M, N, K, flags & 1, flags & 2, flags & 4, flags & 8);
    check_gemm(isa, 390, 70, 600, false, true, true, false);  // several M blocks (whole-B packing), K blocks
    check_gemm(isa, 64, 40, 1200, true, false, true, false);  // K-block-major order (long K, small output)
    const SoftmaxOut o = softmax_rows();
    if (!have_ref || (fused(isa) && !fused(ref_isa))) {
      ref = o, ref_isa = isa, have_ref = true;
    } else if (fused(isa) == fused(ref_isa)) {
      if (!same_bits(o.lse, ref.lse) || !same_bits(o.ent, ref.ent) || !same_bits(o.grad, ref.grad))
        fail(std::string("row softmax on ") + cpu::isa_name(isa) + " differs bitwise from " + cpu::isa_name(ref_isa));
    } else if (!close(o.lse, ref.lse) || !close(o.ent, ref.ent) || !close(o.grad, ref.grad)) {
      fail(std::string("row softmax on ") + cpu::isa_name(isa) + " is not within 1e-5 of " + cpu::isa_name(ref_isa));
    }
    std::printf("%-8s %s\n", cpu::isa_name(isa), failures == before ? "ok" : "FAILED");
  }
  const int before = failures;
  check_pool();
  std::printf("pool     %s (%d threads)\n", failures == before ? "ok" : "FAILED", cpu::num_threads());
  std::printf("%s\n", failures ? "FAILED" : "all paths ok");
  return failures ? 1 : 0;
}
