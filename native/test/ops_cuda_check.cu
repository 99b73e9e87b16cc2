// rlvr_cuda_engine_check: every CUDA engine op (native/src/ops/ops.h) against
// its CPU reference (native/src/ops/ref/ref_ops.cpp) on random inputs of odd shapes.
// One PASS/FAIL line per comparison:
//   PASS|FAIL <op>[<shape>] n=<elements> max_abs_err=.. max_err/tol=.. tol=<rule> [first mismatch]
// max_err/tol > 1 fails. Exit code: 0 all passed, 1 any FAIL, 2/3 a CUDA
// runtime / Status error (printed with the op that raised it).
//   usage: rlvr_cuda_engine_check [--quick]   (--quick: smaller GEMM / attention shapes)
#include <algorithm>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

#include "ops/cuda/cublas_gemm.h"
#include "ops/ops.h"
#include "test/harness.h"

using namespace rlvr;
using namespace rlvr::engine::ops;

namespace {

int g_pass = 0, g_fail = 0;
bool g_quick = false;
const float kInf = std::numeric_limits<float>::infinity();

// Printed before each case, so that a crash or a CUDA error (exit 2/3, which
// may surface at a later copy) is attributable: the last "# running" line
// names the op and shape that was executing.
void section(const char* what, const char* shape_fmt, ...) __attribute__((format(printf, 2, 3)));
void section(const char* what, const char* shape_fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, shape_fmt);
  std::vsnprintf(buf, sizeof buf, shape_fmt, ap);
  va_end(ap);
  std::printf("# running %s[%s]\n", what, buf);
  std::fflush(stdout);
}

void verdict(const std::string& name, bool ok, const std::string& detail) {
  (ok ? g_pass : g_fail)++;
  std::printf("%s %s %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
  std::fflush(stdout);
}

// Element i passes when |got - want| <= tol(i); infinities must match exactly,
// NaN never passes. Reports the worst err/tol and the first mismatch.
void compare(const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
             const std::function<double(size_t)>& tol, const std::string& rule) {
  size_t bad = 0, first = 0;
  double worst = 0, max_abs = 0;
  if (got.size() != want.size()) {
    verdict(name, false, "size mismatch " + std::to_string(got.size()) + " vs " + std::to_string(want.size()));
    return;
  }
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got[i], w = want[i], t = tol(i);
    bool ok;
    double err = 0;
    if (std::isnan(g) || std::isnan(w)) ok = false;
    else if (std::isinf(g) || std::isinf(w)) ok = g == w;
    else {
      err = std::fabs(g - w);
      ok = err <= t;
      max_abs = std::max(max_abs, err);
      worst = std::max(worst, t > 0 ? err / t : (err > 0 ? kInf : 0.0));
    }
    if (!ok && bad++ == 0) first = i;
  }
  char buf[512];
  int k = std::snprintf(buf, sizeof buf, "n=%zu max_abs_err=%.3g max_err/tol=%.3g tol=%s mismatches=%zu", want.size(),
                        max_abs, worst, rule.c_str(), bad);
  if (bad)
    std::snprintf(buf + k, sizeof buf - k, " first at %zu: got %.9g want %.9g (tol %.3g)", first, got[first],
                  want[first], tol(first));
  verdict(name, bad == 0, buf);
}
// |err| <= atol + rtol |want|
void compare_rel(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, double atol,
                 double rtol) {
  char rule[96];
  std::snprintf(rule, sizeof rule, "%.2g+%.2g*|want|", atol, rtol);
  compare(name, got, want, [&](size_t i) { return atol + rtol * std::fabs(want[i]); }, rule);
}
// Tolerance relative to the tensor's largest |want| (for gradients whose
// elements are differences of larger terms): |err| <= frac * (max|want| + floor)
void compare_scaled(const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
                    double frac, double floor = 1e-3) {
  double mx = 0;
  for (float w : want)
    if (std::isfinite(w)) mx = std::max(mx, double(std::fabs(w)));
  const double t = frac * (mx + floor);
  char rule[96];
  std::snprintf(rule, sizeof rule, "%.2g*(max|want|=%.3g+%.0e)", frac, mx, floor);
  compare(name, got, want, [&](size_t) { return t; }, rule);
}
void compare_exact(const std::string& name, const std::vector<float>& got, const std::vector<float>& want) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&got[i], &want[i], 4) != 0 && bad++ == 0) first = i;
  char buf[256];
  int k = std::snprintf(buf, sizeof buf, "n=%zu tol=bitwise mismatches=%zu", want.size(), bad);
  if (bad) std::snprintf(buf + k, sizeof buf - k, " first at %zu: got %.9g want %.9g", first, got[first], want[first]);
  verdict(name, bad == 0, buf);
}
template <class T>
void compare_ints(const std::string& name, const std::vector<T>& got, const std::vector<T>& want) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i] && bad++ == 0) first = i;
  char buf[256];
  int k = std::snprintf(buf, sizeof buf, "n=%zu tol=exact mismatches=%zu", want.size(), bad);
  if (bad)
    std::snprintf(buf + k, sizeof buf - k, " first at %zu: got %lld want %lld", first, (long long)got[first],
                  (long long)want[first]);
  verdict(name, bad == 0, buf);
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::vector<float> randn(size_t n, Rng& rng, float scale = 1.f) {
  std::vector<float> x(n);
  for (auto& v : x) v = scale * rng.normal();
  return x;
}

uint16_t bf16_bits(float f) {  // round to nearest even (finite inputs)
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// bf16 bits as the fp32 values they stand for (exact), and fp32 values rounded
// to bf16 on the host: the bf16 twins of fp32 ops are compared bitwise so.
std::vector<float> widen(const std::vector<uint16_t>& b) {
  std::vector<float> f(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    const uint32_t w = static_cast<uint32_t>(b[i]) << 16;
    std::memcpy(&f[i], &w, 4);
  }
  return f;
}
std::vector<uint16_t> rounded(const std::vector<float>& x) {
  std::vector<uint16_t> b(x.size());
  for (size_t i = 0; i < x.size(); ++i) b[i] = bf16_bits(x[i]);
  return b;
}

// ---- GEMM ---------------------------------------------------------------------------

void check_gemm(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, bool bias, bool acc,
                uint64_t seed) {
  section("gemm", "%s ta=%d tb=%d m=%lld n=%lld k=%lld pad=%lld", dt == DType::BF16 ? "bf16" : "f32", ta, tb,
          (long long)m, (long long)n, (long long)k, (long long)pad);
  Rng rng(seed);
  // Storage: A is [m][k] (or [k][m] when ta) with leading dim + pad; same for B.
  const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + (pad ? 3 : 0);
  std::vector<float> af = randn(size_t(a_rows * lda), rng), bf = randn(size_t(b_rows * ldb), rng);
  std::vector<float> cinit = randn(size_t(m * ldc), rng), bv = randn(size_t(n), rng);
  std::vector<uint16_t> ah(af.size()), bh(bf.size());
  if (dt == DType::BF16) {
    for (size_t i = 0; i < af.size(); ++i) ah[i] = bf16_bits(af[i]);
    for (size_t i = 0; i < bf.size(); ++i) bh[i] = bf16_bits(bf[i]);
  }
  GemmArgs g;
  g.m = m; g.n = n; g.k = k; g.lda = lda; g.ldb = ldb; g.ldc = ldc; g.trans_a = ta; g.trans_b = tb; g.dtype = dt;
  g.bias = bias ? bv.data() : nullptr; g.accumulate = acc;
  const void* ha = dt == DType::BF16 ? static_cast<const void*>(ah.data()) : af.data();
  const void* hb = dt == DType::BF16 ? static_cast<const void*>(bh.data()) : bf.data();
  std::vector<float> want = cinit, absum(size_t(m * ldc), 0.f);
  g.a = ha; g.b = hb; g.c = want.data();
  SCHECK(gemm_cpu(g));
  {  // sum_p |A(i,p) B(p,j)| for the tolerance
    std::vector<float> aa(af.size()), ba(bf.size());
    std::vector<uint16_t> aah(ah.size()), bah(bh.size());
    for (size_t i = 0; i < af.size(); ++i) aa[i] = std::fabs(af[i]);
    for (size_t i = 0; i < bf.size(); ++i) ba[i] = std::fabs(bf[i]);
    for (size_t i = 0; i < ah.size(); ++i) aah[i] = ah[i] & 0x7fff;
    for (size_t i = 0; i < bh.size(); ++i) bah[i] = bh[i] & 0x7fff;
    GemmArgs q = g;
    q.a = dt == DType::BF16 ? static_cast<const void*>(aah.data()) : aa.data();
    q.b = dt == DType::BF16 ? static_cast<const void*>(bah.data()) : ba.data();
    q.c = absum.data(); q.bias = nullptr; q.accumulate = false;
    SCHECK(gemm_cpu(q));
  }
  const size_t esz = dt == DType::BF16 ? 2 : 4;
  DevBuf<uint8_t> da(af.size() * esz), db(bf.size() * esz);
  HCHECK(cudaMemcpy(da.p, ha, af.size() * esz, cudaMemcpyHostToDevice));
  HCHECK(cudaMemcpy(db.p, hb, bf.size() * esz, cudaMemcpyHostToDevice));
  DevBuf<float> dc(cinit), dbias(bv);
  GemmArgs d = g;
  d.a = da.p; d.b = db.p; d.c = dc.p; d.bias = bias ? dbias.p : nullptr;
  SCHECK(gemm_cuda(d));
  std::vector<float> got = dc.get();
  // fp32 accumulation over k terms: allow 1e-5 of sum|a*b| (typical error is
  // ~sqrt(k) * 6e-8 of it; a wrong index or a lost tile costs O(1) of it),
  // plus rounding of the bias / C additions.
  const std::string name = fmt("gemm.%s.%s%s[m=%lld n=%lld k=%lld pad=%lld%s%s]", dt == DType::BF16 ? "bf16" : "f32",
                               ta ? "T" : "N", tb ? "T" : "N", (long long)m, (long long)n, (long long)k,
                               (long long)pad, bias ? " bias" : "", acc ? " accumulate" : "");
  compare(name, got, want,
          [&](size_t i) {
            const size_t j = i % size_t(ldc);
            if (j >= size_t(n)) return 0.0;  // padding columns must be untouched
            return 1e-5 * absum[i] + 2e-7 * (std::fabs(cinit[i]) + std::fabs(bv[j]) + std::fabs(want[i])) + 1e-6;
          },
          "1e-5*sum|a*b|+2e-7*(|c0|+|bias|+|want|)+1e-6");
  // determinism: a second run must be bitwise identical
  if (k >= 64) {
    dc.put(cinit);
    SCHECK(gemm_cuda(d));
    compare_exact(name + ".rerun_bitwise", dc.get(), got);
  }
  if (bias || acc) return;
  // bf16 C (c16): the CPU's is its fp32 result rounded, bitwise; the device's is held
  // to the fp32 bound plus the rounding (half a bf16 ulp, 2^-9 of |want|; 2^-8 allowed
  // since a result within the fp32 bound of a rounding midpoint may round either way).
  // Padding columns keep their sentinel.
  std::vector<uint16_t> c16(size_t(m * ldc), 0x7fc1), gotc(size_t(m * ldc));
  GemmArgs h16 = bf16_out(g, c16.data());
  SCHECK(gemm_cpu(h16));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < ldc; ++j) gotc[i * ldc + j] = j < n ? bf16_bits(want[i * ldc + j]) : 0x7fc1;
  compare_ints(name + ".c16_cpu", c16, gotc);
  DevBuf<uint16_t> dc16(std::vector<uint16_t>(size_t(m * ldc), 0x7fc1));
  SCHECK(gemm_cuda(bf16_out(d, dc16.p)));
  const std::vector<uint16_t> g16 = dc16.get();
  bool pad_ok = true;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldc; ++j) pad_ok = pad_ok && g16[i * ldc + j] == 0x7fc1;
  verdict(name + ".c16_padding_untouched", pad_ok, pad_ok ? "ok" : "a padding column was written");
  std::vector<float> w16 = widen(g16);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldc; ++j) w16[i * ldc + j] = want[i * ldc + j];  // checked above
  compare(name + ".c16_cuda", w16, want,
          [&](size_t i) { return 1e-5 * absum[i] + 2e-7 * std::fabs(want[i]) + 1e-6 + std::ldexp(std::fabs(want[i]), -8); },
          "1e-5*sum|a*b|+2e-7*|want|+1e-6+2^-8*|want|");
}

