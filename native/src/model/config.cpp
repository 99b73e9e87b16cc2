// validate_config (config.h): the one check of a model config, for every backend.
#include <cmath>

#include "model/config.h"

namespace rlvr::engine {

Status validate_config(const Config& c) {
  auto bad = [](const char* field, const char* msg, Code code = Code::Value) { return Status::Error(code, field, msg); };
  if (c.vocab < 1) return bad("vocabSize", "must be >= 1");
  if (c.hidden < 1) return bad("hiddenSize", "must be >= 1");
  if (c.inter < 1) return bad("intermediateSize", "must be >= 1");
  if (c.layers < 1) return bad("numLayers", "must be >= 1");
  if (c.heads < 1) return bad("numHeads", "must be >= 1");
  if (c.kv_heads < 1 || c.heads % c.kv_heads != 0) return bad("numKvHeads", "must be >= 1 and divide numHeads");
  if (c.head_dim < 2 || c.head_dim % 2 != 0) return bad("headDim", "must be even and >= 2");
  if (!(c.rms_eps > 0) || !std::isfinite(c.rms_eps)) return bad("rmsNormEps", "must be a finite number > 0");
  if (static_cast<int64_t>(c.inv_freq.size()) != c.head_dim / 2) return bad("invFreq", "must have headDim / 2 entries", Code::Shape);
  for (float f : c.inv_freq)
    if (!std::isfinite(f) || f < 0) return bad("invFreq", "entries must be finite and >= 0", Code::Shape);
  const double total = static_cast<double>(c.vocab) * c.hidden * (c.tied || c.value_head ? 1 : 2) +
                       static_cast<double>(c.layers) *
                           (2.0 * c.hidden * (c.heads + c.kv_heads) * c.head_dim + 3.0 * c.hidden * c.inter + (c.qk_norm ? 2.0 * c.head_dim : 0));
  if (total > 4.0e9) return bad("config", "more than 4e9 parameters is beyond the engine");
  return Status::Ok();
}

}  // namespace rlvr::engine
