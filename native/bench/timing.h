// The one device timer of the C++ benchmarks (and native/dev): mean milliseconds of fn over
// reps, each rep timed by CUDA events after an L2 flush, so that no rep reads what the one
// before left in L2 (a real step's next op finds other data there).
#pragma once
#include <cuda_runtime.h>

#include "test/harness.h"

// Overwrites twice the device's L2 (a buffer kept for the process), evicting what fn touched.
inline void flush_l2() {
  static void* buf = nullptr;
  static size_t bytes = 0;
  if (!buf) {
    int dev = 0, l2 = 0;
    HCHECK(cudaGetDevice(&dev));
    HCHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
    bytes = 2 * static_cast<size_t>(l2 > 0 ? l2 : 64 << 20);
    HCHECK(cudaMalloc(&buf, bytes));
  }
  HCHECK(cudaMemsetAsync(buf, 0, bytes));
}

// Mean milliseconds of fn (which launches work on the default stream) over reps, after one
// warm-up call; the flushes are not timed.
template <class F>
double time_ms(int reps, F&& fn) {
  fn();
  HCHECK(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  HCHECK(cudaEventCreate(&a));
  HCHECK(cudaEventCreate(&b));
  double total = 0;
  for (int i = 0; i < reps; ++i) {
    flush_l2();
    HCHECK(cudaEventRecord(a));
    fn();
    HCHECK(cudaEventRecord(b));
    HCHECK(cudaEventSynchronize(b));
    float ms = 0;
    HCHECK(cudaEventElapsedTime(&ms, a, b));
    total += ms;
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return total / (reps > 0 ? reps : 1);
}
