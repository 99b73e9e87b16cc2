// (i) Token sampling: greedy, temperature, top-k and exact top-p, with the
// selection semantics of the CPU reference (native/src/kernels/cpu/sample.cpp).
//
// Probabilities are p_j = expf(z_j * (1/T) - max * (1/T)) computed exactly as
// the CPU computes them: the product and difference are rounded separately (no
// FMA contraction) and expf is a bit-exact port of glibc's expf (the FMA
// variant used on x86-64 with FMA and on aarch64), so p_j, and with it the
// (p desc, id asc) candidate order, is identical on both sides. Masses are
// accumulated in fp64, but in a different order than on the CPU (block trees
// and scans instead of a sequential loop), so a row can differ from the CPU
// only when u * total (or the top-p mass need) lies within fp64 rounding of a
// cumulative boundary.
//
// Paths, one block per row:
//   greedy (T = 0):   one pass: argmax (lowest index on ties) + bad-row check.
//   no truncation:    max pass, total pass, then a tiled block scan in
//                     vocabulary order that stops at the first cumulative mass
//                     > u * total.
//   top-k and/or top-p: max pass, then a pass that histograms p by binary
//                     exponent (per-thread columns in shared memory) to find
//                     t = 2^-i, the largest power of two with {p >= t}
//                     provably holding the needed set (count >= k for top-k,
//                     else mass >= top_p * total with a 1e-3 margin; t = 0 when
//                     none: all p > 0). The host reads the per-row counts
//                     (synchronizes), candidates are compacted in id order
//                     (deterministic block scan), sorted by cub's stable
//                     segmented sort (descending p, ids ascending on ties) and
//                     a last kernel scans each sorted row for the nucleus and
//                     the token.
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_segmented_sort.cuh>

#include <vector>

#include "kernels/cuda/common.cuh"