void check_linear_helpers(DType dt, uint64_t seed) {
  section("linear helpers", "%s", dt == DType::BF16 ? "bf16" : "f32");
  // y = x W^T + b, dx = dy W, dW += dy^T x through the ops.h helpers, M=77 N=200 K=136
  const int64_t M = 77, N = 200, K = 136;
  Rng rng(seed);
  std::vector<float> x = randn(M * K, rng), W = randn(N * K, rng), b = randn(N, rng), dy = randn(M * N, rng);
  std::vector<float> dW0 = randn(N * K, rng);
  std::vector<uint16_t> xh(x.size()), Wh(W.size()), dyh(dy.size());
  for (size_t i = 0; i < x.size(); ++i) xh[i] = bf16_bits(x[i]);
  for (size_t i = 0; i < W.size(); ++i) Wh[i] = bf16_bits(W[i]);
  for (size_t i = 0; i < dy.size(); ++i) dyh[i] = bf16_bits(dy[i]);
  const bool bf = dt == DType::BF16;
  const void* hx = bf ? (const void*)xh.data() : x.data();
  const void* hW = bf ? (const void*)Wh.data() : W.data();
  const void* hdy = bf ? (const void*)dyh.data() : dy.data();
  const size_t es = bf ? 2 : 4;
  DevBuf<uint8_t> dx_(x.size() * es), dW_(W.size() * es), ddy_(dy.size() * es);
  HCHECK(cudaMemcpy(dx_.p, hx, x.size() * es, cudaMemcpyHostToDevice));
  HCHECK(cudaMemcpy(dW_.p, hW, W.size() * es, cudaMemcpyHostToDevice));
  HCHECK(cudaMemcpy(ddy_.p, hdy, dy.size() * es, cudaMemcpyHostToDevice));
  DevBuf<float> db(b), y(M * N), gx(M * K), gW(dW0);
  std::vector<float> wy(M * N), wgx(M * K), wgW = dW0;
  SCHECK(gemm_cpu(linear_fwd(M, N, K, hx, hW, b.data(), wy.data(), false, dt)));
  SCHECK(gemm_cpu(linear_bwd_input(M, N, K, hdy, hW, wgx.data(), false, dt)));
  SCHECK(gemm_cpu(linear_bwd_weight(M, N, K, hdy, hx, wgW.data(), dt)));
  SCHECK(gemm_cuda(linear_fwd(M, N, K, dx_.p, dW_.p, db.p, y.p, false, dt)));
  SCHECK(gemm_cuda(linear_bwd_input(M, N, K, ddy_.p, dW_.p, gx.p, false, dt)));
  SCHECK(gemm_cuda(linear_bwd_weight(M, N, K, ddy_.p, dx_.p, gW.p, dt)));
  const char* t = bf ? "bf16" : "f32";
  // values are sums of ~100-200 N(0,1) products: |sum| ~ 10-15, sum|a*b| ~ 100-160
  compare_rel(fmt("linear_fwd.%s[M=77 N=200 K=136 bias]", t), y.get(), wy, 2e-3, 1e-5);
  compare_rel(fmt("linear_bwd_input.%s[M=77 N=200 K=136]", t), gx.get(), wgx, 2e-3, 1e-5);
  compare_rel(fmt("linear_bwd_weight.%s[M=77 N=200 K=136 accumulate]", t), gW.get(), wgW, 1e-3, 1e-5);
}

void check_cast(int64_t n, uint64_t seed) {
  section("cast_bf16", "n=%lld", (long long)n);
  Rng rng(seed);
  std::vector<float> x = randn(n, rng, 10.f);
  if (n > 4) { x[0] = 1.00390625f; x[1] = 1.01171875f; x[2] = -0.f; x[3] = 3.0e38f; }  // ties to even, -0, large
  std::vector<uint16_t> want(n);
  SCHECK(cast_bf16_cpu(x.data(), want.data(), n));
  DevBuf<float> dx(x);
  DevBuf<uint16_t> dy(n);
  SCHECK(cast_bf16_cuda(dx.p, dy.p, n));
  compare_ints(fmt("cast_bf16[n=%lld]", (long long)n), dy.get(), want);
  if (n < 2) return;
  // from / to one element past 16-byte alignment: the scalar kernel (the above: 4 per thread + tail)
  DevBuf<uint16_t> dz(n);
  SCHECK(cast_bf16_cuda(dx.p + 1, dz.p + 1, n - 1));
  std::vector<uint16_t> got = dz.get(), want1(want.begin() + 1, want.end());
  got.erase(got.begin());
  compare_ints(fmt("cast_bf16(unaligned)[n=%lld]", (long long)(n - 1)), got, want1);
}

// ---- RMSNorm, bias grad ------------------------------------------------------------------

// A device copy of a host vector placed `off` elements past its allocation's
// start: off = 1 breaks the 16-byte alignment the vectorized kernels need.
template <class T>
struct DevAt {
  DevBuf<T> buf;
  T* p;
  size_t n;
  DevAt(size_t count, int off) : buf(count + off), p(buf.p + off), n(count) {}
  DevAt(const std::vector<T>& h, int off) : DevAt(h.size(), off) { put(h); }
  void put(const std::vector<T>& h) { put_n(p, n, h); }
  std::vector<T> get() const { return get_n(p, n); }
};

