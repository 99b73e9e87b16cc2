// glibc malloc settings for the engine's allocation pattern (see malloc_tuning.cpp).
#pragma once
#include <cstddef>

namespace rlvr::binding {

struct MallocTuning {
  bool applied = false;        // false: not glibc, or RLVR_MALLOC_TUNING=0
  size_t mmap_threshold = 0;   // bytes (0 when not applied)
  size_t trim_threshold = 0;
};

// Applies the settings once per process (idempotent) and returns what was applied.
const MallocTuning& apply_malloc_tuning();

}  // namespace rlvr::binding
