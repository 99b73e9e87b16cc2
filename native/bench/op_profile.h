// A Backend (native/src/model/ops_model.h) that times every op of another one on the
// device (CUDA events around each call, default stream), for the benchmarks'
// per-op breakdown of a training step. The sum of op times against the step's
// wall time shows how much is host work and launch gaps. Bench-only: events
// cost host time, so the profiled step itself is not the one reported.
#pragma once
#include <cuda_runtime.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "model/ops_model.h"

namespace rlvr::engine::profile {

// Buckets: the ops, with the GEMMs split into the LM head's (a dimension equal
// to the vocabulary) and the rest.
enum Op : int {
  kUpload, kDownload, kCopy, kZero, kGemm, kGemmLm, kCast, kBiasBwd, kRmsFwd, kRmsBwd, kPositions, kRopeTable,
  kRope, kAttnFwd, kAttnBwd, kKvAppend, kSwigluFwd, kSwigluBwd, kSwigluFwd16, kSwigluBwd16, kEmbedFwd, kEmbedBwd, kGradNorm, kAdamw,
  kLogprob, kPolicyLoss, kValueLoss, kOps
};
inline const char* op_name(int i) {
  static const char* names[kOps] = {"upload", "download", "copy", "zero", "gemm_layers", "gemm_lm_head", "cast_bf16",
                                    "bias_bwd", "rmsnorm_fwd", "rmsnorm_bwd", "positions", "rope_table", "rope_apply",
                                    "attention_fwd", "attention_bwd", "kv_append", "swiglu_fwd", "swiglu_bwd",
                                    "swiglu_fwd_bf16", "swiglu_bwd_bf16",
                                    "embed_fwd", "embed_bwd", "grad_norm", "adamw", "logprob_fwd", "policy_loss",
                                    "value_loss"};
  return names[i];
}

struct State {
  const Backend* inner = nullptr;
  int64_t vocab = 0;
  bool on = false;
  std::vector<std::pair<int, std::pair<cudaEvent_t, cudaEvent_t>>> marks;
  std::vector<cudaEvent_t> pool;
  size_t used = 0;
  cudaEvent_t event() {
    if (used == pool.size()) {
      cudaEvent_t e;
      cudaEventCreate(&e);
      pool.push_back(e);
    }
    return pool[used++];
  }
};
inline State& state() {
  static State s;
  return s;
}

template <int Id, class... A>
Status timed(Status (*fn)(A...), A... a) {
  State& s = state();
  if (!s.on) return fn(a...);
  cudaEvent_t b = s.event(), e = s.event();
  cudaEventRecord(b, 0);
  Status st = fn(a...);
  cudaEventRecord(e, 0);
  s.marks.push_back({Id, {b, e}});
  return st;
}

template <auto Member, int Id, class F>
struct Wrap;
template <auto Member, int Id, class... A>
struct Wrap<Member, Id, Status (*)(A...)> {
  static Status call(A... a) { return timed<Id, A...>(state().inner->*Member, a...); }
};

inline Status gemm_split(const ops::GemmArgs& g) {
  State& s = state();
  const bool lm = g.m == s.vocab || g.n == s.vocab || g.k == s.vocab;
  return lm ? timed<kGemmLm, const ops::GemmArgs&>(s.inner->gemm, g) : timed<kGemm, const ops::GemmArgs&>(s.inner->gemm, g);
}

// The profiling Backend over `inner` (one per process: the wrappers are static).
inline const Backend& profiling_backend(const Backend& inner, int64_t vocab) {
  State& s = state();
  s.inner = &inner;
  s.vocab = vocab;
  static Backend b;
  b = inner;
#define RLVR_WRAP(field, id) b.field = &Wrap<&Backend::field, id, decltype(Backend::field)>::call
  RLVR_WRAP(upload, kUpload); RLVR_WRAP(download, kDownload); RLVR_WRAP(copy, kCopy); RLVR_WRAP(zero, kZero);
  b.gemm = gemm_split;
  RLVR_WRAP(cast_bf16, kCast); RLVR_WRAP(bias_bwd, kBiasBwd); RLVR_WRAP(rmsnorm_fwd, kRmsFwd);
  RLVR_WRAP(rmsnorm_bwd, kRmsBwd); RLVR_WRAP(positions, kPositions); RLVR_WRAP(rope_table, kRopeTable);
  RLVR_WRAP(rope_apply, kRope); RLVR_WRAP(rope_apply_bf16, kRope); RLVR_WRAP(attention_fwd, kAttnFwd); RLVR_WRAP(attention_bwd, kAttnBwd);
  RLVR_WRAP(kv_append, kKvAppend); RLVR_WRAP(swiglu_fwd, kSwigluFwd); RLVR_WRAP(swiglu_bwd, kSwigluBwd);
  RLVR_WRAP(swiglu_fwd_bf16, kSwigluFwd16); RLVR_WRAP(swiglu_bwd_bf16, kSwigluBwd16);
  RLVR_WRAP(embed_fwd, kEmbedFwd); RLVR_WRAP(embed_bwd, kEmbedBwd); RLVR_WRAP(grad_norm, kGradNorm);
  RLVR_WRAP(adamw, kAdamw); RLVR_WRAP(logprob_fwd, kLogprob); RLVR_WRAP(policy_loss, kPolicyLoss);
  RLVR_WRAP(value_loss, kValueLoss);
#undef RLVR_WRAP
  return b;
}

inline void start() {
  State& s = state();
  s.marks.clear();
  s.used = 0;
  s.on = true;
}

// Stops and returns per-bucket device milliseconds and call counts.
inline void stop(std::vector<double>* ms, std::vector<int>* calls) {
  State& s = state();
  s.on = false;
  cudaDeviceSynchronize();
  ms->assign(kOps, 0.0);
  calls->assign(kOps, 0);
  for (const auto& m : s.marks) {
    float t = 0.f;
    cudaEventElapsedTime(&t, m.second.first, m.second.second);
    (*ms)[m.first] += t;
    (*calls)[m.first] += 1;
  }
}

}  // namespace rlvr::engine::profile