// off: the row tensors (x, y, y16, dy, dx, dx16) start that many elements past
// an aligned address (1: the kernels' scalar paths even when h % 4 == 0).
void check_rmsnorm(int64_t n, int64_t h, bool acc, uint64_t seed, int off = 0) {
  section("rmsnorm", "n=%lld h=%lld acc=%d off=%d", (long long)n, (long long)h, acc, off);
  Rng rng(seed);
  std::vector<float> x = randn(n * h, rng, 2.f), w = randn(h, rng), dy = randn(n * h, rng);
  std::vector<float> dx0 = randn(n * h, rng), dw0 = randn(h, rng);
  for (int64_t i = 0; i < h; ++i) w[i] += 1.f;
  std::vector<float> y(n * h), inv(n), dx = dx0, dw = dw0;
  RmsNormFwdArgs f;
  f.x = x.data(); f.w = w.data(); f.y = y.data(); f.inv = inv.data(); f.n = n; f.h = h; f.eps = 1e-6f;
  SCHECK(rmsnorm_fwd_cpu(f));
  RmsNormBwdArgs b;
  b.x = x.data(); b.w = w.data(); b.inv = inv.data(); b.dy = dy.data(); b.dx = dx.data(); b.dw = dw.data();
  b.n = n; b.h = h; b.accumulate = acc;
  SCHECK(rmsnorm_bwd_cpu(b));
  DevAt<float> gx(x, off), gy(n * h, off), gdy(dy, off), gdx(dx0, off);
  DevBuf<float> gw(w), ginv(n), gdw(dw0);
  RmsNormFwdArgs fg = f;
  fg.x = gx.p; fg.w = gw.p; fg.y = gy.p; fg.inv = ginv.p;
  SCHECK(rmsnorm_fwd_cuda(fg));
  RmsNormBwdArgs bg = b;
  bg.x = gx.p; bg.w = gw.p; bg.inv = ginv.p; bg.dy = gdy.p; bg.dx = gdx.p; bg.dw = gdw.p;
  const std::string shape = fmt("[n=%lld h=%lld%s%s]", (long long)n, (long long)h, acc ? " accumulate" : "",
                                off ? " unaligned" : "");
  // the CUDA backward reads its own inv; compare it first, then feed the CPU's so both see the same input
  const std::vector<float> ginv_h = ginv.get();
  compare_rel("rmsnorm_fwd.inv" + shape, ginv_h, inv, 0, 2e-6);
  compare_rel("rmsnorm_fwd.y" + shape, gy.get(), y, 1e-6, 4e-6);
  ginv.put(inv);
  SCHECK(rmsnorm_bwd_cuda(bg));
  const std::vector<float> gdx_h = gdx.get(), gdw_h = gdw.get();
  compare_rel("rmsnorm_bwd.dx" + shape, gdx_h, dx, 2e-5, 2e-5);
  compare_rel("rmsnorm_bwd.dw(accumulated)" + shape, gdw_h, dw, 1e-5, 1e-5);
  // deterministic: the same inputs again give the same bits (fixed row chunks, no atomics)
  gdx.put(dx0);
  gdw.put(dw0);
  SCHECK(rmsnorm_bwd_cuda(bg));
  compare_exact("rmsnorm_bwd.dx(rerun)" + shape, gdx.get(), gdx_h);
  compare_exact("rmsnorm_bwd.dw(rerun)" + shape, gdw.get(), gdw_h);

  // bf16 twins (y16 alone, as OpsModel's bf16 mode; dx16 next to dx): bitwise the fp32
  // outputs rounded, on each side
  std::vector<uint16_t> y16(n * h), dx16(n * h);
  std::vector<float> dxb = dx0, dwb = dw0;
  RmsNormFwdArgs f16 = f;
  f16.y = nullptr; f16.y16 = y16.data();
  SCHECK(rmsnorm_fwd_cpu(f16));
  compare_exact("rmsnorm_fwd.y16_cpu" + shape, widen(y16), widen(rounded(y)));
  RmsNormBwdArgs b16 = b;
  b16.dx = dxb.data(); b16.dw = dwb.data(); b16.dx16 = dx16.data();
  SCHECK(rmsnorm_bwd_cpu(b16));
  compare_exact("rmsnorm_bwd.dx16_cpu" + shape, widen(dx16), widen(rounded(dx)));
  compare_exact("rmsnorm_bwd.dx_cpu(with dx16)" + shape, dxb, dx);
  DevAt<uint16_t> gy16(n * h, off), gdx16(n * h, off);
  const std::vector<float> gy_h = gy.get();
  fg.y = nullptr; fg.y16 = gy16.p;
  SCHECK(rmsnorm_fwd_cuda(fg));
  compare_exact("rmsnorm_fwd.y16_cuda.vs_cuda_f32_rounded" + shape, widen(gy16.get()), widen(rounded(gy_h)));
  gdx.put(dx0);
  gdw.put(dw0);
  ginv.put(inv);
  bg.dx16 = gdx16.p;
  SCHECK(rmsnorm_bwd_cuda(bg));
  compare_exact("rmsnorm_bwd.dx16_cuda.vs_cuda_f32_rounded" + shape, widen(gdx16.get()), widen(rounded(gdx_h)));
  compare_exact("rmsnorm_bwd.dx_cuda(with dx16)" + shape, gdx.get(), gdx_h);
  compare_exact("rmsnorm_bwd.dw_cuda(with dx16)" + shape, gdw.get(), gdw_h);
}

void check_bias_bwd(int64_t n, int64_t d, uint64_t seed) {
  section("bias_bwd", "n=%lld d=%lld", (long long)n, (long long)d);
  Rng rng(seed);
  std::vector<float> dy = randn(n * d, rng), db = randn(d, rng), want = db;
  SCHECK(bias_bwd_cpu(dy.data(), want.data(), n, d));
  DevBuf<float> gdy(dy), gdb(db);
  SCHECK(bias_bwd_cuda(gdy.p, gdb.p, n, d));
  compare_rel(fmt("bias_bwd[n=%lld d=%lld]", (long long)n, (long long)d), gdb.get(), want, 1e-6, 1e-6);
}

// ---- positions, RoPE ------------------------------------------------------------------

std::vector<float> make_mask(int64_t b, int64_t t, Rng& rng) {
  // row 0: all real; row 1: left padded; row 2: right padded; row 3: all padding;
  // others: random holes.
  std::vector<float> m(b * t, 1.f);
  for (int64_t s = 0; s < b; ++s)
    for (int64_t i = 0; i < t; ++i) {
      float v = 1.f;
      if (s % 5 == 1) v = i < t / 3 ? 0.f : 1.f;
      else if (s % 5 == 2) v = i >= t - t / 4 ? 0.f : 1.f;
      else if (s % 5 == 3) v = 0.f;
      else if (s % 5 == 4) v = rng.uniform() < 0.2f ? 0.f : 1.f;
      m[s * t + i] = v;
    }
  return m;
}

std::vector<float> qwen_inv_freq(int64_t hd, double base = 1e6) {
  std::vector<float> f(hd / 2);
  for (int64_t i = 0; i < hd / 2; ++i) f[i] = static_cast<float>(1.0 / std::pow(base, double(2 * i) / double(hd)));
  return f;
}

void check_positions_rope(int64_t b, int64_t t, int64_t heads, int64_t hd, uint64_t seed) {
  section("positions/rope", "b=%lld t=%lld heads=%lld hd=%lld", (long long)b, (long long)t, (long long)heads, (long long)hd);
  Rng rng(seed);
  std::vector<float> mask = make_mask(b, t, rng);
  std::vector<int32_t> pos(b * t);
  SCHECK(positions_cpu(mask.data(), b, t, pos.data()));
  DevBuf<float> gmask(mask);
  DevBuf<int32_t> gpos(b * t);
  SCHECK(positions_cuda(gmask.p, b, t, gpos.p));
  compare_ints(fmt("positions[b=%lld t=%lld]", (long long)b, (long long)t), gpos.get(), pos);
  // rope table on large positions too
  const int64_t n = b * t;
  std::vector<int32_t> p2 = pos;
  for (int64_t i = 0; i < n; i += 3) p2[i] = static_cast<int32_t>(rng.below(32768));
  std::vector<float> invf = qwen_inv_freq(hd), cs(n * hd);
  SCHECK(rope_table_cpu(p2.data(), n, invf.data(), hd, cs.data()));
  DevBuf<int32_t> gp2(p2);
  DevBuf<float> ginvf(invf), gcs(n * hd);
  SCHECK(rope_table_cuda(gp2.p, n, ginvf.p, hd, gcs.p));
  compare_rel(fmt("rope_table[n=%lld hd=%lld pos<32768]", (long long)n, (long long)hd), gcs.get(), cs, 1.2e-7, 0);
  for (const bool inverse : {false, true}) {
    std::vector<float> x = randn(n * heads * hd, rng), want = x;
    SCHECK(rope_apply_cpu(want.data(), n, heads, hd, cs.data(), inverse));
    DevBuf<float> gx(x), gcs2(cs);
    SCHECK(rope_apply_cuda(gx.p, n, heads, hd, gcs2.p, inverse));
    const std::string name = fmt("rope_apply%s[n=%lld heads=%lld hd=%lld]", inverse ? ".inverse" : "", (long long)n,
                                 (long long)heads, (long long)hd);
    const std::vector<float> got = gx.get();
    compare_rel(name, got, want, 1e-6, 1e-6);
    // the bf16 twin: x as rope_apply leaves it, bitwise, and its RNE rounding (each side)
    std::vector<float> xc = x;
    std::vector<uint16_t> y16(x.size());
    SCHECK(rope_apply_bf16_cpu(xc.data(), n, heads, hd, cs.data(), inverse, y16.data()));
    compare_exact(name + ".bf16_twin_cpu.x", xc, want);
    compare_exact(name + ".bf16_twin_cpu.y16", widen(y16), widen(rounded(want)));
    DevBuf<float> gx2(x);
    DevBuf<uint16_t> gy16(x.size());
    SCHECK(rope_apply_bf16_cuda(gx2.p, n, heads, hd, gcs2.p, inverse, gy16.p));
    compare_exact(name + ".bf16_twin_cuda.x", gx2.get(), got);
    compare_exact(name + ".bf16_twin_cuda.y16", widen(gy16.get()), widen(rounded(got)));
  }
}

// ---- attention --------------------------------------------------------------------------

