#include "binding/loss_args.h"

#include "binding/errors.h"

namespace rlvr::binding {

kernels::KlType parse_kl(const std::string& s) {
  using kernels::KlType;
  if (s == "kl" || s == "k1") return KlType::K1;
  if (s == "abs") return KlType::Abs;
  if (s == "mse" || s == "k2") return KlType::Mse;
  if (s == "low_var_kl" || s == "k3") return KlType::LowVarKl;
  fail(Code::Value, "klType", "unknown KL type \"" + s + "\" (expected kl, abs, mse or low_var_kl)");
}

void check_clip(double lo, double hi, double dual) {
  if (!(lo >= 0 && lo < 1)) fail(Code::Value, "clipLow", "must be in [0, 1), got " + std::to_string(lo));
  if (!(hi >= 0)) fail(Code::Value, "clipHigh", "must be >= 0, got " + std::to_string(hi));
  if (dual != 0 && !(dual > 1)) fail(Code::Value, "dualClip", "must be 0 (off) or > 1, got " + std::to_string(dual));
}

Napi::Object stats_to_js(Napi::Env env, const kernels::PolicyLossStats& s) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("total", s.total);
  r.Set("pgLoss", s.pg_loss);
  r.Set("klLoss", s.kl_loss);
  r.Set("entropy", s.entropy);
  r.Set("clipFrac", s.clipfrac);
  r.Set("dualClipFrac", s.dual_clipfrac);
  r.Set("ppoKl", s.ppo_kl);
  r.Set("weightSum", s.weight_sum);
  return r;
}

}  // namespace rlvr::binding
