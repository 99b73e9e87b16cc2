// cuBLAS for the bf16 GEMMs, loaded with dlopen (see cublas_gemm.h). Host
// code only. The few entry points used are declared here with their C ABI
// (enums are ints; the values below are cuBLAS's / library_types.h's, stable
// since CUDA 11), so no cuBLAS header is needed to build.
#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kernels/cuda/common.cuh"
#include "ops/cuda/cublas_gemm.h"
#include "model/ops_model.h"

namespace rlvr::engine::ops {
namespace {

using Handle = void*;
using CreateFn = int (*)(Handle*);
using GemmExFn = int (*)(Handle, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int,
                         const void*, void*, int, int, int, int);
constexpr int kOpN = 0, kOpT = 1;             // cublasOperation_t
constexpr int kR32F = 0, kR16BF = 14;         // cudaDataType_t
constexpr int kCompute32F = 68;               // cublasComputeType_t: fp32 accumulation
constexpr int kGemmDefault = -1;              // cublasGemmAlgo_t

struct Lib {
  CreateFn create = nullptr;
  GemmExFn gemm_ex = nullptr;
  std::string name;  // the library that loaded, or why none did
  bool ok = false;
};

const Lib& lib() {
  static const Lib l = [] {
    Lib r;
    const char* off = std::getenv("RLVR_CUBLAS");
    if (off && std::strcmp(off, "0") == 0) {
      r.name = "RLVR_CUBLAS=0";
      return r;
    }
    const char* env_path = std::getenv("RLVR_CUBLAS_PATH");
    const char* candidates[] = {env_path,
                                "libcublas.so.13",
                                "libcublas.so.12",
                                "libcublas.so",
                                "/usr/local/cuda/lib64/libcublas.so.13",
                                "/usr/local/cuda/lib64/libcublas.so.12"};
    void* h = nullptr;
    for (const char* c : candidates) {
      if (!c || !*c) continue;
      h = dlopen(c, RTLD_NOW | RTLD_LOCAL);
      if (h) {
        r.name = c;
        break;
      }
      if (c == env_path) {  // a path the user named must load: say why it did not
        const char* e = dlerror();
        r.name = std::string("RLVR_CUBLAS_PATH=") + env_path + " did not load: " + (e ? e : "?");
        return r;
      }
    }
    if (!h) {
      r.name = "no libcublas.so.13 / .so.12 found (set RLVR_CUBLAS_PATH)";
      return r;
    }
    r.create = reinterpret_cast<CreateFn>(dlsym(h, "cublasCreate_v2"));
    r.gemm_ex = reinterpret_cast<GemmExFn>(dlsym(h, "cublasGemmEx"));
    if (!r.create || !r.gemm_ex) {
      r.name += ": cublasCreate_v2 / cublasGemmEx missing";
      return r;
    }
    r.ok = true;
    return r;
  }();
  return l;
}

std::atomic<int> g_enabled{-1};  // -1: not decided yet (on when the library loads)

// One handle per device, made on first use on that device. The handle's stream
// is the legacy default stream, the one every op of the engine runs on.
Handle handle_for_current_device(Status* st) {
  static std::mutex mu;
  static Handle handles[kMaxCudaBackends] = {};
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= kMaxCudaBackends) {
    *st = Status::Error(Code::Device, "gemm", "cuBLAS: no current CUDA device");
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[dev]) {
    Handle h = nullptr;
    const int rc = lib().create(&h);
    if (rc != 0 || !h) {
      *st = Status::Error(Code::Device, "gemm", "cublasCreate failed (status " + std::to_string(rc) + ")");
      return nullptr;
    }
    handles[dev] = h;
  }
  return handles[dev];
}

__global__ void add_bias_rows_kernel(float* c, int64_t ldc, int64_t m, int64_t n, const float* bias) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m * n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    c[(i / n) * ldc + i % n] += bias[i % n];
}

bool fits_int(int64_t v) { return v >= 0 && v <= 0x7fffffff; }

}  // namespace

void set_cublas_enabled(bool on) { g_enabled.store(on ? 1 : 0); }

std::string bf16_gemm_impl() {
  const Lib& l = lib();
  if (!l.ok) return "wmma (" + l.name + ")";
  if (g_enabled.load() == 0) return "wmma (cuBLAS switched off)";
  return "cublas (" + l.name + ")";
}

bool cublas_gemm_bf16(const GemmArgs& g, Status* st) {
  if (g_enabled.load() == 0 || !lib().ok) return false;
  // (C + AB) + bias would round differently from the WMMA kernel's C + (AB + bias).
  if (g.bias && g.accumulate) return false;
  if (!fits_int(g.m) || !fits_int(g.n) || !fits_int(g.k) || !fits_int(g.lda) || !fits_int(g.ldb) ||
      !fits_int(g.ldc))
    return false;
  Status s = Status::Ok();
  Handle h = handle_for_current_device(&s);
  if (!h) {
    *st = s;
    return true;
  }
  // Row-major C[m, n] = A B is column-major C^T[n, m] = B^T A^T: cuBLAS's first
  // operand is b (n x k, or k x n read transposed), its second a.
  const float alpha = 1.f, beta = g.accumulate ? 1.f : 0.f;
  const int rc = lib().gemm_ex(h, g.trans_b ? kOpT : kOpN, g.trans_a ? kOpT : kOpN, static_cast<int>(g.n),
                               static_cast<int>(g.m), static_cast<int>(g.k), &alpha, g.b, kR16BF,
                               static_cast<int>(g.ldb), g.a, kR16BF, static_cast<int>(g.lda), &beta,
                               g.c16 ? g.c16 : static_cast<void*>(g.c), g.c16 ? kR16BF : kR32F,
                               static_cast<int>(g.ldc), kCompute32F, kGemmDefault);
  if (rc != 0) {
    *st = Status::Error(Code::Device, "gemm", "cublasGemmEx failed (status " + std::to_string(rc) + ")");
    return true;
  }
  if (g.bias) {
    add_bias_rows_kernel<<<cudak::grid_for(g.m * g.n, 256, 8192), 256>>>(g.c, g.ldc, g.m, g.n, g.bias);
    *st = cudak::launched("add_bias_rows_kernel");
    return true;
  }
  *st = Status::Ok();
  return true;
}

}  // namespace rlvr::engine::ops