// packed: each row holds 3 sequences (segments starting at ~t/3 and ~2t/3, jittered per row);
// a query sees only keys from its segment's first slot on (AttnFwdArgs::first). Not packed: 0s.
std::vector<int32_t> packed_first(int64_t b, int64_t t, bool packed) {
  std::vector<int32_t> first(static_cast<size_t>(b * t), 0);
  if (packed)
    for (int64_t r = 0; r < b; ++r) {
      const int64_t c1 = t / 3 + r % 3, c2 = 2 * t / 3 + r % 2;
      for (int64_t j = 0; j < t; ++j) first[r * t + j] = static_cast<int32_t>(j >= c2 ? c2 : j >= c1 ? c1 : 0);
    }
  return first;
}

// Attention args of the training layout (each sequence's t rows are its queries
// and its keys) over one set of arrays, host or device; first: packed segment
// starts, or null.
AttnFwdArgs train_fwd_args(int64_t b, int64_t t, int64_t heads, int64_t kvh, int64_t hd, const float* q, const float* k,
                           const float* v, const float* mask, float* out, float* lse, const int32_t* first) {
  AttnFwdArgs f;
  f.b = b; f.tq = t; f.slot0 = 0; f.heads = heads; f.kv_heads = kvh; f.head_dim = hd; f.q = q; f.k = k; f.v = v;
  f.seq_stride = t; f.mask = mask; f.mask_stride = t; f.out = out; f.lse = lse; f.first = first;
  return f;
}
AttnBwdArgs train_bwd_args(int64_t b, int64_t t, int64_t heads, int64_t kvh, int64_t hd, const float* q, const float* k,
                           const float* v, const float* mask, const float* out, const float* lse, const float* dout,
                           float* dq, float* dk, float* dv, const int32_t* first) {
  AttnBwdArgs a;
  a.b = b; a.t = t; a.heads = heads; a.kv_heads = kvh; a.head_dim = hd; a.q = q; a.k = k; a.v = v; a.mask = mask;
  a.out = out; a.lse = lse; a.dout = dout; a.dq = dq; a.dk = dk; a.dv = dv; a.first = first;
  return a;
}

void check_attention(int64_t b, int64_t t, int64_t heads, int64_t kvh, int64_t hd, uint64_t seed, bool packed = false) {
  section(packed ? "attention fwd/bwd (packed)" : "attention fwd/bwd", "b=%lld t=%lld heads=%lld kv_heads=%lld hd=%lld",
          (long long)b, (long long)t, (long long)heads, (long long)kvh, (long long)hd);
  Rng rng(seed);
  const int64_t n = b * t, Q = heads * hd, KV = kvh * hd;
  std::vector<float> q = randn(n * Q, rng), k = randn(n * KV, rng), v = randn(n * KV, rng), mask = make_mask(b, t, rng);
  const std::vector<int32_t> first = packed_first(b, t, packed);
  std::vector<float> out(n * Q), lse(n * heads);
  AttnFwdArgs f = train_fwd_args(b, t, heads, kvh, hd, q.data(), k.data(), v.data(), mask.data(), out.data(), lse.data(),
                                 packed ? first.data() : nullptr);
  SCHECK(attention_fwd_cpu(f));
  DevBuf<float> gq(q), gk(k), gv(v), gm(mask), gout(n * Q), glse(n * heads);
  DevBuf<int32_t> gfirst(first);
  AttnFwdArgs fg = train_fwd_args(b, t, heads, kvh, hd, gq.p, gk.p, gv.p, gm.p, gout.p, glse.p, packed ? gfirst.p : nullptr);
  SCHECK(attention_fwd_cuda(fg));
  const std::string shape = fmt("%sb=%lld t=%lld heads=%lld kv_heads=%lld hd=%lld", packed ? "packed " : "", (long long)b,
                                (long long)t, (long long)heads, (long long)kvh, (long long)hd);
  compare_rel("attention_fwd.out[" + shape + "]", gout.get(), out, 2e-5, 1e-4);
  compare_rel("attention_fwd.lse[" + shape + "]", glse.get(), lse, 2e-5, 2e-5);

  std::vector<float> dout = randn(n * Q, rng), dq(n * Q), dk(n * KV), dv(n * KV);
  AttnBwdArgs a = train_bwd_args(b, t, heads, kvh, hd, q.data(), k.data(), v.data(), mask.data(), out.data(), lse.data(),
                                 dout.data(), dq.data(), dk.data(), dv.data(), packed ? first.data() : nullptr);
  SCHECK(attention_bwd_cpu(a));
  DevBuf<float> gdout(dout), gdq(n * Q), gdk(n * KV), gdv(n * KV);
  AttnBwdArgs ag = train_bwd_args(b, t, heads, kvh, hd, gq.p, gk.p, gv.p, gm.p, gout.p, glse.p, gdout.p, gdq.p, gdk.p,
                                  gdv.p, packed ? gfirst.p : nullptr);
  SCHECK(attention_bwd_cuda(ag));
  const std::vector<float> hdq = gdq.get(), hdk = gdk.get(), hdv = gdv.get();
  // floor 1e-2: with one visible key dq and dk are exactly 0 by cancellation
  // (dP - D with D = rowsum(dO * O), O = V), leaving fp32 rounding of
  // O(head_dim) products of O(1) inputs, ~hd * 6e-8 (5e-7 measured at hd = 8).
  compare_scaled("attention_bwd.dq[" + shape + "]", hdq, dq, 2e-4, 1e-2);
  compare_scaled("attention_bwd.dk[" + shape + "]", hdk, dk, 2e-4, 1e-2);
  compare_scaled("attention_bwd.dv[" + shape + "]", hdv, dv, 2e-4, 1e-2);
  SCHECK(attention_bwd_cuda(ag));
  compare_exact("attention_bwd.rerun_bitwise.dk[" + shape + "]", gdk.get(), hdk);
}

// Prefill into a KV cache (kv_append + cache layout) then decode steps (tq = 1),
// as Model::prefill / Model::step.
void check_kv_decode(int64_t b, int64_t t, int64_t cap, int64_t heads, int64_t kvh, int64_t hd, uint64_t seed) {
  section("kv_append/prefill/decode", "b=%lld t=%lld cap=%lld heads=%lld kv_heads=%lld hd=%lld", (long long)b, (long long)t,
          (long long)cap, (long long)heads, (long long)kvh, (long long)hd);
  Rng rng(seed);
  const int64_t Q = heads * hd, KV = kvh * hd;
  std::vector<float> cmask(b * cap, 0.f), ck(b * cap * KV, 0.f), cv(b * cap * KV, 0.f);
  std::vector<float> pm = make_mask(b, t, rng);
  for (int64_t s = 0; s < b; ++s) {
    if (s % 5 == 3) pm[s * t + t - 1] = 1.f;  // every row needs a real token
    for (int64_t i = 0; i < t; ++i) cmask[s * cap + i] = pm[s * t + i];
  }
  std::vector<float> k = randn(b * t * KV, rng), v = randn(b * t * KV, rng), q = randn(b * t * Q, rng);
  std::vector<int64_t> rows(b * t);
  for (int64_t s = 0; s < b; ++s)
    for (int64_t i = 0; i < t; ++i) rows[s * t + i] = s * cap + i;
  SCHECK(kv_append_cpu(k.data(), v.data(), b * t, KV, rows.data(), ck.data(), cv.data()));
  DevBuf<float> gk(k), gv(v), gck(b * cap * KV), gcv(b * cap * KV), gcm(cmask), gq(q);
  HCHECK(cudaMemset(gck.p, 0, gck.n * 4));
  HCHECK(cudaMemset(gcv.p, 0, gcv.n * 4));
  DevBuf<int64_t> grows(rows);
  SCHECK(kv_append_cuda(gk.p, gv.p, b * t, KV, grows.p, gck.p, gcv.p));
  const std::string shape = fmt("b=%lld t=%lld cap=%lld heads=%lld kv_heads=%lld hd=%lld", (long long)b, (long long)t,
                                (long long)cap, (long long)heads, (long long)kvh, (long long)hd);
  compare_exact("kv_append.k[" + shape + "]", gck.get(), ck);
  compare_exact("kv_append.v[" + shape + "]", gcv.get(), cv);
  // prefill attention reading the cache
  AttnFwdArgs f;
  f.b = b; f.tq = t; f.heads = heads; f.kv_heads = kvh; f.head_dim = hd; f.q = q.data(); f.k = ck.data();
  f.v = cv.data(); f.seq_stride = cap; f.mask = cmask.data(); f.mask_stride = cap;
  std::vector<float> out(b * t * Q);
  f.out = out.data();
  SCHECK(attention_fwd_cpu(f));
  DevBuf<float> gout(b * t * Q);
  AttnFwdArgs fg = f;
  fg.q = gq.p; fg.k = gck.p; fg.v = gcv.p; fg.mask = gcm.p; fg.out = gout.p;
  SCHECK(attention_fwd_cuda(fg));
  compare_rel("attention_prefill.out[" + shape + "]", gout.get(), out, 2e-5, 1e-4);
  // decode steps
  for (int64_t slot = t; slot < std::min(cap, t + 3); ++slot) {
    std::vector<float> k1 = randn(b * KV, rng), v1 = randn(b * KV, rng), q1 = randn(b * Q, rng);
    std::vector<int64_t> r1(b);
    for (int64_t s = 0; s < b; ++s) { r1[s] = s * cap + slot; cmask[s * cap + slot] = 1.f; }
    SCHECK(kv_append_cpu(k1.data(), v1.data(), b, KV, r1.data(), ck.data(), cv.data()));
    DevBuf<float> gk1(k1), gv1(v1), gq1(q1), go1(b * Q), glse1(b * heads);
    DevBuf<int64_t> gr1(r1);
    gcm.put(cmask);
    SCHECK(kv_append_cuda(gk1.p, gv1.p, b, KV, gr1.p, gck.p, gcv.p));
    AttnFwdArgs d = f;
    d.tq = 1; d.slot0 = slot; d.q = q1.data(); d.k = ck.data(); d.v = cv.data(); d.mask = cmask.data();
    std::vector<float> o1(b * Q), lse1(b * heads);
    d.out = o1.data(); d.lse = lse1.data();
    SCHECK(attention_fwd_cpu(d));
    AttnFwdArgs dg = d;
    dg.q = gq1.p; dg.k = gck.p; dg.v = gcv.p; dg.mask = gcm.p; dg.out = go1.p; dg.lse = glse1.p;
    SCHECK(attention_fwd_cuda(dg));
    compare_rel(fmt("attention_decode.out[%s slot=%lld]", shape.c_str(), (long long)slot), go1.get(), o1, 2e-5, 1e-4);
    compare_rel(fmt("attention_decode.lse[%s slot=%lld]", shape.c_str(), (long long)slot), glse1.get(), lse1, 2e-5,
                2e-5);
  }
}

