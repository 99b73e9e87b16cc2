#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace rlvr::cpu {
namespace {

// Fork-join pool. The engine runs hundreds of short parallel regions per step (tens of
// microseconds each at small shapes), so waking a sleeping thread through the kernel for each
// one cost ~15 % of a decode step (perf: futex wake-ups and context switches). Both sides
// therefore spin briefly (spin_until: RLVR_SPIN_US, default 50 us, yielding after the first
// microseconds) on an atomic before blocking on a condition variable; notifications go only to
// sleeping threads.
//
// Parts are claimed, not assigned: the caller and every awake worker take the next unclaimed part
// of the region until none is left. Part i is still the same range whoever runs it, so results do
// not change, but a worker that is not running (another process holds its core) no longer stalls
// the region: the caller runs its part instead of waiting up to a scheduler time slice for it.
// Under oversubscription a step then slows down in proportion to the lost CPU share, not by the
// number of regions times the slices spent waiting.
class Pool {
 public:
  Pool(int n, int spin_us) : spin_us_(spin_us) {
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_.store(true);
      generation_.fetch_add(2, std::memory_order_release);  // stays even (published)
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(i) for i in [0, parts): the caller and the awake workers claim the parts.
  void run(int parts, const std::function<void(int)>& task) {
    std::unique_lock<std::mutex> call(call_mu_);  // one parallel region at a time
    int sleepers;
    uint64_t g;
    {
      std::lock_guard<std::mutex> lk(mu_);
      // seqlock: odd while the region's fields are written, even once they are published
      generation_.fetch_add(1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_release);
      task_.store(&task, std::memory_order_relaxed);
      parts_.store(parts, std::memory_order_relaxed);
      pending_.store(parts, std::memory_order_relaxed);
      g = generation_.load(std::memory_order_relaxed) + 1;  // the even value published next
      claim_.store(g << 32, std::memory_order_relaxed);       // part 0 of region g is next
      generation_.fetch_add(1, std::memory_order_release);
      sleepers = sleeping_;
    }
    if (sleepers > 0) cv_.notify_all();
    run_parts(g, parts, task);
    spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; });
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(mu_);
      main_waiting_ = true;
      done_cv_.wait(lk, [this] { return pending_.load(std::memory_order_acquire) == 0; });
      main_waiting_ = false;
    }
  }

 private:
  // Spin for up to spin_us_ (RLVR_SPIN_US, default 50) waiting for done(): busy (pause) for the
  // first few microseconds, then yielding the core on each check, so an oversubscribed machine
  // (more threads than cores) lets the thread with work run instead of a spinner. True when
  // done() held. spin_us_ = 0: block at once.
  template <class Done>
  bool spin_until(const Done& done) const {
    if (spin_us_ <= 0) return done();
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    for (int i = 0;; ++i) {
      if (done()) return true;
      if (i < 256) {
        pause();
        continue;
      }
      if ((i & 15) == 0 && clock::now() - start > std::chrono::microseconds(spin_us_)) return false;
      std::this_thread::yield();
    }
  }

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  void loop(int id) {
    uint64_t seen = 0;  // the last published (even) generation this worker handled
    const auto fresh = [&](uint64_t g) { return g != seen && (g & 1) == 0; };
    for (;;) {
      uint64_t g = 0;
      spin_until([&] { return fresh(g = generation_.load(std::memory_order_acquire)); });
      if (!fresh(g)) {
        std::unique_lock<std::mutex> lk(mu_);
        ++sleeping_;
        cv_.wait(lk, [&] { return fresh(generation_.load(std::memory_order_acquire)); });
        --sleeping_;
        g = generation_.load(std::memory_order_acquire);
      }
      if (stop_.load()) return;
      // A worker not needed by region g may lag while the caller starts the next region and
      // rewrites task_ / parts_: the seqlock check sees the generation move and retries.
      // (A participant's region cannot end, and so be replaced, without it.)
      const int parts = parts_.load(std::memory_order_relaxed);
      const std::function<void(int)>* task = task_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (generation_.load(std::memory_order_relaxed) != g) continue;
      seen = g;
      if (id >= parts) continue;  // regions smaller than the pool leave the higher workers idle
      run_parts(g, parts, *task);
    }
  }

  // Claims and runs parts of region g until none is left. The claim word holds (generation << 32
  // | next part), so a worker that read region g's task and was then delayed cannot claim a part
  // of a later region with it: its compare-exchange fails once the generation moved on.
  void run_parts(uint64_t g, int parts, const std::function<void(int)>& task) {
    uint64_t c = claim_.load(std::memory_order_acquire);
    for (;;) {
      if ((c >> 32) != (g & 0xffffffffu) || static_cast<int>(c & 0xffffffffu) >= parts) return;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      task(static_cast<int>(c & 0xffffffffu));
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mu_);
        if (main_waiting_) done_cv_.notify_one();
      }
      c = claim_.load(std::memory_order_acquire);
    }
  }

  const int spin_us_;
  std::vector<std::thread> workers_;
  std::mutex mu_, call_mu_;
  std::condition_variable cv_, done_cv_;
  std::atomic<const std::function<void(int)>*> task_{nullptr};
  std::atomic<int> parts_{0};
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> claim_{0};  // (generation << 32) | next unclaimed part (run_parts)
  std::atomic<bool> stop_{false};
  int sleeping_ = 0;           // workers blocked on cv_ (guarded by mu_)
  bool main_waiting_ = false;  // the caller blocked on done_cv_ (guarded by mu_)
};

int configured_threads() {
  if (const char* env = std::getenv("RLVR_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return std::min(n, 256);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

// RLVR_SPIN_US: how long idle pool threads spin before sleeping (default 50 us; 0: never).
int configured_spin_us() {
  if (const char* env = std::getenv("RLVR_SPIN_US")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && v >= 0) return static_cast<int>(std::min<long>(v, 100000));
  }
  return 50;
}

Pool& pool() {
  static Pool p(configured_threads(), configured_spin_us());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void parallel_for(int64_t n, int64_t min_per_thread, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  int64_t parts = std::min<int64_t>(num_threads(), std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread)));
  if (parts <= 1) {
    fn(0, n, 0);
    return;
  }
  pool().run(static_cast<int>(parts), [&](int i) {
    int64_t b = n * i / parts, e = n * (i + 1) / parts;
    if (b < e) fn(b, e, i);
  });
}

}  // namespace rlvr::cpu