namespace rlvr::kernels {
namespace {

using namespace rlvr::cudak;

constexpr unsigned kMaxRowBlocks = 1u << 30;
constexpr int kItems = 8;     // consecutive elements per thread in the tiled scans
constexpr int kBins = 20;     // exponent bins: [2^-i, 2^-i+1) for i < kBins - 1, then (0, 2^-(kBins-2))
constexpr double kMassMargin = 1e-3;  // covers fp32 per-thread bin sums (<= ~600 terms)

// ---- glibc expf, bit exact ------------------------------------------------------

// tab[i] = bits(2^(i/32)) - (i << 47)  (glibc sysdeps/ieee754/flt-32/e_exp2f_data.c)
__device__ const unsigned long long kExp2fTab[32] = {
    0x3ff0000000000000ull, 0x3fefd9b0d3158574ull, 0x3fefb5586cf9890full, 0x3fef9301d0125b51ull,
    0x3fef72b83c7d517bull, 0x3fef54873168b9aaull, 0x3fef387a6e756238ull, 0x3fef1e9df51fdee1ull,
    0x3fef06fe0a31b715ull, 0x3feef1a7373aa9cbull, 0x3feedea64c123422ull, 0x3feece086061892dull,
    0x3feebfdad5362a27ull, 0x3feeb42b569d4f82ull, 0x3feeab07dd485429ull, 0x3feea47eb03a5585ull,
    0x3feea09e667f3bcdull, 0x3fee9f75e8ec5f74ull, 0x3feea11473eb0187ull, 0x3feea589994cce13ull,
    0x3feeace5422aa0dbull, 0x3feeb737b0cdc5e5ull, 0x3feec49182a3f090ull, 0x3feed503b23e255dull,
    0x3feee89f995ad3adull, 0x3feeff76f2fb5e47ull, 0x3fef199bdd85529cull, 0x3fef3720dcef9069ull,
    0x3fef5818dcfba487ull, 0x3fef7c97337b9b5full, 0x3fefa4afa2a490daull, 0x3fefd0765b6e4540ull,
};

// The table lives in shared memory (lanes index it divergently).
struct ExpTable {
  unsigned long long tab[32];
  __device__ void load() {
    for (int i = threadIdx.x; i < 32; i += blockDim.x) tab[i] = kExp2fTab[i];
    __syncthreads();
  }
};

// expf(x) for x <= 0 or NaN (here x = z/T - max/T), identical to glibc's
// expf: 2^(k/32) * poly(r) in fp64 with fma where GCC contracts the FMA build.
__device__ __forceinline__ float expf_glibc(float x, const unsigned long long* tab) {
  if (x < -0x1.9fe368p6f) return 0.f;  // underflow (and -inf)
  constexpr double kInvLn2N = 0x1.71547652b82fep+0 * 32, kShift = 0x1.8p+52;
  constexpr double C0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32, C1 = 0x1.ebfce50fac4f3p-3 / 32 / 32,
                   C2 = 0x1.62e42ff0c52d6p-1 / 32;
  const double xd = x;
  const double z = __dmul_rn(kInvLn2N, xd);
  double kd = __dadd_rn(z, kShift);
  const unsigned long long ki = static_cast<unsigned long long>(__double_as_longlong(kd));
  kd = __dsub_rn(kd, kShift);
  const double r = fma(kInvLn2N, xd, -kd);
  const double s = __longlong_as_double(static_cast<long long>(tab[ki & 31] + (ki << 47)));
  const double zz = fma(C0, r, C1);
  const double r2 = __dmul_rn(r, r);
  double y = fma(C2, r, 1.0);
  y = fma(zz, r2, y);
  return __double2float_rn(__dmul_rn(y, s));
}

// p = expf(z * inv_t - mt), with the CPU's separate roundings.
__device__ __forceinline__ float prob(float z, float inv_t, float mt, const unsigned long long* tab) {
  return expf_glibc(__fsub_rn(__fmul_rn(z, inv_t), mt), tab);
}

// ---- per-row bookkeeping ----------------------------------------------------------

struct RowInfo {
  double mass;    // sum of all p (fp64)
  float mt;       // max * inv_t
  float t;        // candidate threshold: p >= t and p > 0
  int32_t count;  // candidates; -1 when the token is already written (bad row)
  int32_t pad;
};

struct Params {
  SampleArgs a;
  float inv_t;
  bool top_k, top_p;
};

enum Mode { kGreedy = 0, kPlain = 1, kStats = 2 };

// ---- block helpers ----------------------------------------------------------------

// (max, lowest index) merge; idx = INT64_MAX means none.
__device__ __forceinline__ void arg_merge(float& m, int64_t& i, float m2, int64_t i2) {
  if (m2 > m || (m2 == m && i2 < i)) { m = m2; i = i2; }
}

template <int kThreads>
__device__ __forceinline__ void block_argmax(float& m, int64_t& idx) {
  __shared__ float sm[kThreads / 32];
  __shared__ int64_t si[kThreads / 32];
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
    const int64_t i2 = __shfl_xor_sync(0xffffffffu, idx, off);
    arg_merge(m, idx, m2, i2);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { sm[warp] = m; si[warp] = idx; }
  __syncthreads();
  m = sm[0]; idx = si[0];
  for (int w = 1; w < kThreads / 32; ++w) arg_merge(m, idx, sm[w], si[w]);
  __syncthreads();
}

// Pass 1: max (lowest index of it) and NaN / +inf detection.
template <class T, int kThreads>
__device__ __forceinline__ bool row_max(const T* row, int64_t v, float& m, int64_t& arg) {
  m = -INFINITY;
  arg = INT64_MAX;
  bool bad = false;
  for_row<T, 4>(row, static_cast<T*>(nullptr), v, [&](float* x, auto n, int64_t j0) {
#pragma unroll
    for (int k = 0; k < decltype(n)::value; ++k) {
      bad |= x[k] != x[k] || x[k] == INFINITY;
      if (x[k] > m) { m = x[k]; arg = j0 + k; }  // a thread sees increasing j
    }
  });
  bad = __syncthreads_or(bad);
  block_argmax<kThreads>(m, arg);
  return bad || arg == INT64_MAX;
}

template <int kThreads>
__device__ __forceinline__ double block_sum_all(double x) {
  using R = cub::BlockReduce<double, kThreads>;
  __shared__ typename R::TempStorage tmp;
  __shared__ double out;
  x = R(tmp).Sum(x);
  if (threadIdx.x == 0) out = x;
  __syncthreads();
  x = out;
  __syncthreads();
  return x;
}

template <int kThreads>
__device__ __forceinline__ int64_t block_max_i64(int64_t x) {
  using R = cub::BlockReduce<int64_t, kThreads>;
  __shared__ typename R::TempStorage tmp;
  __shared__ int64_t out;
  x = R(tmp).Reduce(x, ::cuda::maximum<>{});
  if (threadIdx.x == 0) out = x;
  __syncthreads();
  x = out;
  __syncthreads();
  return x;
}

// First i < n whose inclusive prefix sum of val(i) (fp64, in index order)
// crosses thresh (> when kStrict, else >=), or -1; *sum gets the sum of all n
// when nothing crossed. Tiles of kThreads * kItems, each thread kItems
// consecutive values; deterministic for given inputs.
template <int kThreads, bool kStrict, class Val>
__device__ int64_t first_crossing(int64_t n, double thresh, Val&& val, double* sum) {
  using Scan = cub::BlockScan<double, kThreads>;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ unsigned long long found;
  if (threadIdx.x == 0) found = ~0ull;
  double base = 0;
  for (int64_t start = 0; start < n; start += int64_t(kThreads) * kItems) {
    const int64_t j0 = start + int64_t(threadIdx.x) * kItems;
    float p[kItems];
    double ts = 0;
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
      p[k] = j0 + k < n ? val(j0 + k) : 0.f;
      ts += p[k];
    }
    double excl, agg;
    __syncthreads();  // tmp reuse across tiles
    Scan(tmp).ExclusiveSum(ts, excl, agg);
    double c = base + excl;
    bool hit = false;
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
      if (j0 + k >= n) break;
      c += p[k];
      if (kStrict ? c > thresh : c >= thresh) {
        atomicMin(&found, static_cast<unsigned long long>(j0 + k));
        hit = true;
        break;
      }
    }
    if (__syncthreads_or(hit)) {
      const int64_t r = static_cast<int64_t>(found);
      __syncthreads();
      return r;
    }
    base += agg;
  }
  if (sum) *sum = base;
  return -1;
}

