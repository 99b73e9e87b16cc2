// The engine's model-level errors, one definition, so every backend fails with the same argument and message (backends.test.ts compares them).
#pragma once
#include <cstdint>
#include <string>

#include "kernels/kernels.h"

namespace rlvr::engine {

// LM-head paths (score, logits, forward_backward, prefill) on a critic.
inline Status no_lm_head() {
  return Status::Error(Code::Value, "engine",
                       "this engine has a value head (a critic): it has no LM head for log-probs, logits or decoding");
}

// Value paths (values, value_forward_backward) on a policy.
inline Status no_value_head() {
  return Status::Error(Code::Value, "engine", "this engine has no value head: construct it with valueHead: true (a critic)");
}

inline Status bad_logits(int64_t row) {
  return Status::Error(Code::Value, "logits",
                       "row " + std::to_string(row) + " of the model's logits contains NaN or +inf (weights or activations "
                       "are non-finite)");
}

inline Status bad_value(int64_t row) {
  return Status::Error(Code::Value, "values",
                       "row " + std::to_string(row) + " has a non-finite value (weights or activations are non-finite)");
}

}  // namespace rlvr::engine
