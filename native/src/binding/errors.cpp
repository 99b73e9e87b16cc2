#include "binding/errors.h"

namespace rlvr::binding {

static const char* code_name(Code c) {
  switch (c) {
    case Code::Shape: return "ERR_RLVR_SHAPE";
    case Code::DType: return "ERR_RLVR_DTYPE";
    case Code::Range: return "ERR_RLVR_RANGE";
    case Code::Value: return "ERR_RLVR_VALUE";
    case Code::Device: return "ERR_RLVR_DEVICE";
    case Code::Internal: return "ERR_RLVR_INTERNAL";
    case Code::Memory: return "ERR_RLVR_OUT_OF_MEMORY";
    case Code::Ok: break;
  }
  return "ERR_RLVR_INTERNAL";
}

Napi::Error to_js_error(Napi::Env env, const ArgError& e) {
  std::string msg = e.argument.empty() ? e.message : e.argument + ": " + e.message;
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code_name(e.code)));
  err.Set("argument", Napi::String::New(env, e.argument));
  return err;
}

}  // namespace rlvr::binding