// ---- bf16 attention (AttnFwdArgs::bf16 / AttnBwdArgs::bf16) -----------------------------
//
// The CUDA op runs ops.h's bf16 math on tensor cores for head_dim <= 128 on
// sm_80+ (the fp32 kernels otherwise), and the decode kernels (tq == 1) stay fp32.
//
// Tolerances against the bf16 CPU reference. Products of bf16 operands are
// exact in fp32 and the reference sums in double, so the GPU differs only by
// its fp32 summation order (s, dp, D, l, o, the gradients) and exp / log ulps:
// ~1e-7 relative in every s and p. That is invisible except where it flips one
// bf16 rounding (of a p or a ds) to the neighbouring bf16 value, which moves that
// one term by a bf16 ulp (<= 2^-7 of the term). Flips need the value within
// ~1e-7 relative of a rounding midpoint, so they are rare, but each may be as
// large as 2^-7 of a term. Hence two bounds per tensor (compare_bf16):
//  - every element: |err| <= 1e-2 * (max|want| + floor). One flip moves an
//    element by <= 2^-7 = 7.8e-3 of a single term, and a term is <= max|want|
//    in practice (out: w_j v_j with w_j <= 1/2 for any p that can flip, since p = 1
//    for the running max is exact). Catches what is wrong in places: a mask,
//    segment or tile-edge error (a missing / extra key is O(1/t..1) of out).
//  - mean: mean|err| <= 3e-5 * (mean|want| + floor). Rare flips barely move it,
//    but a missing, extra or misplaced rounding moves every element. In a CPU
//    simulation of the kernel math (mma-like 16-wide fp32 dot products, exp2f
//    with the scale folded in, fp32 accumulators; this file's shapes) the mean
//    ratio was <= 3.4e-6 (max element ratio <= 2.8e-4), while P, V, dS or dO
//    left unrounded gave 6.6e-4..3.5e-3 and key tiles of 128 slots, or tiles
//    counted from `first` instead of slot 0, gave 5e-5..2.4e-4.
// lse: no bf16 rounding reaches it (l sums the fp32 p), so the fp32 check's bound.
// floor: 1e-3 for out; 1e-2 for the gradients, as in check_attention (with one
// visible key dq and dk are pure rounding noise, 0 in exact arithmetic).
bool g_tc = false;  // sm_80+: the bf16 attention runs on tensor cores (head_dim <= 128)
constexpr double kBf16ElFrac = 1e-2, kBf16MeanFrac = 3e-5;

void compare_bf16(const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
                  double floor) {
  double mx = 0, sum_w = 0, sum_e = 0;
  size_t n = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    if (!std::isfinite(want[i])) continue;  // (+inf lse: compare() requires an exact match)
    mx = std::max(mx, double(std::fabs(want[i])));
    sum_w += std::fabs(want[i]);
    sum_e += std::isfinite(got[i]) ? std::fabs(double(got[i]) - want[i]) : kInf;
    ++n;
  }
  const double t = kBf16ElFrac * (mx + floor);
  char rule[96];
  std::snprintf(rule, sizeof rule, "%.2g*(max|want|=%.3g+%.0e)", kBf16ElFrac, mx, floor);
  compare(name, got, want, [&](size_t) { return t; }, rule);
  const double mean_w = n ? sum_w / n : 0, mean_e = n ? sum_e / n : 0, mt = kBf16MeanFrac * (mean_w + floor);
  char buf[256];
  std::snprintf(buf, sizeof buf, "n=%zu mean_abs_err=%.3g mean_err/tol=%.3g tol=%.2g*(mean|want|=%.3g+%.0e)", n, mean_e,
                mean_e / mt, kBf16MeanFrac, mean_w, floor);
  verdict(name + ".mean", mean_e <= mt, buf);
}

// CPU only: the bf16 reference is the fp32 one up to bf16 roundings (within 3e-2
// of the tensor's scale: the roundings measure ~3e-3..6.5e-3 of it), and those
// roundings are active (all but a few of the elements that are not 0 / +inf on
// both sides differ; a rounding that never happened would leave them equal).
void check_bf16_ref(const std::string& name, const std::vector<float>& bf, const std::vector<float>& f32,
                    double floor) {
  compare_scaled(name + ".bf16_ref_vs_f32_ref", bf, f32, 3e-2, floor);
  size_t nonzero = 0, differ = 0;
  for (size_t i = 0; i < bf.size() && i < f32.size(); ++i) {
    if ((bf[i] == 0.f && f32[i] == 0.f) || !std::isfinite(f32[i])) continue;  // (no visible key: 0 / +inf)
    ++nonzero;
    differ += std::memcmp(&bf[i], &f32[i], 4) != 0;
  }
  verdict(name + ".bf16_ref_rounds", nonzero > 0 && differ >= 0.9 * nonzero,
          fmt("%zu of %zu nonzero elements differ from the fp32 reference (need >= 90%%)", differ, nonzero));
}

