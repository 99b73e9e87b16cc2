// rlvr::cuda runtime services for the binding. No function aborts: every CUDA
// error is returned as a Status (Code::Device for a missing/unusable device,
// Code::Internal otherwise).
#include <mutex>
#include <string>
#include <unordered_map>

#include "kernels/cuda/common.cuh"

namespace rlvr::cuda {

namespace {
// What malloc_device handed out and not yet freed, per device (see memory_stats).
constexpr int kMaxDevices = 64;
struct Held {
  std::mutex mu;
  std::unordered_map<void*, std::pair<int, int64_t>> live;  // pointer -> (device, bytes)
  int64_t in_use[kMaxDevices] = {};
  int64_t peak[kMaxDevices] = {};
};
Held& held() {
  static Held h;
  return h;
}
void note_alloc(int device, void* p, int64_t bytes) {
  if (device < 0 || device >= kMaxDevices) return;
  Held& h = held();
  std::lock_guard<std::mutex> lock(h.mu);
  h.live[p] = {device, bytes};
  h.in_use[device] += bytes;
  if (h.in_use[device] > h.peak[device]) h.peak[device] = h.in_use[device];
}
void note_free(void* p) {
  Held& h = held();
  std::lock_guard<std::mutex> lock(h.mu);
  auto it = h.live.find(p);
  if (it == h.live.end()) return;
  h.in_use[it->second.first] -= it->second.second;
  h.live.erase(it);
}
}  // namespace

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
  note_alloc(device, *out, bytes);
  return Status::Ok();
}

Status free_device(void* p) {
  if (!p) return Status::Ok();
  note_free(p);
  RLVR_CUDA_TRY(cudaFree(p));
  return Status::Ok();
}

Status memory_stats(int device, MemoryStats* out) {
  if (Status s = check_device(device); !s.ok()) return s;
  if (device >= kMaxDevices) return Status::Error(Code::Range, "device", "memory accounting covers devices 0-63");
  Held& h = held();
  std::lock_guard<std::mutex> lock(h.mu);
  out->in_use = h.in_use[device];
  out->peak = h.peak[device];
  return Status::Ok();
}

Status reset_memory_peak(int device) {
  if (Status s = check_device(device); !s.ok()) return s;
  if (device >= kMaxDevices) return Status::Error(Code::Range, "device", "memory accounting covers devices 0-63");
  Held& h = held();
  std::lock_guard<std::mutex> lock(h.mu);
  h.peak[device] = h.in_use[device];
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
