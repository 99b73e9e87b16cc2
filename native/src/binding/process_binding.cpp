// exitNow(code): ends the process at once with `code`. process.exit() first joins
// libuv's thread pool, so it waits for an engine call in flight (a whole forward /
// backward) before the process ends; a second Ctrl-C must not wait for it.
// Nothing is flushed or cleaned up: the caller writes what it must say first
// (process.stderr is synchronous for files, pipes and terminals on POSIX).
#include "binding/process_binding.h"

#include <cmath>
#include <cstdlib>

#include "binding/errors.h"

namespace rlvr::binding {
namespace {

Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const double c = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(c >= 0 && c <= 255) || c != std::floor(c)) fail(Code::Value, "code", "expected an exit code in [0, 255]");
    std::_Exit(static_cast<int>(c));
  });
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) { exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow")); }

}  // namespace rlvr::binding
