// The native rollout's request and result (OpsModel::rollout, ops_rollout.cpp), and the
// counter-based uniforms the sampler uses (packages/sampler/src/rng.ts), so that a sample's
// randomness depends only on (seed, global row, step) and never on scheduling.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

namespace rlvr::engine {

// rng.ts's fmix32 / counterUniform, bit for bit: Math.imul is the low 32 bits of the product,
// `x >>> 0` the value mod 2^32. stream < 2^53 (a JavaScript integer); step mod 2^32.
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}
inline float counter_uniform(uint32_t seed, uint64_t stream, uint32_t step) {
  uint32_t h = fmix32(seed ^ 0x9e3779b9u);
  h = fmix32(h ^ (static_cast<uint32_t>(stream) * 0x27d4eb2fu) ^ static_cast<uint32_t>(stream >> 32));
  h = fmix32(h ^ ((step + 0x165667b1u) * 0x61c88647u));
  return static_cast<float>(h >> 8) / 16777216.0f;  // 24 bits: exact in fp32
}

// Positions per slot window for sequences of up to w tokens (prompt + response): the margin
// past w is how many decode steps go between two shifts of the windows (ops_rollout.cpp).
inline int64_t rollout_window(int64_t w) { return w + (w / 8 > 16 ? w / 8 : 16); }

// Bytes of the rollout's KV cache (K and V, fp32) for `slots` windows of rollout_window(w).
inline double rollout_cache_bytes(int64_t layers, int64_t kv_dim, int64_t slots, int64_t w) {
  return 8.0 * static_cast<double>(layers) * static_cast<double>(kv_dim) * static_cast<double>(slots) *
         static_cast<double>(rollout_window(w));
}

enum class Finish : uint8_t { Eos = 0, Length = 1, Context = 2 };

// prompts: `count` token sequences, prompt i = ids[offsets[i], offsets[i + 1]). Rows are
// prompt-major: prompt p, sample k is global row p * n + k (its uniforms' stream).
struct RolloutRequest {
  const int32_t* ids = nullptr;
  const int64_t* offsets = nullptr;  // [count + 1]
  int64_t count = 0;
  int64_t n = 1;
  float temperature = 1.f;  // 0 = greedy
  float top_p = 1.f;
  int64_t top_k = 0;
  int64_t max_new_tokens = 1;
  std::vector<int32_t> eos;
  bool ignore_eos = false;  // benchmarks: every row runs to its length / context limit
  // Benchmarks: empty, or one length per row (>= 1); row r then ends with Finish::Eos once it
  // has forced_lengths[r] tokens, EOS ids ignored (generate.ts's forcedLengths).
  std::vector<int32_t> forced_lengths;
  uint32_t seed = 0;
  float logprob_temperature = 1.f;
  int64_t slots = 64;          // sequences decoded at once (the KV pool's rows)
  int64_t max_positions = 0;   // the model's context: prompt + response tokens
  // Called on the calling thread after the first samples and after each decode step.
  std::function<void(int64_t rows_done, int64_t tokens)> progress;
  const std::atomic<bool>* cancel = nullptr;  // set: the rollout stops at the next step
};

// Flat results over rows 0 .. count * n - 1: row r's tokens / log-probs are
// [offsets[r], offsets[r + 1]).
struct RolloutResult {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::vector<int64_t> offsets;
  std::vector<uint8_t> finish;  // Finish
};

}  // namespace rlvr::engine
