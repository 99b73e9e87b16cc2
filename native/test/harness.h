// Small host-side helpers shared by rlvr_cuda_check and rlvr_cuda_bench.
#pragma once
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kernels/kernels.h"

#define HCHECK(expr)                                                                               \
  do {                                                                                             \
    cudaError_t e_ = (expr);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(e_)); \
      std::exit(2);                                                                                \
    }                                                                                              \
  } while (0)

#define SCHECK(expr)                                                                                    \
  do {                                                                                                  \
    ::rlvr::Status s_ = (expr);                                                                         \
    if (!s_.ok()) {                                                                                     \
      std::fprintf(stderr, "%s:%d: %s failed: [%d] %s: %s\n", __FILE__, __LINE__, #expr,                 \
                   static_cast<int>(s_.code), s_.argument.c_str(), s_.message.c_str());                 \
      std::exit(3);                                                                                     \
    }                                                                                                   \
  } while (0)

// Copies between a host vector and n elements of device memory at p.
template <class T>
void put_n(T* p, size_t n, const std::vector<T>& h) {
  if (n) HCHECK(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice));
}
template <class T>
std::vector<T> get_n(const T* p, size_t n) {
  std::vector<T> h(n);
  if (n) HCHECK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

// Owning device buffer.
template <class T>
struct DevBuf {
  T* p = nullptr;
  size_t n = 0;
  DevBuf() = default;
  explicit DevBuf(size_t count) : n(count) {
    if (n) HCHECK(cudaMalloc(&p, n * sizeof(T)));
  }
  explicit DevBuf(const std::vector<T>& h) : DevBuf(h.size()) { put(h); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() {
    if (p) cudaFree(p);
  }
  void put(const std::vector<T>& h) { put_n(p, n, h); }
  std::vector<T> get() const { return get_n(p, n); }
};

// xorshift64*: fast, deterministic across platforms.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  float uniform() { return static_cast<float>((next() >> 40) * (1.0 / 16777216.0)); }  // [0, 1)
  float normal() {  // Box-Muller
    float u = uniform(), v = uniform();
    return std::sqrt(-2.f * std::log(u + 1e-12f)) * std::cos(6.2831853f * v);
  }
  int64_t below(int64_t k) { return static_cast<int64_t>(next() % static_cast<uint64_t>(k)); }
};
