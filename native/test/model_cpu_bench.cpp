// rlvr_ops_model_cpu_bench: engine::Model vs OpsModel on the CPU backend, the same work
// interleaved (A, B, A, B, ...) so that load from other processes hits both alike; prints
// the median milliseconds of each and the ratio OpsModel / Model. The model is the shape of
// the README's main job (`pnpm rlvr train`: Qwen2, hidden 128, 4 layers, vocab 499).
//   usage: rlvr_ops_model_cpu_bench [reps=15] [batch=16] [seq=48]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "model/model.h"
#include "kernels/cpu/parallel.h"
#include "test/model_suite.h"

using namespace rlvr;
using namespace rlvr::opscheck;

namespace {

struct ModelPair {  // the same weights in both
  engine::Model m;
  std::unique_ptr<OpsEngine> o;
  explicit ModelPair(const Config& c) : m(c), o(make_ops(engine::cpu_backend(), c, false)) {
    std::vector<float> w = random_weights(m.params(), m.num_parameters(), 3);
    std::copy(w.begin(), w.end(), m.param(0));
    m.params_changed();
    (void)o->set_parameters(w);
  }
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 15;
  const int64_t B = argc > 2 ? std::atoll(argv[2]) : 16, T = argc > 3 ? std::atoll(argv[3]) : 48;
  Config c;
  c.vocab = 499; c.hidden = 128; c.inter = 384; c.layers = 4; c.heads = 4; c.kv_heads = 2; c.head_dim = 32;
  c.qkv_bias = true; c.tied = true; c.inv_freq = rope_inv_freq(32, 10000);
  ModelPair p(c);
  Rng rng(7);
  PaddedBatch x = padded_batch(B, T, 5, 3, c.vocab, rng);
  const size_t n = x.ids.size();
  std::vector<float> old(n), ref(n), adv(n), wts(n), lp(n), en(n), lg(static_cast<size_t>(B * c.vocab));
  for (size_t i = 0; i < n; ++i) {
    old[i] = -3.f + rng.normal(); ref[i] = -3.f + rng.normal(); adv[i] = rng.normal(); wts[i] = x.mask[i] / n;
  }
  LossOptions lo;
  lo.kl_coef = 0.05f;
  AdamWOptions ao;
  StepResult sr;
  kernels::PolicyLossStats st;
  PaddedBatch pr = padded_batch(B, T / 2, 3, 0, c.vocab, rng);
  const int64_t steps = 16;
  std::vector<int32_t> tok(static_cast<size_t>(B), 5);
  // What one engine does per rep: train (forward_backward + AdamW), score, prefill + decode steps.
  using Work = std::function<void()>;
  Work model_train = [&] {
    (void)p.m.forward_backward(x.batch(), x.targets.data(), old.data(), ref.data(), adv.data(), wts.data(), lo,
                               lp.data(), en.data(), &st);
    p.m.optimizer_step(ao);
  };
  Work ops_train = [&] {
    (void)p.o->forward_backward(x.batch(), x.targets.data(), old.data(), ref.data(), adv.data(), wts.data(), lo,
                                lp.data(), en.data(), &st);
    (void)p.o->optimizer_step(ao, &sr);
  };
  Work model_score = [&] { (void)p.m.score(x.batch(), x.targets.data(), nullptr, 1.f, lp.data(), en.data()); };
  Work ops_score = [&] { (void)p.o->score(x.batch(), x.targets.data(), nullptr, 1.f, lp.data(), en.data()); };
  Work model_decode = [&] {
    (void)p.m.prefill(pr.batch(), pr.t + steps, lg.data());
    for (int64_t s = 0; s < steps; ++s) (void)p.m.step(tok.data(), lg.data());
  };
  Work ops_decode = [&] {
    (void)p.o->prefill(pr.batch(), pr.t + steps, lg.data());
    for (int64_t s = 0; s < steps; ++s) (void)p.o->step(tok.data(), lg.data());
  };
  const struct { const char* name; Work* a; Work* b; } cases[] = {
      {"train", &model_train, &ops_train}, {"score", &model_score, &ops_score}, {"decode", &model_decode, &ops_decode}};
  std::printf("{\"batch\": %lld, \"seq\": %lld, \"reps\": %d, \"threads\": %d", static_cast<long long>(B),
              static_cast<long long>(T), reps, cpu::num_threads());
  for (const auto& cs : cases) {
    std::vector<double> ta, tb;
    (*cs.a)();  // warm-up (allocations, packed weights)
    (*cs.b)();
    for (int r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      (*cs.a)();
      ta.push_back(ms_since(t0));
      t0 = std::chrono::steady_clock::now();
      (*cs.b)();
      tb.push_back(ms_since(t0));
    }
    std::printf(", \"%s\": {\"model_ms\": %.3f, \"ops_cpu_ms\": %.3f, \"ratio\": %.3f}", cs.name, median(ta), median(tb),
                median(tb) / median(ta));
  }
  std::printf("}\n");
  return 0;
}
