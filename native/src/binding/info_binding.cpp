#include "binding/info_binding.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "binding/errors.h"
#include "binding/malloc_tuning.h"
#include "ops/cuda/cublas_gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/parallel.h"
#include "kernels/kernels.h"

#ifndef RLVR_CUDA_COMPILER_VERSION
#define RLVR_CUDA_COMPILER_VERSION ""
#endif

namespace rlvr::binding {
namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("cudaCompiled", cuda::compiled());
  o.Set("cudaCompilerVersion", RLVR_CUDA_COMPILER_VERSION);
  o.Set("cudaArchs", cuda::compiled() ? RLVR_CUDA_ARCHS : "");
  o.Set("cudaRuntimeVersion", cuda::runtime_version());
  o.Set("cxxCompiler", RLVR_CXX_COMPILER);
  o.Set("buildType", RLVR_BUILD_TYPE);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("cpuThreads", cpu::num_threads());
  const MallocTuning& m = apply_malloc_tuning();
  Napi::Object mt = Napi::Object::New(env);
  mt.Set("applied", m.applied);
  mt.Set("mmapThreshold", static_cast<double>(m.mmap_threshold));
  mt.Set("trimThreshold", static_cast<double>(m.trim_threshold));
  o.Set("mallocTuning", mt);
  return o;
}

Napi::Value Devices(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    int count = cuda::device_count();
    Napi::Array arr = Napi::Array::New(env, count);
    for (int i = 0; i < count; ++i) {
      cuda::DeviceInfo d;
      check(cuda::device_info(i, &d));
      Napi::Object o = Napi::Object::New(env);
      o.Set("index", i);
      o.Set("name", d.name);
      o.Set("totalMemory", static_cast<double>(d.total_mem));
      o.Set("freeMemory", static_cast<double>(d.free_mem));
      o.Set("computeCapability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
      o.Set("multiprocessors", d.sm_count);
      arr.Set(i, o);
    }
    return arr;
  });
}

int device_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) fail(Code::Value, "device", "expected a device index (a number)");
  const double d = info[0].As<Napi::Number>().DoubleValue();
  if (d != static_cast<int>(d) || d < 0) fail(Code::Value, "device", "must be a non-negative integer");
  return static_cast<int>(d);
}

// deviceMemory(device) -> { inUse, peak }: bytes rlvr holds on the device now and at most since
// the last resetDeviceMemoryPeak(device).
Napi::Value DeviceMemory(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cuda::MemoryStats m;
    check(cuda::memory_stats(device_arg(info), &m));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("inUse", static_cast<double>(m.in_use));
    o.Set("peak", static_cast<double>(m.peak));
    return o;
  });
}

Napi::Value ResetDeviceMemoryPeak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    check(cuda::reset_memory_peak(device_arg(info)));
    return info.Env().Undefined();
  });
}

// What runs the CUDA engine's bf16 GEMMs (cuBLAS loaded at run time, or the
// WMMA kernel with the reason); asks the loader, so it also answers on a
// machine without a device (the loader's own error paths are testable there).
Napi::Value Bf16GemmImpl(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), engine::ops::bf16_gemm_impl());
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  o.Set("avx2", static_cast<bool>(__builtin_cpu_supports("avx2")));
  o.Set("fma", static_cast<bool>(__builtin_cpu_supports("fma")));
  o.Set("avx512f", static_cast<bool>(__builtin_cpu_supports("avx512f")));
  o.Set("avx512bw", static_cast<bool>(__builtin_cpu_supports("avx512bw")));
  o.Set("avx512bf16", static_cast<bool>(__builtin_cpu_supports("avx512bf16")));
#endif
  return o;
}

// The CPU kernels' instruction-set path (kernels/cpu/isa.h): the one in use,
// the ones this CPU and build run, and why RLVR_CPU_ISA was not followed.
Napi::Value CpuIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("active", cpu::isa_name(cpu::active_isa()));
  const std::vector<cpu::Isa> sup = cpu::supported_isas();
  Napi::Array arr = Napi::Array::New(env, sup.size());
  for (size_t i = 0; i < sup.size(); ++i) arr.Set(static_cast<uint32_t>(i), cpu::isa_name(sup[i]));
  o.Set("supported", arr);
  const char* env_isa = std::getenv("RLVR_CPU_ISA");
  o.Set("requested", env_isa && *env_isa ? env_isa : "auto");
  o.Set("warning", cpu::isa_warning());
  return o;
}

// setCpuIsa(name): switches the path for the rest of the process (tests and
// benchmarks); a path this CPU or build cannot run is a ValueError, never run.
Napi::Value SetCpuIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString())
      fail(Code::Value, "isa", "expected a path name: auto, avx512, avx2, neon or generic");
    std::string why;
    if (!cpu::set_isa(info[0].As<Napi::String>().Utf8Value(), &why)) fail(Code::Value, "isa", why);
    return Napi::String::New(info.Env(), cpu::isa_name(cpu::active_isa()));
  });
}

}  // namespace

void InitInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("devices", Napi::Function::New(env, Devices, "devices"));
  exports.Set("deviceMemory", Napi::Function::New(env, DeviceMemory, "deviceMemory"));
  exports.Set("resetDeviceMemoryPeak", Napi::Function::New(env, ResetDeviceMemoryPeak, "resetDeviceMemoryPeak"));
  exports.Set("bf16GemmImpl", Napi::Function::New(env, Bf16GemmImpl, "bf16GemmImpl"));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures, "cpuFeatures"));
  exports.Set("cpuIsa", Napi::Function::New(env, CpuIsa, "cpuIsa"));
  exports.Set("setCpuIsa", Napi::Function::New(env, SetCpuIsa, "setCpuIsa"));
}

}  // namespace rlvr::binding
