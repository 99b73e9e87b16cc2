// Policy-loss arguments shared by the kernel and engine bindings: the KL type
// name, the clip options, and the stats object returned to JavaScript.
#pragma once
#include <napi.h>

#include <string>

#include "kernels/kernels.h"

namespace rlvr::binding {

// "kl"/"k1", "abs", "mse"/"k2", "low_var_kl"/"k3"; anything else fails naming klType.
kernels::KlType parse_kl(const std::string& s);
// clipLow in [0, 1), clipHigh >= 0, dualClip 0 (off) or > 1.
void check_clip(double lo, double hi, double dual);
// { total, pgLoss, klLoss, entropy, clipFrac, dualClipFrac, ppoKl, weightSum }
Napi::Object stats_to_js(Napi::Env env, const kernels::PolicyLossStats& s);

}  // namespace rlvr::binding
