// The instruction-set path of the CPU kernels, picked once per process and
// switchable for tests and benchmarks.
//
//   RLVR_CPU_ISA = auto (default) | avx512 | avx2 | neon | generic
//
// auto takes the best path this CPU runs. A value this build or CPU cannot
// run never reaches an instruction the CPU lacks (no SIGILL): it is reported
// (isa_warning(), `rlvr doctor`, a line on stderr) and auto is used instead.
//
// Paths and their results: every path keeps the same per-element summation
// order. avx512,
// avx2 and neon contract a*b+c to one fused multiply-add, so they give
// bit-identical results; x86 generic (the x86-64 baseline has no FMA) rounds
// the product separately, so its results differ in the last bits. On ARM64,
// generic is NEON code too (fused), with a smaller GEMM tile.
#pragma once
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#define RLVR_ISA_X86 1
#define RLVR_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define RLVR_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#elif defined(__aarch64__)
#define RLVR_ISA_ARM64 1
#endif

namespace rlvr::cpu {

enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isa_name(Isa isa);
// The path in use (first call reads RLVR_CPU_ISA).
Isa active_isa();
// Paths this build and CPU can run, best first.
std::vector<Isa> supported_isas();
// Switches the path ("auto" or a name); false with *why when it cannot run
// here (the path is then unchanged). Not while kernels run on other threads.
bool set_isa(const std::string& name, std::string* why);
// Why RLVR_CPU_ISA was not followed ("" when it was, or is unset).
std::string isa_warning();

}  // namespace rlvr::cpu

// Defines `ret name params`, which runs `name##_body<Isa>` (an always-inline
// template) compiled for the active path: the body is instantiated once per
// path inside a function carrying that path's target attribute, so vector
// code in it uses that path's registers. `params` and `args` are the
// parenthesized parameter list and argument list.
#define RLVR_ISA_VARIANT_(attr, ret, name, suffix, isa, params, args) \
  attr ret name##_##suffix params { return name##_body<::rlvr::cpu::Isa::isa> args; }
#if defined(RLVR_ISA_X86)
#define RLVR_ISA_DISPATCH(ret, name, params, args)                                          \
  RLVR_ISA_VARIANT_(RLVR_TARGET_AVX512, ret, name, avx512, Avx512, params, args)            \
  RLVR_ISA_VARIANT_(RLVR_TARGET_AVX2, ret, name, avx2, Avx2, params, args)                  \
  RLVR_ISA_VARIANT_(, ret, name, generic, Generic, params, args)                           \
  ret name params {                                                                         \
    switch (::rlvr::cpu::active_isa()) {                                                    \
      case ::rlvr::cpu::Isa::Avx512: return name##_avx512 args;                             \
      case ::rlvr::cpu::Isa::Avx2: return name##_avx2 args;                                 \
      default: return name##_generic args;                                                  \
    }                                                                                       \
  }
#elif defined(RLVR_ISA_ARM64)
#define RLVR_ISA_DISPATCH(ret, name, params, args)                                          \
  RLVR_ISA_VARIANT_(, ret, name, neon, Neon, params, args)                                  \
  RLVR_ISA_VARIANT_(, ret, name, generic, Generic, params, args)                           \
  ret name params {                                                                         \
    if (::rlvr::cpu::active_isa() == ::rlvr::cpu::Isa::Neon) return name##_neon args;       \
    return name##_generic args;                                                             \
  }
#else
#define RLVR_ISA_DISPATCH(ret, name, params, args) \
  ret name params { return name##_body<::rlvr::cpu::Isa::Generic> args; }
#endif