// Training layout, forward and backward (packed as check_attention). The
// backward gets the CPU forward's out / lse on both sides, so that it is
// measured alone.
void check_attention_bf16(int64_t b, int64_t t, int64_t heads, int64_t kvh, int64_t hd, uint64_t seed,
                          bool packed = false) {
  section(packed ? "attention bf16 fwd/bwd (packed)" : "attention bf16 fwd/bwd",
          "b=%lld t=%lld heads=%lld kv_heads=%lld hd=%lld", (long long)b, (long long)t, (long long)heads,
          (long long)kvh, (long long)hd);
  Rng rng(seed);
  const int64_t n = b * t, Q = heads * hd, KV = kvh * hd;
  std::vector<float> q = randn(n * Q, rng), k = randn(n * KV, rng), v = randn(n * KV, rng), mask = make_mask(b, t, rng);
  const std::vector<int32_t> first = packed_first(b, t, packed);
  const std::string shape = fmt("%sb=%lld t=%lld heads=%lld kv_heads=%lld hd=%lld", packed ? "packed " : "",
                                (long long)b, (long long)t, (long long)heads, (long long)kvh, (long long)hd);
  // what the CUDA op computes: tensor-core math or the fp32 kernels (head_dim >
  // 128 / pre-sm_80: compared with the fp32 reference and the fp32 check's
  // bounds, which a fallback must meet; the bf16 reference would need bounds
  // ~1e-2 of the scale, as loose as the whole bf16 effect); tq == 1 forwards
  // take the fp32 decode kernel (the bf16 reference is fp32 there too)
  // (t == 1: both directions fp32, as the decode-kernel forward that made out / lse)
  const bool tc_bwd = g_tc && hd <= 128 && t > 1, tc_fwd = tc_bwd;

  std::vector<float> out(n * Q), lse(n * heads), out32(n * Q), lse32(n * heads);
  AttnFwdArgs f = train_fwd_args(b, t, heads, kvh, hd, q.data(), k.data(), v.data(), mask.data(), out.data(), lse.data(),
                                 packed ? first.data() : nullptr);
  f.bf16 = true;
  SCHECK(attention_fwd_cpu(f));
  AttnFwdArgs f32 = f;
  f32.bf16 = false; f32.out = out32.data(); f32.lse = lse32.data();
  SCHECK(attention_fwd_cpu(f32));
  if (t > 1) {
    check_bf16_ref("attention_bf16_fwd.out[" + shape + "]", out, out32, 1e-3);
    check_bf16_ref("attention_bf16_fwd.lse[" + shape + "]", lse, lse32, 1e-3);
  } else {  // decode stays fp32
    compare_exact("attention_bf16_fwd.out.tq1_is_f32_ref[" + shape + "]", out, out32);
    compare_exact("attention_bf16_fwd.lse.tq1_is_f32_ref[" + shape + "]", lse, lse32);
  }

  DevBuf<float> gq(q), gk(k), gv(v), gm(mask), gout(n * Q), glse(n * heads);
  DevBuf<int32_t> gfirst(first);
  AttnFwdArgs fg = train_fwd_args(b, t, heads, kvh, hd, gq.p, gk.p, gv.p, gm.p, gout.p, glse.p, packed ? gfirst.p : nullptr);
  fg.bf16 = true;
  SCHECK(attention_fwd_cuda(fg));
  const std::vector<float> hout = gout.get();
  if (tc_fwd) {
    compare_bf16("attention_bf16_fwd.out[" + shape + "]", hout, out, 1e-3);
    compare_rel("attention_bf16_fwd.lse[" + shape + "]", glse.get(), lse, 2e-5, 2e-5);
  } else {
    compare_rel("attention_bf16_fwd.out(f32 kernel)[" + shape + "]", hout, out32, 2e-5, 1e-4);
    compare_rel("attention_bf16_fwd.lse(f32 kernel)[" + shape + "]", glse.get(), lse32, 2e-5, 2e-5);
  }
  SCHECK(attention_fwd_cuda(fg));
  compare_exact("attention_bf16_fwd.rerun_bitwise.out[" + shape + "]", gout.get(), hout);
  // the caller's bf16 copies of q, k, v (AttnFwdArgs::q16..., as OpsModel passes them): the
  // same values as the op's own, so bitwise the same results
  DevBuf<uint16_t> gq16(rounded(q)), gk16(rounded(k)), gv16(rounded(v));
  AttnFwdArgs fg16 = fg;
  fg16.q16 = gq16.p; fg16.k16 = gk16.p; fg16.v16 = gv16.p;
  SCHECK(attention_fwd_cuda(fg16));
  compare_exact("attention_bf16_fwd.given_bf16_copies.out[" + shape + "]", gout.get(), hout);

  std::vector<float> dout = randn(n * Q, rng), dq(n * Q), dk(n * KV), dv(n * KV), dq32(n * Q), dk32(n * KV),
                     dv32(n * KV);
  AttnBwdArgs a = train_bwd_args(b, t, heads, kvh, hd, q.data(), k.data(), v.data(), mask.data(), out.data(), lse.data(),
                                 dout.data(), dq.data(), dk.data(), dv.data(), packed ? first.data() : nullptr);
  a.bf16 = true;
  SCHECK(attention_bwd_cpu(a));
  AttnBwdArgs a32 = a;
  a32.bf16 = false; a32.out = out32.data(); a32.lse = lse32.data(); a32.dq = dq32.data(); a32.dk = dk32.data();
  a32.dv = dv32.data();
  SCHECK(attention_bwd_cpu(a32));
  if (t > 1) {
    check_bf16_ref("attention_bf16_bwd.dq[" + shape + "]", dq, dq32, 1e-2);
    check_bf16_ref("attention_bf16_bwd.dk[" + shape + "]", dk, dk32, 1e-2);
    check_bf16_ref("attention_bf16_bwd.dv[" + shape + "]", dv, dv32, 1e-2);
  } else {  // t == 1 stays fp32 (ops.h)
    compare_exact("attention_bf16_bwd.dq.t1_is_f32_ref[" + shape + "]", dq, dq32);
    compare_exact("attention_bf16_bwd.dk.t1_is_f32_ref[" + shape + "]", dk, dk32);
    compare_exact("attention_bf16_bwd.dv.t1_is_f32_ref[" + shape + "]", dv, dv32);
  }

  gout.put(tc_bwd ? out : out32);
  glse.put(tc_bwd ? lse : lse32);
  DevBuf<float> gdout(dout), gdq(n * Q), gdk(n * KV), gdv(n * KV);
  AttnBwdArgs ag = train_bwd_args(b, t, heads, kvh, hd, gq.p, gk.p, gv.p, gm.p, gout.p, glse.p, gdout.p, gdq.p, gdk.p,
                                  gdv.p, packed ? gfirst.p : nullptr);
  ag.bf16 = true;
  SCHECK(attention_bwd_cuda(ag));
  const std::vector<float> hdq = gdq.get(), hdk = gdk.get(), hdv = gdv.get();
  if (tc_bwd) {
    compare_bf16("attention_bf16_bwd.dq[" + shape + "]", hdq, dq, 1e-2);
    compare_bf16("attention_bf16_bwd.dk[" + shape + "]", hdk, dk, 1e-2);
    compare_bf16("attention_bf16_bwd.dv[" + shape + "]", hdv, dv, 1e-2);
  } else {
    compare_scaled("attention_bf16_bwd.dq(f32 kernel)[" + shape + "]", hdq, dq32, 2e-4, 1e-2);
    compare_scaled("attention_bf16_bwd.dk(f32 kernel)[" + shape + "]", hdk, dk32, 2e-4, 1e-2);
    compare_scaled("attention_bf16_bwd.dv(f32 kernel)[" + shape + "]", hdv, dv32, 2e-4, 1e-2);
  }
  // deterministic (ops.h: no atomics), the bf16 kernels included
  SCHECK(attention_bwd_cuda(ag));
  compare_exact("attention_bf16_bwd.rerun_bitwise.dq[" + shape + "]", gdq.get(), hdq);
  compare_exact("attention_bf16_bwd.rerun_bitwise.dk[" + shape + "]", gdk.get(), hdk);
  compare_exact("attention_bf16_bwd.rerun_bitwise.dv[" + shape + "]", gdv.get(), hdv);
  AttnBwdArgs ag16 = ag;  // with the caller's bf16 copies, as the forward above
  ag16.q16 = gq16.p; ag16.k16 = gk16.p; ag16.v16 = gv16.p;
  SCHECK(attention_bwd_cuda(ag16));
  compare_exact("attention_bf16_bwd.given_bf16_copies.dq[" + shape + "]", gdq.get(), hdq);
  compare_exact("attention_bf16_bwd.given_bf16_copies.dk[" + shape + "]", gdk.get(), hdk);
  compare_exact("attention_bf16_bwd.given_bf16_copies.dv[" + shape + "]", gdv.get(), hdv);
}

// Prefill reading a KV cache (seq_stride = mask_stride = cap) of which slots
// slot0 .. slot0 + t - 1 are the new queries' own; slot0 > 0: a chunk appended to
// cached slots (the key tiles stay absolute: the queries start mid-tile). The
// slots past the last query hold large stale values under mask 1, which only the
// causal bound may exclude.
void check_prefill_bf16(int64_t b, int64_t t, int64_t cap, int64_t heads, int64_t kvh, int64_t hd, int64_t slot0,
                        uint64_t seed) {
  section("attention bf16 prefill", "b=%lld t=%lld cap=%lld slot0=%lld heads=%lld kv_heads=%lld hd=%lld",
          (long long)b, (long long)t, (long long)cap, (long long)slot0, (long long)heads, (long long)kvh,
          (long long)hd);
  Rng rng(seed);
  const int64_t Q = heads * hd, KV = kvh * hd, used = slot0 + t;
  std::vector<float> ck = randn(b * cap * KV, rng), cv = randn(b * cap * KV, rng), cmask(b * cap, 1.f);
  const std::vector<float> pm = make_mask(b, used, rng);
  for (int64_t s = 0; s < b; ++s) {
    for (int64_t j = 0; j < used; ++j) cmask[s * cap + j] = pm[s * used + j];
    for (int64_t i = (s * cap + used) * KV; i < (s + 1) * cap * KV; ++i) { ck[i] *= 100.f; cv[i] *= 100.f; }
  }
  std::vector<float> q = randn(b * t * Q, rng), out(b * t * Q), lse(b * t * heads), out32(b * t * Q),
                     lse32(b * t * heads);
  AttnFwdArgs f;
  f.b = b; f.tq = t; f.slot0 = slot0; f.heads = heads; f.kv_heads = kvh; f.head_dim = hd; f.q = q.data();
  f.k = ck.data(); f.v = cv.data(); f.seq_stride = cap; f.mask = cmask.data(); f.mask_stride = cap;
  f.out = out.data(); f.lse = lse.data(); f.bf16 = true;
  SCHECK(attention_fwd_cpu(f));
  AttnFwdArgs f32 = f;
  f32.bf16 = false; f32.out = out32.data(); f32.lse = lse32.data();
  SCHECK(attention_fwd_cpu(f32));
  const std::string shape = fmt("b=%lld t=%lld cap=%lld slot0=%lld heads=%lld kv_heads=%lld hd=%lld", (long long)b,
                                (long long)t, (long long)cap, (long long)slot0, (long long)heads, (long long)kvh,
                                (long long)hd);
  check_bf16_ref("attention_bf16_prefill.out[" + shape + "]", out, out32, 1e-3);
  DevBuf<float> gq(q), gck(ck), gcv(cv), gcm(cmask), gout(b * t * Q), glse(b * t * heads);
  AttnFwdArgs fg = f;
  fg.q = gq.p; fg.k = gck.p; fg.v = gcv.p; fg.mask = gcm.p; fg.out = gout.p; fg.lse = glse.p;
  SCHECK(attention_fwd_cuda(fg));
  if (g_tc && hd <= 128 && t > 1) {
    compare_bf16("attention_bf16_prefill.out[" + shape + "]", gout.get(), out, 1e-3);
    compare_rel("attention_bf16_prefill.lse[" + shape + "]", glse.get(), lse, 2e-5, 2e-5);
  } else {  // the fp32 kernels (see check_attention_bf16)
    compare_rel("attention_bf16_prefill.out(f32 kernel)[" + shape + "]", gout.get(), out32, 2e-5, 1e-4);
    compare_rel("attention_bf16_prefill.lse(f32 kernel)[" + shape + "]", glse.get(), lse32, 2e-5, 2e-5);
  }
}

// ---- SwiGLU, embedding, optimizer ----------------------------------------------------------