// Exponent bin of p in (0, 1]: 0 for p = 1, i for [2^-i, 2^-i+1), capped.
__device__ __forceinline__ int exp_bin(float p) {
  const int e = static_cast<int>(__float_as_uint(p) >> 23);
  return min(kBins - 1, 127 - e);
}

// Truncated sampling, stats pass: total mass and the candidate threshold.
template <class T, int kThreads>
__device__ void row_stats(const T* row, const Params& P, float mt, int64_t arg, const unsigned long long* tab,
                          RowInfo* info, int32_t* token) {
  __shared__ float hm[kBins][kThreads];
  __shared__ unsigned hc[kBins][kThreads];
  __shared__ double bm[kBins];
  __shared__ unsigned long long bc[kBins];
  const int tid = threadIdx.x;
  for (int i = 0; i < kBins; ++i) { hm[i][tid] = 0.f; hc[i][tid] = 0u; }
  const int64_t v = P.a.v;
  const float inv_t = P.inv_t;
  double total = 0;
  for_row<T, 4>(row, static_cast<T*>(nullptr), v, [&](float* x, auto n, int64_t) {
#pragma unroll
    for (int k = 0; k < decltype(n)::value; ++k) {
      const float p = prob(x[k], inv_t, mt, tab);
      total += p;
      if (p > 0.f) {
        const int b = exp_bin(p);
        hm[b][tid] += p;
        hc[b][tid] += 1u;
      }
    }
  });
  total = block_sum_all<kThreads>(total);  // syncs: the columns are complete
  const int lane = tid & 31, warp = tid >> 5;
  for (int b = warp; b < kBins; b += kThreads / 32) {
    double s = 0;
    unsigned long long c = 0;
    for (int i = lane; i < kThreads; i += 32) { s += hm[b][i]; c += hc[b][i]; }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
      s += __shfl_xor_sync(0xffffffffu, s, off);
      c += __shfl_xor_sync(0xffffffffu, c, off);
    }
    if (lane == 0) { bm[b] = s; bc[b] = c; }
  }
  __syncthreads();
  if (tid == 0) {
    const double need = P.top_p ? static_cast<double>(P.a.top_p) * total * (1.0 + kMassMargin) : 0.0;
    double cm = 0;
    unsigned long long cc = 0;
    float t = 0.f;
    int i = 0;
    for (; i < kBins - 1; ++i) {
      cm += bm[i];
      cc += bc[i];
      const bool ok = P.top_k ? cc >= static_cast<unsigned long long>(P.a.top_k) : cm >= need;
      if (ok) { t = ldexpf(1.f, -i); break; }
    }
    if (i == kBins - 1) cc += bc[kBins - 1];  // t = 0: every p > 0
    RowInfo ri;
    ri.mass = total; ri.mt = mt; ri.t = t; ri.count = static_cast<int32_t>(cc); ri.pad = 0;
    if (cc == 0) {  // only when max / T overflows (p of the max is NaN); the CPU has no answer
      ri.count = -1;
      *token = static_cast<int32_t>(arg);
    }
    *info = ri;
  }
  __syncthreads();
}

