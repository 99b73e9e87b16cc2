// rlvr::cuda runtime services for the binding. No function aborts: every CUDA
// error is returned as a Status (Code::Device for a missing/unusable device,
// Code::Internal otherwise).
#include <string>

#include "kernels/cuda/common.cuh"

namespace rlvr::cuda {

using cudak::cuda_status;

bool compiled() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver / no device: clear the error, report none
    return 0;
  }
  return n;
}

static Status check_device(int device) {
  const int n = device_count();
  if (device < 0 || device >= n)
    return Status::Error(Code::Device, "device",
                         "CUDA device " + std::to_string(device) + " is not available (" + std::to_string(n) +
                             " device(s) found)");
  return Status::Ok();
}

Status device_info(int device, DeviceInfo* out) {
  if (Status s = check_device(device); !s.ok()) return s;
  cudaDeviceProp p{};
  RLVR_CUDA_TRY(cudaGetDeviceProperties(&p, device));
  out->name = p.name;
  out->total_mem = static_cast<int64_t>(p.totalGlobalMem);
  out->cc_major = p.major;
  out->cc_minor = p.minor;
  out->sm_count = p.multiProcessorCount;
  size_t free_b = 0, total_b = 0;
  RLVR_CUDA_TRY(cudaSetDevice(device));
  RLVR_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
  out->free_mem = static_cast<int64_t>(free_b);
  return Status::Ok();
}

Status set_device(int device) {
  if (Status s = check_device(device); !s.ok()) return s;
  RLVR_CUDA_TRY(cudaSetDevice(device));
  return Status::Ok();
}

Status malloc_device(int device, int64_t bytes, void** out) {
  *out = nullptr;
  if (bytes < 0) return Status::Error(Code::Value, "bytes", "negative allocation size");
  if (Status s = set_device(device); !s.ok()) return s;
  if (bytes == 0) return Status::Ok();
  cudaError_t e = cudaMalloc(out, static_cast<size_t>(bytes));
  if (e != cudaSuccess) {
    *out = nullptr;
    cudaGetLastError();
    return Status::Error(cudak::classify(e), "", "cudaMalloc(" + std::to_string(bytes) + " bytes) on device " +
                                                     std::to_string(device) + ": " + cudaGetErrorString(e));
  }
  return Status::Ok();
}

Status free_device(void* p) {
  if (p) RLVR_CUDA_TRY(cudaFree(p));
  return Status::Ok();
}

Status copy_h2d(void* dst, const void* src, int64_t bytes) {
  if (bytes > 0) RLVR_CUDA_TRY(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice));
  return Status::Ok();
}

Status copy_d2h(void* dst, const void* src, int64_t bytes) {
  if (bytes > 0) RLVR_CUDA_TRY(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost));
  return Status::Ok();
}

Status copy_d2d(void* dst, const void* src, int64_t bytes) {
  if (bytes > 0) RLVR_CUDA_TRY(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice));
  return Status::Ok();
}

Status memset_device(void* p, int value, int64_t bytes) {
  if (bytes > 0) RLVR_CUDA_TRY(cudaMemset(p, value, static_cast<size_t>(bytes)));
  return Status::Ok();
}

Status synchronize() {
  RLVR_CUDA_TRY(cudaDeviceSynchronize());
  return Status::Ok();
}

std::string runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess || v <= 0) v = CUDART_VERSION;
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

}  // namespace rlvr::cuda
