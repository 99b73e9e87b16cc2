// A small persistent thread pool for the CPU kernels: rows are split into
// contiguous ranges, one per worker, so each thread streams its own memory.
#pragma once
#include <cstdint>
#include <functional>

namespace rlvr::cpu {

// Number of worker threads (RLVR_NUM_THREADS, else hardware concurrency). Idle workers spin
// for RLVR_SPIN_US microseconds (default 50; 0: never) before sleeping (parallel.cpp).
int num_threads();

// Runs fn(begin, end) over [0, n) split into at most num_threads() ranges.
// Work smaller than min_per_thread items per thread runs inline on the caller.
void parallel_for(int64_t n, int64_t min_per_thread, const std::function<void(int64_t, int64_t, int)>& fn);

}  // namespace rlvr::cpu
