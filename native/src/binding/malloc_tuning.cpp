// Every engine call allocates its activations afresh (std::vector per buffer, 0.1-30 MB at
// the trainer's shapes) and frees them on return. With glibc's defaults such blocks are
// served by mmap, or by a heap whose free top is trimmed back to the kernel, so each call
// page-faults and zero-fills the same memory again: measured at about a quarter of a scoring
// pass (reference log-probs) in the trainer benchmark (scorePrefixed 13-15 ms -> 9.5-11 ms,
// score 16-21 ms -> 11-13 ms, 2-core EPYC). Serving blocks up to 32 MiB (glibc's maximum for
// this setting) from the heap and keeping up to 512 MiB of freed heap makes later calls reuse
// warm pages. Set RLVR_MALLOC_TUNING=0 to keep the process's malloc settings untouched (the
// engine's results do not depend on it).
#include "binding/malloc_tuning.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace rlvr::binding {

const MallocTuning& apply_malloc_tuning() {
  static const MallocTuning t = [] {
    MallocTuning r;
#if defined(__GLIBC__)
    const char* env = std::getenv("RLVR_MALLOC_TUNING");
    if (env && std::strcmp(env, "0") == 0) return r;
    constexpr size_t kMmap = size_t{32} << 20, kTrim = size_t{512} << 20;
    // mallopt returns 1 on success; a setting glibc refuses is reported as not applied
    const bool ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmap)) == 1 &&
                    mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrim)) == 1;
    if (ok) {
      r.applied = true;
      r.mmap_threshold = kMmap;
      r.trim_threshold = kTrim;
    }
#endif
    return r;
  }();
  return t;
}

}  // namespace rlvr::binding