template <class T, int kThreads, int kMode>
__global__ void __launch_bounds__(kThreads) sample_row_kernel(Params P, RowInfo* info, unsigned long long* bad) {
  __shared__ ExpTable et;
  if (kMode != kGreedy) et.load();
  const SampleArgs& a = P.a;
  const T* logits = static_cast<const T*>(a.logits);
  for (int64_t r = blockIdx.x; r < a.b; r += gridDim.x) {
    const T* row = logits + r * a.v;
    float m;
    int64_t arg;
    if (row_max<T, kThreads>(row, a.v, m, arg)) {
      if (threadIdx.x == 0) {
        flag_bad_row(bad, r);
        a.tokens[r] = 0;
        if (kMode == kStats) { RowInfo ri{}; ri.count = -1; info[r] = ri; }
      }
      continue;
    }
    if constexpr (kMode == kGreedy) {
      if (threadIdx.x == 0) a.tokens[r] = static_cast<int32_t>(arg);
    } else {
      const float mt = __fmul_rn(m, P.inv_t);
      if constexpr (kMode == kStats) {
        row_stats<T, kThreads>(row, P, mt, arg, et.tab, info + r, a.tokens + r);
      } else {
        // Total mass and the last index with p != 0 (the CPU's fallback).
        double total = 0;
        int64_t last = -1;
        for_row<T, 4>(row, static_cast<T*>(nullptr), a.v, [&](float* x, auto n, int64_t j0) {
#pragma unroll
          for (int k = 0; k < decltype(n)::value; ++k) {
            const float p = prob(x[k], P.inv_t, mt, et.tab);
            total += p;
            if (p != 0.f) last = j0 + k;  // increasing per thread
          }
        });
        total = block_sum_all<kThreads>(total);
        last = block_max_i64<kThreads>(last);
        const double target = static_cast<double>(a.uniforms[r]) * total;
        const int64_t j = first_crossing<kThreads, true>(
            a.v, target, [&](int64_t i) { return prob(Elem<T>::load(row + i), P.inv_t, mt, et.tab); }, nullptr);
        if (threadIdx.x == 0) a.tokens[r] = static_cast<int32_t>(j >= 0 ? j : (last >= 0 ? last : arg));
      }
    }
  }
}

// Candidates {p >= t, p > 0} of each row, in id order, at keys/ids + off[r].
template <class T, int kThreads>
__global__ void __launch_bounds__(kThreads) compact_kernel(Params P, const RowInfo* info, const int64_t* off,
                                                           float* keys, int32_t* ids) {
  using Scan = cub::BlockScan<int, kThreads>;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ ExpTable et;
  et.load();
  const SampleArgs& a = P.a;
  const T* logits = static_cast<const T*>(a.logits);
  for (int64_t r = blockIdx.x; r < a.b; r += gridDim.x) {
    const RowInfo ri = info[r];
    if (ri.count <= 0) continue;
    const T* row = logits + r * a.v;
    float* k_out = keys + off[r];
    int32_t* i_out = ids + off[r];
    int64_t base = 0;
    for (int64_t start = 0; start < a.v; start += int64_t(kThreads) * kItems) {
      const int64_t j0 = start + int64_t(threadIdx.x) * kItems;
      float p[kItems];
      int cnt = 0;
#pragma unroll
      for (int k = 0; k < kItems; ++k) {
        p[k] = j0 + k < a.v ? prob(Elem<T>::load(row + j0 + k), P.inv_t, ri.mt, et.tab) : 0.f;
        cnt += p[k] > 0.f && p[k] >= ri.t;
      }
      int excl, agg;
      __syncthreads();
      Scan(tmp).ExclusiveSum(cnt, excl, agg);
      int64_t pos = base + excl;
#pragma unroll
      for (int k = 0; k < kItems; ++k)
        if (p[k] > 0.f && p[k] >= ri.t) {
          k_out[pos] = p[k];
          i_out[pos] = static_cast<int32_t>(j0 + k);
          ++pos;
        }
      base += agg;
    }
  }
}