void check_swiglu(int64_t count, uint64_t seed) {
  section("swiglu", "count=%lld", (long long)count);
  Rng rng(seed);
  std::vector<float> g = randn(count, rng, 3.f), u = randn(count, rng), dh = randn(count, rng);
  if (count > 3) { g[0] = -100.f; g[1] = 100.f; g[2] = 0.f; }
  std::vector<float> h(count), dg(count), du(count);
  SCHECK(swiglu_fwd_cpu(g.data(), u.data(), h.data(), count));
  SCHECK(swiglu_bwd_cpu(g.data(), u.data(), dh.data(), dg.data(), du.data(), count));
  DevBuf<float> gg(g), gu(u), gh(count), gdh(dh), gdu(count);
  SCHECK(swiglu_fwd_cuda(gg.p, gu.p, gh.p, count));
  SCHECK(swiglu_bwd_cuda(gg.p, gu.p, gdh.p, gdh.p, gdu.p, count));  // dg in place of dh, as model.cpp
  compare_rel(fmt("swiglu_fwd[count=%lld]", (long long)count), gh.get(), h, 1e-7, 4e-6);
  // dg has a cancellation in 1 + g (1 - sg) near g = -1.28: scale its absolute part with |dh * u|
  {
    const std::vector<float> got = gdh.get();
    compare(fmt("swiglu_bwd.dg(in place)[count=%lld]", (long long)count), got, dg,
            [&](size_t i) { return 1e-6 * std::fabs(dh[i] * u[i]) + 1e-7 + 4e-6 * std::fabs(dg[i]); },
            "1e-6*|dh*u|+1e-7+4e-6*|want|");
  }
  compare_rel(fmt("swiglu_bwd.du[count=%lld]", (long long)count), gdu.get(), du, 1e-7, 4e-6);

  // bf16-output twins: bitwise the fp32 op followed by the RNE cast, on each side
  // (compared as the bf16 values, which are exact in fp32)
  // (bf16 inputs: g, u, dh rounded; the fp32 ops run on their widened values)
  const std::vector<uint16_t> g16 = rounded(g), u16 = rounded(u), dh16 = rounded(dh);
  const std::vector<float> gw = widen(g16), uw = widen(u16), dhw = widen(dh16);
  std::vector<float> hw(count), dgw(count), duw(count);
  SCHECK(swiglu_fwd_cpu(gw.data(), uw.data(), hw.data(), count));
  SCHECK(swiglu_bwd_cpu(gw.data(), uw.data(), dhw.data(), dgw.data(), duw.data(), count));
  std::vector<uint16_t> hb(count), dgb(count), dub(count);
  SCHECK(swiglu_fwd_bf16_cpu(g16.data(), u16.data(), hb.data(), count));
  SCHECK(swiglu_bwd_bf16_cpu(g16.data(), u16.data(), dh16.data(), dgb.data(), dub.data(), count));
  const std::string c = fmt("[count=%lld]", (long long)count);
  compare_exact("swiglu_fwd_bf16_cpu" + c, widen(hb), widen(rounded(hw)));
  compare_exact("swiglu_bwd_bf16_cpu.dg" + c, widen(dgb), widen(rounded(dgw)));
  compare_exact("swiglu_bwd_bf16_cpu.du" + c, widen(dub), widen(rounded(duw)));
  DevBuf<uint16_t> gg16(g16), gu16(u16), gdh16(dh16), ghb(count), gdgb(count), gdub(count);
  DevBuf<float> ggw(gw), guw(uw), gdhw(dhw), ghw(count), gdgw(count), gduw(count);
  SCHECK(swiglu_fwd_cuda(ggw.p, guw.p, ghw.p, count));
  SCHECK(swiglu_bwd_cuda(ggw.p, guw.p, gdhw.p, gdgw.p, gduw.p, count));
  SCHECK(swiglu_fwd_bf16_cuda(gg16.p, gu16.p, ghb.p, count));
  SCHECK(swiglu_bwd_bf16_cuda(gg16.p, gu16.p, gdh16.p, gdgb.p, gdub.p, count));
  compare_exact("swiglu_fwd_bf16_cuda.vs_cuda_f32_rounded" + c, widen(ghb.get()), widen(rounded(ghw.get())));
  compare_exact("swiglu_bwd_bf16_cuda.dg.vs_cuda_f32_rounded" + c, widen(gdgb.get()), widen(rounded(gdgw.get())));
  compare_exact("swiglu_bwd_bf16_cuda.du.vs_cuda_f32_rounded" + c, widen(gdub.get()), widen(rounded(gduw.get())));
}

void check_embedding(int64_t n, int64_t vocab, int64_t h, uint64_t seed) {
  section("embedding", "n=%lld vocab=%lld h=%lld", (long long)n, (long long)vocab, (long long)h);
  Rng rng(seed);
  std::vector<float> table = randn(vocab * h, rng), dx = randn(n * h, rng), dt0 = randn(vocab * h, rng);
  std::vector<int32_t> ids(n);
  for (auto& i : ids) i = static_cast<int32_t>(rng.uniform() < 0.3f ? 7 % vocab : rng.below(vocab));  // many repeats
  std::vector<float> x(n * h), dt = dt0;
  SCHECK(embed_fwd_cpu(table.data(), ids.data(), n, h, x.data()));
  SCHECK(embed_bwd_cpu(ids.data(), dx.data(), n, h, dt.data()));
  DevBuf<float> gt(table), gx(n * h), gdx(dx), gdt(dt0);
  DevBuf<int32_t> gids(ids);
  SCHECK(embed_fwd_cuda(gt.p, gids.p, n, h, gx.p));
  SCHECK(embed_bwd_cuda(gids.p, gdx.p, n, h, gdt.p));
  const std::string shape = fmt("n=%lld vocab=%lld h=%lld", (long long)n, (long long)vocab, (long long)h);
  compare_exact("embed_fwd[" + shape + "]", gx.get(), x);
  compare_exact("embed_bwd(same order as CPU)[" + shape + "]", gdt.get(), dt);
}

// grad_norm alone: g starts `off` floats past an aligned address (the
// kernel's scalar head), counts around its float4 body and tail; twice, bitwise.
void check_grad_norm(int64_t count, int off, uint64_t seed) {
  section("grad_norm", "count=%lld off=%d", (long long)count, off);
  Rng rng(seed);
  const std::vector<float> g = randn(count, rng, 0.1f);
  double want = 0, got = 0, again = 0;
  SCHECK(grad_norm_cpu(g.data(), count, &want));
  DevAt<float> gg(g, off);
  SCHECK(grad_norm_cuda(gg.p, count, &got));
  SCHECK(grad_norm_cuda(gg.p, count, &again));
  const std::string c = fmt("[count=%lld off=%d]", (long long)count, off);
  char buf[160];
  const double rel = std::fabs(got - want) / std::max(1e-300, want);
  std::snprintf(buf, sizeof buf, "got %.15g want %.15g rel_err=%.3g tol=1e-9 relative", got, want, rel);
  verdict("grad_norm" + c, rel <= 1e-9, buf);
  std::snprintf(buf, sizeof buf, "got %.17g then %.17g tol=bitwise", got, again);
  verdict("grad_norm(rerun)" + c, std::memcmp(&got, &again, sizeof got) == 0, buf);
}

void check_optimizer(int64_t count, uint64_t seed) {
  section("grad_norm/adamw", "count=%lld", (long long)count);
  Rng rng(seed);
  std::vector<float> p = randn(count, rng), g = randn(count, rng, 0.1f), m(count, 0.f), v(count, 0.f);
  double norm_cpu = 0, norm_gpu = 0;
  SCHECK(grad_norm_cpu(g.data(), count, &norm_cpu));
  DevBuf<float> gp(p), gg(g), gm(m), gv(v);
  DevBuf<uint16_t> gp16(count);
  std::vector<uint16_t> p16(count);
  SCHECK(grad_norm_cuda(gg.p, count, &norm_gpu));
  {
    char buf[160];
    const double rel = std::fabs(norm_gpu - norm_cpu) / std::max(1e-300, norm_cpu);
    std::snprintf(buf, sizeof buf, "got %.15g want %.15g rel_err=%.3g tol=1e-9 relative", norm_gpu, norm_cpu, rel);
    verdict(fmt("grad_norm[count=%lld]", (long long)count), rel <= 1e-9, buf);
  }
  for (int64_t step = 1; step <= 3; ++step) {
    AdamWArgs a;
    a.param = p.data(); a.grad = g.data(); a.m = m.data(); a.v = v.data(); a.count = count;
    a.lr = 1e-3f; a.weight_decay = 0.1f; a.clip = clip_factor(norm_cpu, 1.0f); a.step = step;
    if (step == 2) a.param16 = p16.data();  // the bf16 weight twin, on one step of three
    AdamWArgs ag = a;
    ag.param = gp.p; ag.grad = gg.p; ag.m = gm.p; ag.v = gv.p;
    if (a.param16) ag.param16 = gp16.p;
    SCHECK(adamw_cpu(a));
    SCHECK(adamw_cuda(ag));
    if (a.param16) {
      const std::string c = fmt("[count=%lld]", (long long)count);
      compare_exact("adamw.param16_cpu" + c, widen(p16), widen(rounded(p)));
      compare_exact("adamw.param16_cuda.vs_cuda_param_rounded" + c, widen(gp16.get()), widen(rounded(gp.get())));
    }
    const std::string s = fmt("[count=%lld step=%lld clip=%.4g]", (long long)count, (long long)step, a.clip);
    compare_rel("adamw.param" + s, gp.get(), p, 1e-7, 2e-6);
    compare_rel("adamw.m" + s, gm.get(), m, 1e-9, 2e-6);
    compare_rel("adamw.v" + s, gv.get(), v, 1e-12, 2e-6);
    compare_exact("adamw.grad_zeroed" + s, gg.get(), g);
    // next step: fresh gradients on both sides (resync state so errors don't compound)
    g = randn(count, rng, 0.1f);
    gg.put(g); gp.put(p); gm.put(m); gv.put(v);
    SCHECK(grad_norm_cpu(g.data(), count, &norm_cpu));
  }
}

