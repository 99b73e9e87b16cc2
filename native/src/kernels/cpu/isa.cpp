#include "kernels/cpu/isa.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace rlvr::cpu {
namespace {

bool cpu_runs(Isa isa) {
  switch (isa) {
    case Isa::Generic: return true;
#if defined(RLVR_ISA_X86)
    // The same feature levels as the functions' target attributes; libgcc also
    // checks that the OS saves the wider registers (XCR0).
    case Isa::Avx512:
      __builtin_cpu_init();
#if defined(__clang__)
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
#else
      return __builtin_cpu_supports("x86-64-v4");
#endif
    case Isa::Avx2:
      __builtin_cpu_init();
#if defined(__clang__)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
#else
      return __builtin_cpu_supports("x86-64-v3");
#endif
#elif defined(RLVR_ISA_ARM64)
    case Isa::Neon: return true;  // Advanced SIMD is part of every AArch64 CPU
#endif
    default: return false;
  }
}

bool parse(const std::string& s, Isa* out) {
  static const std::pair<const char*, Isa> names[] = {
      {"generic", Isa::Generic}, {"avx2", Isa::Avx2}, {"avx512", Isa::Avx512}, {"neon", Isa::Neon}};
  for (const auto& [n, isa] : names)
    if (s == n) {
      *out = isa;
      return true;
    }
  return false;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string supported_list() {
  std::string s;
  for (Isa i : supported_isas()) s += (s.empty() ? "" : ", ") + std::string(isa_name(i));
  return s;
}

// Resolves a requested name: the path, or the best one with *why set.
Isa resolve(const std::string& requested, std::string* why) {
  const Isa best = supported_isas().front();
  const std::string r = lower(requested);
  if (r.empty() || r == "auto") return best;
  Isa isa;
  if (!parse(r, &isa)) {
    *why = "\"" + requested + "\" is not a CPU path (expected auto, avx512, avx2, neon or generic)";
    return best;
  }
  if (!cpu_runs(isa)) {
    *why = "\"" + requested + "\" cannot run on this CPU or build (supported here: " + supported_list() + ")";
    return best;
  }
  return isa;
}

std::atomic<int> g_isa{-1};
std::mutex g_mu;
std::string g_warning;  // guarded by g_mu

Isa init_from_env() {
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_isa.load() >= 0) return static_cast<Isa>(g_isa.load());
  const char* env = std::getenv("RLVR_CPU_ISA");
  std::string why;
  const Isa isa = resolve(env ? env : "", &why);
  if (!why.empty()) {
    g_warning = "RLVR_CPU_ISA=" + std::string(env) + ": " + why + "; using " + isa_name(isa);
    std::fprintf(stderr, "rlvr: %s\n", g_warning.c_str());
  }
  g_isa.store(static_cast<int>(isa));
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "?";
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Generic})
    if (cpu_runs(i)) v.push_back(i);
  return v;
}

Isa active_isa() {
  const int v = g_isa.load(std::memory_order_relaxed);
  return v >= 0 ? static_cast<Isa>(v) : init_from_env();
}

bool set_isa(const std::string& name, std::string* why) {
  active_isa();  // the environment's choice (and warning) first
  std::string w;
  const Isa isa = resolve(name, &w);
  if (!w.empty()) {
    if (why) *why = w;
    return false;
  }
  g_isa.store(static_cast<int>(isa));
  return true;
}

std::string isa_warning() {
  active_isa();
  std::lock_guard<std::mutex> lk(g_mu);
  return g_warning;
}

}  // namespace rlvr::cpu
