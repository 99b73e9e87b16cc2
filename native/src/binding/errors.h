// Typed errors for JavaScript: every failure becomes a Napi::Error carrying
// `code` (ERR_RLVR_SHAPE, ...) and `argument`, which packages/native maps to
// an error class. Nothing here aborts the process.
#pragma once
#include <napi.h>

#include <string>

#include "kernels/kernels.h"

namespace rlvr::binding {

// Thrown inside binding code; converted to a JS error at the function boundary.
struct ArgError {
  Code code;
  std::string argument;
  std::string message;
};

[[noreturn]] inline void fail(Code c, const std::string& arg, const std::string& msg) { throw ArgError{c, arg, msg}; }

inline void check(const Status& s) {
  if (!s.ok()) throw ArgError{s.code, s.argument, s.message};
}

Napi::Error to_js_error(Napi::Env env, const ArgError& e);

// Wraps a binding body so ArgError and std::exception become typed JS errors.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const ArgError& e) {
    to_js_error(info.Env(), e).ThrowAsJavaScriptException();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    to_js_error(info.Env(), {Code::Memory, "", "out of host memory"}).ThrowAsJavaScriptException();
  } catch (const std::exception& ex) {
    to_js_error(info.Env(), {Code::Internal, "", ex.what()}).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

}  // namespace rlvr::binding