// Sorted candidates -> top-k, nucleus, token (the CPU's loops, as block scans).
template <int kThreads>
__global__ void __launch_bounds__(kThreads) select_kernel(Params P, const RowInfo* info, const int64_t* off,
                                                          const float* keys, const int32_t* ids) {
  const SampleArgs& a = P.a;
  for (int64_t r = blockIdx.x; r < a.b; r += gridDim.x) {
    const RowInfo ri = info[r];
    if (ri.count <= 0) continue;
    const float* p = keys + off[r];
    const int32_t* id = ids + off[r];
    auto val = [&](int64_t i) { return p[i]; };
    const int64_t n = ri.count;
    const int64_t kk = P.top_k && n > a.top_k ? a.top_k : n;
    int64_t keep = kk;
    if (P.top_p) {
      double mass = ri.mass;
      if (P.top_k) first_crossing<kThreads, true>(kk, INFINITY, val, &mass);
      const double need = static_cast<double>(a.top_p) * mass;
      const int64_t i = first_crossing<kThreads, false>(kk, need, val, nullptr);
      if (i >= 0) keep = i + 1;
    }
    double total = 0;
    first_crossing<kThreads, true>(keep, INFINITY, val, &total);
    const double target = static_cast<double>(a.uniforms[r]) * total;
    const int64_t i = first_crossing<kThreads, true>(keep, target, val, nullptr);
    if (threadIdx.x == 0) a.tokens[r] = id[i >= 0 ? i : keep - 1];
  }
}

unsigned row_grid(int64_t n) { return static_cast<unsigned>(n < kMaxRowBlocks ? n : kMaxRowBlocks); }

template <class T, int kThreads>
Status launch_rows(const Params& P, int mode, RowInfo* info, unsigned long long* flag) {
  const unsigned g = row_grid(P.a.b);
  if (mode == kGreedy) sample_row_kernel<T, kThreads, kGreedy><<<g, kThreads>>>(P, info, flag);
  else if (mode == kPlain) sample_row_kernel<T, kThreads, kPlain><<<g, kThreads>>>(P, info, flag);
  else sample_row_kernel<T, kThreads, kStats><<<g, kThreads>>>(P, info, flag);
  return launched("sample_row_kernel");
}

Status read_flag(const unsigned long long* flag, int64_t* bad_row) {
  unsigned long long h = 0;
  RLVR_CUDA_TRY(cudaMemcpy(&h, flag, sizeof h, cudaMemcpyDeviceToHost));
  if (bad_row) *bad_row = h == ~0ull ? -1 : static_cast<int64_t>(h);
  return Status::Ok();
}

}  // namespace