// The bf16 attention cases (the production kernels; native/dev/attention_tc_variants.cu compares
// the other tile-buffering variants with them); alone with --bf16-attention (for racecheck).
void bf16_attention_cases(const cuda::DeviceInfo& info) {
  g_tc = info.cc_major >= 8;
  std::printf("# bf16 attention: %s\n", g_tc ? "tensor cores for head_dim <= 128 (sm_80+)" : "fp32 kernels (pre-sm_80)");
  {
    uint64_t bseed = 1000;
    check_attention_bf16(5, 17, 6, 1, 64, bseed++);          // group 6, one partial tile
    check_attention_bf16(2, 64, 4, 4, 128, bseed++);         // MHA, exactly one tile
    check_attention_bf16(3, 65, 4, 2, 32, bseed++);          // group 2, a second tile of one key
    check_attention_bf16(4, 1, 2, 1, 64, bseed++);           // t = 1: fp32 both ways (decode-kernel forward)
    check_attention_bf16(5, 64, 6, 1, 20, bseed++);          // head_dim 20
    check_attention_bf16(5, 37, 6, 2, 32, bseed++, true);    // packed
    check_attention_bf16(3, 130, 4, 2, 72, bseed++, true);   // packed, segments straddling tiles
    check_attention_bf16(2, 70, 4, 2, 160, bseed++);         // head_dim > 128: the fp32 kernels
    if (!g_quick) {
      check_attention_bf16(5, 200, 12, 2, 100, bseed++);
      check_attention_bf16(2, 300, 12, 2, 128, bseed++);     // Qwen2.5-1.5B heads
      check_attention_bf16(2, 300, 6, 6, 64, bseed++, true);
    }
    check_prefill_bf16(5, 19, 40, 6, 2, 64, 0, bseed++);
    check_prefill_bf16(3, 130, 140, 12, 2, 128, 0, bseed++);
    check_prefill_bf16(2, 70, 100, 4, 4, 100, 25, bseed++);  // a chunk after 25 cached slots
  }
}

}  // namespace

int main(int argc, char** argv) {
  g_quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (cuda::device_count() == 0) {
    std::printf("FAIL no CUDA device (rlvr::cuda::device_count() == 0)\n");
    return 1;
  }
  cuda::DeviceInfo info;
  SCHECK(cuda::device_info(0, &info));
  SCHECK(cuda::set_device(0));
  std::printf("# rlvr_cuda_engine_check on %s (sm_%d%d, %d SMs), CUDA runtime %s\n", info.name.c_str(), info.cc_major,
              info.cc_minor, info.sm_count, cuda::runtime_version().c_str());
  if (argc > 1 && std::string(argv[1]) == "--bf16-attention") {  // those cases only (quick sizes)
    g_quick = true;
    bf16_attention_cases(info);
    HCHECK(cudaDeviceSynchronize());
    std::printf("# engine check: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail == 0 ? 0 : 1;
  }

  uint64_t seed = 1;
  // GEMM: all four transpose combinations, f32 and bf16, unaligned / aligned /
  // padded leading dims, tiny and multi-tile shapes, bias, accumulate.
  struct Shape { int64_t m, n, k, pad; };
  std::vector<Shape> shapes = {{1, 1, 1, 0},     {5, 3, 7, 0},      {133, 77, 45, 0},  {200, 264, 136, 0},
                               {129, 131, 33, 8}, {64, 128, 300, 0}, {257, 130, 520, 1}};
  if (!g_quick) shapes.push_back({300, 520, 1032, 0});
  auto gemm_cases = [&](DType dt) {
    for (int t = 0; t < 4; ++t)
      for (size_t si = 0; si < shapes.size(); ++si) {
        const Shape& s = shapes[si];
        check_gemm(dt, t & 1, t & 2, s.m, s.n, s.k, s.pad, si % 2 == 1, si % 3 == 2, seed++);
      }
    if (dt == DType::BF16) check_gemm(dt, false, true, 256, 256, 64, 0, true, true, seed++);  // bias + accumulate
    check_linear_helpers(dt, seed++);
  };
  gemm_cases(DType::F32);
  // bf16: what runs by default (cuBLAS when it loads), then the WMMA kernel if
  // that was cuBLAS, so both implementations are held to the CPU reference.
  const std::string impl = bf16_gemm_impl();
  std::printf("# bf16 GEMMs: %s\n", impl.c_str());
  gemm_cases(DType::BF16);
  if (impl.rfind("cublas", 0) == 0) {
    set_cublas_enabled(false);
    std::printf("# bf16 GEMMs: %s\n", bf16_gemm_impl().c_str());
    gemm_cases(DType::BF16);
    set_cublas_enabled(true);
  }
  for (const int64_t n : {1, 7, 1000, 100003}) check_cast(n, seed++);

  for (const auto& rh : std::vector<std::pair<int64_t, int64_t>>{{1, 8}, {37, 1000}, {300, 1536}, {5, 4097}})
    for (const bool acc : {false, true}) check_rmsnorm(rh.first, rh.second, acc, seed++);
  // more RMSNorm shapes (own seeds, so that the checks below keep their inputs):
  // h % 4 != 0 (scalar kernels), n = 1, rows dealt unevenly over the backward's
  // row groups and blocks, rows longer than the forward's register cache
  // (h > 2048), the fused backward's longest rows (h = 4095 scalar, 6144
  // float4) and the fallback past them (6148; 4097 above), unaligned
  // pointers, a large n.
  uint64_t rseed = 3000;
  for (const auto& rh : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 3}, {7, 4}, {130, 96}, {1, 1536}, {33, 1537}, {77, 3584}, {6, 4095}, {4, 6144}, {2, 6148}})
    for (const bool acc : {false, true}) check_rmsnorm(rh.first, rh.second, acc, rseed++);
  check_rmsnorm(37, 1000, true, rseed++, 1);
  check_rmsnorm(300, 1536, false, rseed++, 1);
  check_rmsnorm(5003, 1536, true, rseed++);  // 251 blocks of 20 rows, the last of 3
  if (!g_quick) check_rmsnorm(5000, 1536, false, rseed++);
  check_bias_bwd(1, 5, seed++);
  check_bias_bwd(777, 130, seed++);
  check_bias_bwd(1000, 256, seed++);

  check_positions_rope(7, 77, 3, 64, seed++);
  check_positions_rope(3, 33, 2, 128, seed++);
  check_positions_rope(2, 5, 1, 6, seed++);

  // attention: GQA groups 1/3/6, head dims 128 / 64 / 24 (padded to 32) / 256, padding patterns (make_mask)
  check_attention(5, 37, 6, 2, 64, seed++);
  check_attention(2, 70, 4, 4, 128, seed++);
  check_attention(3, 20, 3, 1, 24, seed++);
  check_attention(1, 1, 2, 1, 8, seed++);
  check_attention(5, 50, 12, 2, 128, seed++);
  check_attention(2, 33, 2, 1, 256, seed++);
  check_attention(5, 37, 6, 2, 64, seed++, true);  // packed sequences
  check_attention(3, 70, 4, 2, 128, seed++, true);
  if (!g_quick) check_attention(2, 300, 4, 2, 128, seed++);
  check_kv_decode(5, 19, 40, 6, 2, 64, seed++);
  check_kv_decode(3, 70, 75, 12, 2, 128, seed++);
  check_kv_decode(2, 9, 12, 2, 1, 20, seed++);
  // batches with b * kv_heads >= 256 take the grouped-query decode kernel (a block
  // per sequence and kv head): group 6 and 7 at head_dim 128 / 64, group 16 at
  // head_dim 256 (over 48 KB of shared memory), and an MHA model (stays on the
  // per-head kernel) at the same size
  check_kv_decode(130, 40, 45, 12, 2, 128, seed++);
  check_kv_decode(128, 21, 26, 14, 2, 64, seed++);
  check_kv_decode(64, 9, 14, 64, 4, 256, seed++);
  check_kv_decode(260, 7, 10, 2, 2, 32, seed++);
  check_kv_decode(256, 5, 8, 4, 1, 20, seed++);  // head_dim 20 padded to 32, group 4
  // a cache of several 32-key tiles: the grouped-query kernel's double buffering
  if (!g_quick) check_kv_decode(130, 90, 96, 12, 2, 128, 7777);

  // bf16 attention: GQA groups 1 / 2 / 6, head dims 20 / 32 / 64 / 72 / 100 / 128
  // and 160 (the fp32 fallback), t around the 64-key tiles, packed sequences,
  // prefill from a cache. Own seeds, so that the checks above keep their inputs.
  bf16_attention_cases(info);

  for (const int64_t c : {1, 1000, 100003}) check_swiglu(c, seed++);
  check_embedding(1, 5, 16, seed++);
  check_embedding(300, 50, 130, seed++);
  check_embedding(2000, 1000, 64, seed++);
  for (const int64_t c : {1, 3, 9, 1000003})
    for (const int off : {0, 1}) check_grad_norm(c, off, rseed++);
  check_optimizer(1, seed++);
  check_optimizer(100003, seed++);
  if (!g_quick) check_optimizer(3000017, seed++);

  HCHECK(cudaDeviceSynchronize());
  std::printf("# engine check: %d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