// Greedy and untruncated sampling run asynchronously unless bad_row is asked
// for; truncated sampling synchronizes once to size the candidate buffers.
Status sample_cuda(const SampleArgs& a) {
  if (a.b < 0 || a.v < 0) return Status::Error(Code::Shape, "logits", "negative shape");
  if (a.b > 0 && a.v == 0) return Status::Error(Code::Shape, "logits", "vocabulary size must be positive");
  if (a.v > INT32_MAX) return Status::Error(Code::Shape, "logits", "vocabulary too large for int32 tokens");
  if (!(a.temperature >= 0.f)) return Status::Error(Code::Value, "temperature", "temperature must be >= 0");
  if (a.bad_row) *a.bad_row = -1;
  if (a.b == 0) return Status::Ok();
  if (!a.logits || !a.tokens) return Status::Error(Code::Value, "logits", "null logits or tokens");
  if (a.temperature != 0.f && !a.uniforms) return Status::Error(Code::Value, "uniforms", "null uniforms");

  Params P;
  P.a = a;
  P.inv_t = a.temperature == 0.f ? 0.f : 1.f / a.temperature;
  P.top_k = a.top_k > 0 && a.top_k < a.v;
  P.top_p = a.top_p < 1.f;
  const int mode = a.temperature == 0.f ? kGreedy : (P.top_k || P.top_p) ? kStats : kPlain;
  const bool wide = a.v >= 4096;

  // Scratch: [bad-row flag | RowInfo x b]
  Scratch s1;
  const size_t info_off = 64;
  if (Status s = s1.alloc(info_off + sizeof(RowInfo) * static_cast<size_t>(a.b)); !s.ok()) return s;
  unsigned long long* flag = s1.as<unsigned long long>();
  RowInfo* info = s1.as<RowInfo>(info_off);
  RLVR_CUDA_TRY(cudaMemsetAsync(flag, 0xff, sizeof *flag, 0));

  Status s = dispatch_logits(a.logits_dtype, [&](auto tag) {
    using T = decltype(tag);
    return wide ? launch_rows<T, 256>(P, mode, info, flag) : launch_rows<T, 64>(P, mode, info, flag);
  });
  if (!s.ok()) return s;
  if (mode != kStats) return a.bad_row ? read_flag(flag, a.bad_row) : Status::Ok();

  // Truncated: size the candidate buffers from the per-row counts.
  std::vector<RowInfo> hinfo(static_cast<size_t>(a.b));
  RLVR_CUDA_TRY(cudaMemcpy(hinfo.data(), info, sizeof(RowInfo) * hinfo.size(), cudaMemcpyDeviceToHost));
  std::vector<int64_t> hoff(hinfo.size() + 1, 0);
  for (size_t r = 0; r < hinfo.size(); ++r) hoff[r + 1] = hoff[r] + (hinfo[r].count > 0 ? hinfo[r].count : 0);
  const int64_t total = hoff.back();
  if (total > 0) {
    size_t sort_bytes = 0;
    RLVR_CUDA_TRY(cub::DeviceSegmentedSort::StableSortPairsDescending(
        nullptr, sort_bytes, static_cast<const float*>(nullptr), static_cast<float*>(nullptr),
        static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), total, a.b,
        static_cast<const int64_t*>(nullptr), static_cast<const int64_t*>(nullptr), 0));
    auto align = [](size_t x) { return (x + 255) & ~size_t(255); };
    const size_t off_bytes = align(sizeof(int64_t) * hoff.size()), kv = align(sizeof(float) * total);
    Scratch s2;
    if (Status e = s2.alloc(off_bytes + 4 * kv + align(sort_bytes)); !e.ok()) return e;
    int64_t* d_off = s2.as<int64_t>();
    float* keys_in = s2.as<float>(off_bytes);
    float* keys_out = s2.as<float>(off_bytes + kv);
    int32_t* ids_in = s2.as<int32_t>(off_bytes + 2 * kv);
    int32_t* ids_out = s2.as<int32_t>(off_bytes + 3 * kv);
    void* sort_tmp = s2.as<void>(off_bytes + 4 * kv);
    RLVR_CUDA_TRY(cudaMemcpyAsync(d_off, hoff.data(), sizeof(int64_t) * hoff.size(), cudaMemcpyHostToDevice, 0));
    s = dispatch_logits(a.logits_dtype, [&](auto tag) {
      using T = decltype(tag);
      if (wide) compact_kernel<T, 256><<<row_grid(a.b), 256>>>(P, info, d_off, keys_in, ids_in);
      else compact_kernel<T, 64><<<row_grid(a.b), 64>>>(P, info, d_off, keys_in, ids_in);
      return launched("sample compact_kernel");
    });
    if (!s.ok()) return s;
    RLVR_CUDA_TRY(cub::DeviceSegmentedSort::StableSortPairsDescending(
        sort_tmp, sort_bytes, keys_in, keys_out, ids_in, ids_out, total, a.b, d_off, d_off + 1, 0));
    select_kernel<256><<<row_grid(a.b), 256>>>(P, info, d_off, keys_out, ids_out);
    if (Status e = launched("sample select_kernel"); !e.ok()) return e;
    // s2 is freed stream-ordered after the kernels; no sync needed for it.
  }
  return a.bad_row ? read_flag(flag, a.bad_row) : Status::Ok();
}

}  // namespace rlvr::kernels
