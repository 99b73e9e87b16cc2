// rlvr_cuda_check: every CUDA kernel against the CPU reference on random
// inputs of odd shapes. Prints one PASS/FAIL line per comparison (with the
// worst error) and exits 1 on any failure, 2/3 on a CUDA/Status error.
//   usage: rlvr_cuda_check [--quick|--tiny]   (--quick skips v = 151936; --tiny also n > 33, v > 1000)
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "test/harness.h"
#include "kernels/cpu/dtype.h"

using namespace rlvr;
using namespace rlvr::kernels;

namespace {

int g_pass = 0, g_fail = 0;
const float kInf = std::numeric_limits<float>::infinity();

struct Tol {
  double atol, rtol;
};

bool close(double got, double want, Tol t) {
  if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
  if (std::isinf(got) || std::isinf(want)) return got == want;
  return std::fabs(got - want) <= t.atol + t.rtol * std::fabs(want);
}

void verdict(const std::string& name, bool ok, const std::string& detail) {
  (ok ? g_pass : g_fail)++;
  std::printf("%s %s %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
}

// Compares element-wise; tol_at(i) gives the tolerance of element i. Reports
// the largest error relative to its tolerance (> 1 fails) and the first mismatch.
template <class TolAt>
void compare(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, TolAt tol_at) {
  size_t bad = 0, first = 0;
  double worst = 0, max_abs = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const Tol t = tol_at(i);
    if (!close(got[i], want[i], t) && bad++ == 0) first = i;
    const double err = std::fabs(double(got[i]) - want[i]);
    if (std::isfinite(err)) {
      max_abs = std::max(max_abs, err);
      worst = std::max(worst, err / (t.atol + t.rtol * std::fabs(want[i])));
    }
  }
  char buf[320];
  int k = std::snprintf(buf, sizeof buf, "n=%zu max_abs_err=%.3g max_err/tol=%.3g mismatches=%zu", want.size(),
                        max_abs, worst, bad);
  if (bad)
    std::snprintf(buf + k, sizeof buf - k, " first at %zu: got %.9g want %.9g", first, got[first], want[first]);
  verdict(name, bad == 0, buf);
}
void compare(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, Tol t) {
  compare(name, got, want, [&](size_t) { return t; });
}
void compare_u8(const std::string& name, const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) bad += (got[i] != 0) != (want[i] != 0);
  verdict(name, bad == 0, "n=" + std::to_string(want.size()) + " mismatches=" + std::to_string(bad));
}
void compare_scalar(const std::string& name, double got, double want, Tol t) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "got %.12g want %.12g", got, want);
  verdict(name, close(got, want, t), buf);
}

// ---- logits in any dtype ------------------------------------------------------

const char* dname(DType d) { return d == DType::F32 ? "f32" : d == DType::F16 ? "f16" : "bf16"; }

struct Logits {
  DType dtype;
  int64_t n, v;
  std::vector<uint8_t> bytes;
  Logits(DType d, int64_t n_, int64_t v_) : dtype(d), n(n_), v(v_), bytes(size_t(n_ * v_ * dtype_size(d))) {}
  float get(int64_t i) const {
    if (dtype == DType::F32) { float f; std::memcpy(&f, &bytes[i * 4], 4); return f; }
    uint16_t h; std::memcpy(&h, &bytes[i * 2], 2);
    return dtype == DType::F16 ? cpu::f16_to_f32(h) : cpu::bf16_to_f32(h);
  }
  void set(int64_t i, float x) {
    if (dtype == DType::F32) { std::memcpy(&bytes[i * 4], &x, 4); return; }
    uint16_t h = dtype == DType::F16 ? cpu::f32_to_f16(x) : cpu::f32_to_bf16(x);
    std::memcpy(&bytes[i * 2], &h, 2);
  }
};

std::vector<float> to_f32(const std::vector<uint8_t>& b, DType d) {
  Logits l(d, 1, int64_t(b.size() / dtype_size(d)));
  l.bytes = b;
  std::vector<float> f(l.v);
  for (int64_t i = 0; i < l.v; ++i) f[i] = l.get(i);
  return f;
}

// Random rows: N(0, 3) logits; every 2nd row has ~5% -inf entries, every 3rd
// row ~1% entries at +-1e4 (when `large`), and row 3 is -inf except its target.
struct Case {
  Logits logits;
  std::vector<int32_t> targets;
  double max_abs = 0;  // max finite |logit|
};
Case make_case(DType d, int64_t n, int64_t v, bool large, uint64_t seed) {
  Rng rng(seed);
  Case c{Logits(d, n, v), std::vector<int32_t>(n), 0};
  for (int64_t r = 0; r < n; ++r) {
    const int32_t t = static_cast<int32_t>(rng.below(v));
    c.targets[r] = t;
    for (int64_t j = 0; j < v; ++j) {
      float x = 3.f * rng.normal();
      if (j != t && v > 1) {
        if (r % 2 == 1 && rng.uniform() < 0.05f) x = -kInf;
        if (large && r % 3 == 2 && rng.uniform() < 0.01f) x = (j & 1) ? 1e4f : -1e4f;
        if (r == 3) x = -kInf;
      }
      c.logits.set(r * v + j, x);
      const float y = c.logits.get(r * v + j);
      if (std::isfinite(y)) c.max_abs = std::max(c.max_abs, double(std::fabs(y)));
    }
  }
  return c;
}

// Tolerances. Both sides work in fp32; errors scale with the magnitude of
// z = logits / T (rounding of z - max), so the absolute part grows with it.
double z_err(const Case& c, float temp) { return 2e-6 + 3e-7 * c.max_abs / temp; }
Tol fwd_tol(const Case& c, float temp) { return {5e-5 + z_err(c, temp), 5e-5}; }
double out_rtol(DType d) { return d == DType::F32 ? 2e-5 : d == DType::F16 ? 2.5e-3 : 1.6e-2; }

// Per-row gradient tolerance: scale |g| + |h| (H + 1) over T times the lse error.
std::vector<Tol> grad_tols(const Case& c, float temp, const std::vector<float>& g, const std::vector<float>& h,
                           const std::vector<float>& H) {
  std::vector<Tol> t(c.logits.n);
  for (int64_t r = 0; r < c.logits.n; ++r) {
    const double scale = (std::fabs(g[r]) + std::fabs(h[r]) * (std::fabs(H[r]) + 2.0)) / temp;
    t[r] = {scale * 8 * z_err(c, temp) + (c.logits.dtype == DType::F16 ? 1e-7 : 1e-12),
            out_rtol(c.logits.dtype) + 4 * z_err(c, temp)};
  }
  return t;
}

std::string tag(const char* k, DType d, int64_t n, int64_t v, float temp) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s[%s n=%lld v=%lld T=%.2g]", k, dname(d), (long long)n, (long long)v, temp);
  return buf;
}

// ---- (a)+(b) log-prob forward and backward -------------------------------------

void check_logprob(DType d, int64_t n, int64_t v, float temp, uint64_t seed) {
  const Case c = make_case(d, n, v, true, seed);
  std::vector<float> lp(n), H(n), lse(n);
  int64_t bad_cpu = -2, bad_gpu = -2;
  LogprobFwdArgs f;
  f.logits = c.logits.bytes.data(); f.logits_dtype = d; f.n = n; f.v = v; f.targets = c.targets.data();
  f.temperature = temp; f.logp = lp.data(); f.entropy = H.data(); f.lse = lse.data(); f.bad_row = &bad_cpu;
  SCHECK(logprob_fwd_cpu(f));

  DevBuf<uint8_t> dl(c.logits.bytes);
  DevBuf<int32_t> dt(c.targets);
  DevBuf<float> dlp(n), dH(n), dlse(n);
  LogprobFwdArgs g = f;
  g.logits = dl.p; g.targets = dt.p; g.logp = dlp.p; g.entropy = dH.p; g.lse = dlse.p; g.bad_row = &bad_gpu;
  SCHECK(logprob_fwd_cuda(g));
  const Tol tol = fwd_tol(c, temp);
  verdict(tag("fwd.bad_row", d, n, v, temp), bad_gpu == bad_cpu && bad_cpu == -1,
          "got " + std::to_string(bad_gpu) + " want " + std::to_string(bad_cpu));
  compare(tag("fwd.logp", d, n, v, temp), dlp.get(), lp, tol);
  compare(tag("fwd.entropy", d, n, v, temp), dH.get(), H, tol);
  compare(tag("fwd.lse", d, n, v, temp), dlse.get(), lse, tol);
  if (n == 0) return;

  // Backward from the CPU forward's saved lse / entropy (so both sides see the
  // same inputs); in place on the GPU for every other case.
  Rng rng(seed ^ 0xabcdef);
  std::vector<float> gl(n), gh(n);
  for (int64_t r = 0; r < n; ++r) { gl[r] = rng.normal(); gh[r] = rng.normal(); }
  const bool use_h = seed % 3 != 0, in_place = seed % 2 == 0;
  if (!use_h) std::fill(gh.begin(), gh.end(), 0.f);
  std::vector<uint8_t> out(c.logits.bytes.size());
  LogprobBwdArgs b;
  b.logits = c.logits.bytes.data(); b.logits_dtype = d; b.n = n; b.v = v; b.targets = c.targets.data();
  b.temperature = temp; b.lse = lse.data(); b.entropy = H.data(); b.dlogp = gl.data();
  b.dentropy = use_h ? gh.data() : nullptr; b.dlogits = out.data();
  SCHECK(logprob_bwd_cpu(b));

  DevBuf<float> dlse2(lse), dH2(H), dgl(gl), dgh(gh);
  DevBuf<uint8_t> dout(in_place ? 0 : out.size());
  LogprobBwdArgs gb = b;
  gb.logits = dl.p; gb.targets = dt.p; gb.lse = dlse2.p; gb.entropy = dH2.p; gb.dlogp = dgl.p;
  gb.dentropy = use_h ? dgh.p : nullptr; gb.dlogits = in_place ? static_cast<void*>(dl.p) : dout.p;
  SCHECK(logprob_bwd_cuda(gb));
  const std::vector<float> got = to_f32(in_place ? dl.get() : dout.get(), d), want = to_f32(out, d);
  const std::vector<Tol> rt = grad_tols(c, temp, gl, gh, H);
  compare(tag(in_place ? "bwd.dlogits(in place)" : "bwd.dlogits", d, n, v, temp), got, want,
          [&](size_t i) { return rt[i / v]; });
}

// ---- (h) fused policy loss ------------------------------------------------------

// Offsets x such that exp(-x) stays 2% away from the clip boundaries 1 -+ eps and the dual clip c = 3.
float safe_offset(Rng& rng) {
  for (;;) {
    const float x = 1.2f * rng.normal(), r = std::exp(-x);
    if (std::fabs(r - 0.8f) > 0.02f && std::fabs(r - 1.2f) > 0.02f && std::fabs(r - 3.f) > 0.06f) return x;
  }
}

// The CPU's bf16 dlogits (args a, output `got`) must be its f32 dlogits rounded
// to nearest even, bit for bit.
void check_cpu_bf16_grad(const PolicyLossArgs& a, const std::vector<uint8_t>& got) {
  const size_t count = size_t(a.n * a.v);
  std::vector<float> f32(count), lp(a.n), H(a.n);
  PolicyLossArgs b = a;
  b.dlogits_dtype = kSameAsLogits; b.dlogits = f32.data(); b.logp = lp.data(); b.entropy = H.data();
  b.stats = nullptr; b.bad_row = nullptr;
  SCHECK(policy_loss_cpu(b));
  size_t bad = 0;
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, &got[i * 2], 2);
    bad += h != cpu::f32_to_bf16(f32[i]);
  }
  verdict(tag("policy_loss(cpu grad bf16 == rne(f32)).dlogits", a.logits_dtype, a.n, a.v, a.temperature), bad == 0,
          "n=" + std::to_string(count) + " mismatches=" + std::to_string(bad));
}

// grad_bf16: f32 logits with bf16 dlogits (PolicyLossArgs::dlogits_dtype), never
// in place; on odd seeds the GPU's dlogits start one element off a vector boundary.
void check_policy_loss(DType d, int64_t n, int64_t v, float temp, uint64_t seed, bool grad_bf16 = false) {
  const Case c = make_case(d, n, v, false, seed);
  std::vector<float> lp0(n), H0(n), lse0(n);
  LogprobFwdArgs f;
  f.logits = c.logits.bytes.data(); f.logits_dtype = d; f.n = n; f.v = v; f.targets = c.targets.data();
  f.temperature = temp; f.logp = lp0.data(); f.entropy = H0.data(); f.lse = lse0.data();
  SCHECK(logprob_fwd_cpu(f));

  Rng rng(seed ^ 0x5eed);
  std::vector<float> old(n), ref(n), adv(n), w(n);
  double wsum = 0;
  for (int64_t r = 0; r < n; ++r) {
    old[r] = lp0[r] + safe_offset(rng);
    for (;;) {  // keep k3 away from its clamp at 10
      ref[r] = lp0[r] + 3.f * rng.normal();
      const float dl = lp0[r] - ref[r];
      if (std::fabs(std::exp(-dl) + dl - 1.f - 10.f) > 0.1f) break;
    }
    adv[r] = rng.normal();
    w[r] = rng.uniform() < 0.15f ? 0.f : 1.f;  // masked tokens
    wsum += w[r];
  }
  for (auto& x : w) x = wsum > 0 ? static_cast<float>(x / wsum) : 0.f;

  PolicyLossArgs a;
  a.logits_dtype = d; a.n = n; a.v = v; a.temperature = temp;
  a.pg_coef = 1.f; a.kl_coef = seed % 2 ? 0.1f : 0.f; a.entropy_coeff = 0.01f;
  a.clip_low = 0.2f; a.clip_high = 0.2f; a.dual_clip = seed % 3 ? 3.f : 0.f;
  a.kl_type = static_cast<KlType>(seed % 4);
  const bool with_grad = grad_bf16 || seed % 5 != 0, in_place = !grad_bf16 && seed % 2 == 0;
  const DType gd = grad_bf16 ? DType::BF16 : d;  // the dlogits dtype
  if (grad_bf16) a.dlogits_dtype = DType::BF16;
  const size_t off = grad_bf16 && seed % 2 ? 2 : 0;  // bytes

  std::vector<float> lp(n), H(n);
  std::vector<uint8_t> out(size_t(n * v * dtype_size(gd)));
  PolicyLossStats st_cpu, st_gpu;
  int64_t bad_cpu = -2, bad_gpu = -2;
  PolicyLossArgs ca = a;
  ca.logits = c.logits.bytes.data(); ca.targets = c.targets.data(); ca.old_logp = old.data();
  ca.ref_logp = ref.data(); ca.advantages = adv.data(); ca.weights = w.data(); ca.logp = lp.data();
  ca.entropy = H.data(); ca.dlogits = with_grad ? out.data() : nullptr; ca.stats = &st_cpu; ca.bad_row = &bad_cpu;
  SCHECK(policy_loss_cpu(ca));
  if (grad_bf16) check_cpu_bf16_grad(ca, out);

  DevBuf<uint8_t> dl(c.logits.bytes), dout(with_grad && !in_place ? out.size() + off : 0);
  DevBuf<int32_t> dt(c.targets);
  DevBuf<float> dold(old), dref(ref), dadv(adv), dw(w), dlp(n), dH(n);
  PolicyLossArgs ga = a;
  ga.logits = dl.p; ga.targets = dt.p; ga.old_logp = dold.p; ga.ref_logp = dref.p; ga.advantages = dadv.p;
  ga.weights = dw.p; ga.logp = dlp.p; ga.entropy = dH.p;
  ga.dlogits = !with_grad ? nullptr : in_place ? static_cast<void*>(dl.p) : static_cast<void*>(dout.p + off);
  ga.stats = &st_gpu; ga.bad_row = &bad_gpu;
  SCHECK(policy_loss_cuda(ga));

  const Tol tol = fwd_tol(c, temp);
  const std::string k = std::string("policy_loss") +
                        (grad_bf16 ? (off ? "(grad bf16, unaligned)" : "(grad bf16)")
                                   : with_grad ? (in_place ? "(grad in place)" : "(grad)") : "");
  verdict(tag((k + ".bad_row").c_str(), d, n, v, temp), bad_gpu == -1 && bad_cpu == -1,
          "got " + std::to_string(bad_gpu) + " want " + std::to_string(bad_cpu));
  compare(tag((k + ".logp").c_str(), d, n, v, temp), dlp.get(), lp, tol);
  compare(tag((k + ".entropy").c_str(), d, n, v, temp), dH.get(), H, tol);
  const Tol st{2e-5, 2e-4};  // stats are weighted means, O(1)
  compare_scalar(tag((k + ".total").c_str(), d, n, v, temp), st_gpu.total, st_cpu.total, st);
  compare_scalar(tag((k + ".pg_loss").c_str(), d, n, v, temp), st_gpu.pg_loss, st_cpu.pg_loss, st);
  compare_scalar(tag((k + ".kl_loss").c_str(), d, n, v, temp), st_gpu.kl_loss, st_cpu.kl_loss, st);
  compare_scalar(tag((k + ".entropy_sum").c_str(), d, n, v, temp), st_gpu.entropy, st_cpu.entropy, st);
  compare_scalar(tag((k + ".clipfrac").c_str(), d, n, v, temp), st_gpu.clipfrac, st_cpu.clipfrac, st);
  compare_scalar(tag((k + ".dual_clipfrac").c_str(), d, n, v, temp), st_gpu.dual_clipfrac, st_cpu.dual_clipfrac, st);
  compare_scalar(tag((k + ".ppo_kl").c_str(), d, n, v, temp), st_gpu.ppo_kl, st_cpu.ppo_kl, st);
  compare_scalar(tag((k + ".weight_sum").c_str(), d, n, v, temp), st_gpu.weight_sum, st_cpu.weight_sum, st);
  if (!with_grad || n == 0) return;

  // Gradient scale per row: |dL/dlogp| <= w (|A| ratio + kl_coef * ~e^3), |dL/dH| = w * entropy_coeff.
  std::vector<float> gscale(n), hscale(n);
  for (int64_t r = 0; r < n; ++r) {
    gscale[r] = w[r] * (std::fabs(adv[r]) * std::exp(lp0[r] - old[r]) + a.kl_coef * 25.f);
    hscale[r] = w[r] * a.entropy_coeff;
  }
  std::vector<Tol> rt = grad_tols(c, temp, gscale, hscale, H);
  // bf16 dlogits: each side rounds its own fp32 value once, so they may differ
  // by one more bf16 ulp (<= 2^-7 relative).
  if (grad_bf16)
    for (Tol& t : rt) t.rtol += 1.0 / 128;
  std::vector<uint8_t> got_bytes = in_place ? dl.get() : dout.get();
  got_bytes.erase(got_bytes.begin(), got_bytes.begin() + off);
  const std::vector<float> got = to_f32(got_bytes, gd), want = to_f32(out, gd);
  compare(tag((k + ".dlogits").c_str(), d, n, v, temp), got, want, [&](size_t i) { return rt[i / v]; });
}

// dlogits_dtype errors: bf16 dlogits over f32 logits in place (Code::Value), and
// unsupported dtype pairs (Code::DType), from both implementations.
void check_policy_dlogits_errors() {
  const int64_t n = 3, v = 40;
  for (const bool on_gpu : {false, true}) {
    for (const DType d : {DType::F32, DType::F16, DType::BF16}) {
      const Case c = make_case(d, n, v, false, 7);
      std::vector<uint8_t> logits = c.logits.bytes, out(size_t(n * v * 4));
      std::vector<float> lp(n), H(n), w(n, 1.f / n);
      DevBuf<uint8_t> dl(logits), dout(out.size());
      DevBuf<int32_t> dt(c.targets);
      DevBuf<float> dlp(n), dH(n), dw(w);
      PolicyLossArgs a;
      a.logits_dtype = d; a.n = n; a.v = v; a.pg_coef = 0.f;
      a.logits = on_gpu ? static_cast<void*>(dl.p) : logits.data();
      a.targets = on_gpu ? dt.p : c.targets.data();
      a.weights = on_gpu ? dw.p : w.data();
      a.logp = on_gpu ? dlp.p : lp.data();
      a.entropy = on_gpu ? dH.p : H.data();
      void* sep = on_gpu ? static_cast<void*>(dout.p) : out.data();
      // {dlogits dtype, in place, expected code}
      struct Want { DType g; bool in_place; Code code; };
      std::vector<Want> wants;
      if (d == DType::F32) wants = {{DType::BF16, true, Code::Value}, {DType::F16, false, Code::DType}};
      else wants = {{DType::F32, false, Code::DType}, {d == DType::F16 ? DType::BF16 : DType::F16, false, Code::DType}};
      for (const Want& x : wants) {
        PolicyLossArgs b = a;
        b.dlogits_dtype = x.g;
        b.dlogits = x.in_place ? const_cast<void*>(b.logits) : sep;
        const Status st = on_gpu ? policy_loss_cuda(b) : policy_loss_cpu(b);
        verdict(std::string("policy_loss.dlogits_dtype_error[") + (on_gpu ? "cuda " : "cpu ") + dname(d) + "->" +
                    dname(x.g) + (x.in_place ? " in place" : "") + "]",
                st.code == x.code && st.argument == "dlogits",
                "code " + std::to_string(int(st.code)) + " arg '" + st.argument + "': " + st.message);
      }
    }
  }
}

// ---- bad rows -------------------------------------------------------------------

void check_bad_rows() {
  const int64_t n = 33, v = 1000;
  struct Poison { const char* name; int64_t row; int kind; };  // kind 0 NaN, 1 +inf, 2 all -inf
  for (const DType d : {DType::F32, DType::F16, DType::BF16}) {
    for (const Poison p : {Poison{"nan", 17, 0}, Poison{"+inf", 5, 1}, Poison{"all -inf", 30, 2}}) {
      Case c = make_case(d, n, v, false, 99);
      const float nan = std::numeric_limits<float>::quiet_NaN();
      if (p.kind == 2) {
        for (int64_t j = 0; j < v; ++j) c.logits.set(p.row * v + j, -kInf);
      } else {
        c.logits.set(p.row * v + 401, p.kind == 0 ? nan : kInf);
        c.logits.set(26 * v + 7, nan);  // a later bad row must not win
      }
      DevBuf<uint8_t> dl(c.logits.bytes);
      DevBuf<int32_t> dt(c.targets);
      DevBuf<float> a(n), b(n), e(n), w(std::vector<float>(n, 1.f / n));
      int64_t bad = -2;
      LogprobFwdArgs f;
      f.logits = dl.p; f.logits_dtype = d; f.n = n; f.v = v; f.targets = dt.p; f.logp = a.p; f.entropy = b.p;
      f.lse = e.p; f.bad_row = &bad;
      SCHECK(logprob_fwd_cuda(f));
      verdict(std::string("fwd.bad_row[") + dname(d) + " " + p.name + "]", bad == p.row,
              "got " + std::to_string(bad) + " want " + std::to_string(p.row));
      int64_t bad2 = -2;
      PolicyLossArgs pl;
      pl.logits = dl.p; pl.logits_dtype = d; pl.n = n; pl.v = v; pl.targets = dt.p; pl.pg_coef = 0.f;
      pl.weights = w.p; pl.logp = a.p; pl.entropy = b.p; pl.bad_row = &bad2;
      SCHECK(policy_loss_cuda(pl));
      verdict(std::string("policy_loss.bad_row[") + dname(d) + " " + p.name + "]", bad2 == p.row,
              "got " + std::to_string(bad2) + " want " + std::to_string(p.row));
    }
  }
}

// ---- elementwise losses ------------------------------------------------------------

void check_ppo_kl(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> lp(n), old(n), ref(n), adv(n);
  for (int64_t i = 0; i < n; ++i) {
    lp[i] = -std::fabs(2.f * rng.normal());
    old[i] = lp[i] + safe_offset(rng);
    ref[i] = lp[i] + 3.f * rng.normal();
    adv[i] = i % 11 == 0 ? 0.f : rng.normal();
  }
  DevBuf<float> dlp(lp), dold(old), dref(ref), dadv(adv);
  for (const float dual : {0.f, 3.f}) {
    std::vector<float> loss(n), g(n);
    std::vector<uint8_t> cl(n), dc(n);
    PpoClipArgs a;
    a.n = n; a.logp = lp.data(); a.old_logp = old.data(); a.advantages = adv.data(); a.clip_low = 0.2f;
    a.clip_high = 0.28f; a.dual_clip = dual; a.loss = loss.data(); a.dlogp = g.data(); a.clipped = cl.data();
    a.dual_clipped = dc.data();
    SCHECK(ppo_clip_cpu(a));
    DevBuf<float> dloss(n), dg(n);
    DevBuf<uint8_t> dcl(n), ddc(n);
    PpoClipArgs b = a;
    b.logp = dlp.p; b.old_logp = dold.p; b.advantages = dadv.p; b.loss = dloss.p; b.dlogp = dg.p;
    b.clipped = dcl.p; b.dual_clipped = ddc.p;
    SCHECK(ppo_clip_cuda(b));
    const std::string k = "[n=" + std::to_string(n) + " dual=" + std::to_string(int(dual)) + "]";
    compare("ppo_clip.loss" + k, dloss.get(), loss, Tol{1e-6, 1e-5});
    compare("ppo_clip.dlogp" + k, dg.get(), g, Tol{1e-6, 1e-5});
    compare_u8("ppo_clip.clipped" + k, dcl.get(), cl);
    compare_u8("ppo_clip.dual_clipped" + k, ddc.get(), dc);
  }
  const char* names[] = {"k1", "abs", "mse", "low_var_kl"};
  for (int t = 0; t < 4; ++t) {
    std::vector<float> kl(n), g(n);
    KlArgs a;
    a.n = n; a.logp = lp.data(); a.ref_logp = ref.data(); a.type = static_cast<KlType>(t); a.kl = kl.data();
    a.dlogp = g.data();
    SCHECK(kl_penalty_cpu(a));
    DevBuf<float> dkl(n), dg(n);
    KlArgs b = a;
    b.logp = dlp.p; b.ref_logp = dref.p; b.kl = dkl.p; b.dlogp = dg.p;
    SCHECK(kl_penalty_cuda(b));
    const std::string k = std::string("[") + names[t] + " n=" + std::to_string(n) + "]";
    compare(std::string("kl.value") + k, dkl.get(), kl, Tol{1e-6, 1e-5});
    compare(std::string("kl.dlogp") + k, dg.get(), g, Tol{1e-6, 1e-5});
  }
}

// Response masks: left-aligned lengths in [0, t], some rows empty, a few holes.
std::vector<float> make_mask(int64_t b, int64_t t, Rng& rng, bool all_zero = false) {
  std::vector<float> m(b * t, 0.f);
  if (all_zero) return m;
  for (int64_t r = 0; r < b; ++r) {
    const int64_t len = r % 5 == 4 ? 0 : rng.below(t + 1);
    for (int64_t j = 0; j < len; ++j) m[r * t + j] = rng.uniform() < 0.05f ? 0.f : 1.f;
  }
  return m;
}

void check_agg(int64_t b, int64_t t, uint64_t seed, bool all_zero) {
  Rng rng(seed);
  const std::vector<float> mask = make_mask(b, t, rng, all_zero);
  DevBuf<float> dm(mask);
  const char* names[] = {"token-mean", "seq-mean-token-sum", "seq-mean-token-mean"};
  for (int m = 0; m < 3; ++m) {
    std::vector<float> w(b * t);
    AggWeightsArgs a;
    a.mask = mask.data(); a.b = b; a.t = t; a.mode = static_cast<AggMode>(m); a.weights = w.data();
    SCHECK(agg_weights_cpu(a));
    DevBuf<float> dw(b * t);
    AggWeightsArgs g = a;
    g.mask = dm.p; g.weights = dw.p;
    SCHECK(agg_weights_cuda(g));
    compare(std::string("agg_weights[") + names[m] + " b=" + std::to_string(b) + " t=" + std::to_string(t) +
                (all_zero ? " zero mask" : "") + "]",
            dw.get(), w, Tol{1e-12, 1e-6});
  }
}

void check_grpo(int64_t b, int64_t group, int64_t t, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> s(b);
  for (auto& x : s) x = rng.uniform() < 0.5f ? 1.f : (rng.uniform() < 0.5f ? 0.f : rng.normal());
  if (b >= group && group > 1)
    for (int64_t i = 0; i < group; ++i) s[i] = 1.f;  // a constant group: std 0
  const std::vector<float> mask = make_mask(b, t, rng);
  DevBuf<float> ds(s), dm(mask);
  for (const bool norm : {true, false}) {
    std::vector<float> adv(b), tok(b * t);
    GrpoAdvantageArgs a;
    a.scores = s.data(); a.b = b; a.group_size = group; a.norm_std = norm; a.advantages = adv.data();
    a.mask = mask.data(); a.t = t; a.token_advantages = tok.data();
    SCHECK(grpo_advantage_cpu(a));
    DevBuf<float> dadv(b), dtok(b * t);
    GrpoAdvantageArgs g = a;
    g.scores = ds.p; g.advantages = dadv.p; g.mask = dm.p; g.token_advantages = dtok.p;
    SCHECK(grpo_advantage_cuda(g));
    const std::string k = "[b=" + std::to_string(b) + " group=" + std::to_string(group) + (norm ? " std" : "") + "]";
    compare("grpo.advantages" + k, dadv.get(), adv, Tol{1e-6, 1e-6});
    compare("grpo.token_advantages" + k, dtok.get(), tok, Tol{1e-6, 1e-6});
  }
}

void check_gae(int64_t b, int64_t t, float gamma, float lambda, bool whiten, uint64_t seed) {
  Rng rng(seed);
  const std::vector<float> mask = make_mask(b, t, rng);
  std::vector<float> rew(b * t), val(b * t);
  for (int64_t i = 0; i < b * t; ++i) {
    rew[i] = rng.uniform() < 0.1f ? rng.normal() : 0.f;
    val[i] = 0.5f * rng.normal();
  }
  std::vector<float> adv(b * t), ret(b * t);
  GaeArgs a;
  a.rewards = rew.data(); a.values = val.data(); a.mask = mask.data(); a.b = b; a.t = t; a.gamma = gamma;
  a.lambda = lambda; a.whiten = whiten; a.advantages = adv.data(); a.returns = ret.data();
  SCHECK(gae_cpu(a));
  DevBuf<float> dr(rew), dv(val), dm(mask), da(b * t), dret(b * t);
  GaeArgs g = a;
  g.rewards = dr.p; g.values = dv.p; g.mask = dm.p; g.advantages = da.p; g.returns = dret.p;
  SCHECK(gae_cuda(g));
  char k[128];
  std::snprintf(k, sizeof k, "[b=%lld t=%lld gamma=%.3g lambda=%.3g%s]", (long long)b, (long long)t, gamma, lambda,
                whiten ? " whiten" : "");
  // fp32 scans of length t: allow error growing with t (FMA contraction differs from CPU).
  const Tol tol{1e-5 * (1 + t / 64.0), 1e-5 * (1 + t / 64.0)};
  compare(std::string("gae.advantages") + k, da.get(), adv, tol);
  compare(std::string("gae.returns") + k, dret.get(), ret, tol);
}

// ---- (j) value loss ---------------------------------------------------------------------

// Values around the old ones at about twice the clip (so roughly half the
// tokens are outside the clip range), some exactly on its upper edge, some
// with v = R; ~15% padding (weight 0), a third of it with NaN values that must
// not reach the sums. The per-token arithmetic is the same fp32 sequence on
// both sides (value_term), so dvalues agree to rounding and the stats to the
// fp64 summation order.
void check_value_loss(int64_t n, float clip, bool with_stats, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n), old(n), ret(n), w(n);
  double wsum = 0;
  for (int64_t i = 0; i < n; ++i) {
    old[i] = rng.normal();
    v[i] = i % 17 == 5 ? old[i] + clip : old[i] + 2.f * clip * rng.normal();
    ret[i] = i % 13 == 0 ? v[i] : old[i] + 2.f * rng.normal();
    w[i] = rng.uniform() < 0.15f ? 0.f : 1.f;
    if (w[i] == 0.f && i % 3 == 0) v[i] = std::numeric_limits<float>::quiet_NaN();
    wsum += w[i];
  }
  for (auto& x : w) x = wsum > 0 ? static_cast<float>(x / wsum) : 0.f;

  std::vector<float> dv(n);
  ValueLossStats st_cpu, st_gpu;
  ValueLossArgs a;
  a.n = n; a.values = v.data(); a.old_values = old.data(); a.returns = ret.data(); a.weights = w.data();
  a.clip = clip; a.dvalues = dv.data(); a.stats = &st_cpu;
  SCHECK(value_loss_cpu(a));
  DevBuf<float> dval(v), dold(old), dret(ret), dw(w), ddv(n);
  ValueLossArgs g = a;
  g.values = dval.p; g.old_values = dold.p; g.returns = dret.p; g.weights = dw.p; g.dvalues = ddv.p;
  g.stats = with_stats ? &st_gpu : nullptr;
  SCHECK(value_loss_cuda(g));
  char k[96];
  std::snprintf(k, sizeof k, "[n=%lld clip=%.2g%s]", (long long)n, clip, with_stats ? " stats" : "");
  compare(std::string("value_loss.dvalues") + k, ddv.get(), dv, Tol{1e-12, 2.4e-7});
  if (!with_stats) return;
  const Tol st{1e-12, 1e-9};  // fp64 sums of fp32 products: only the summation order differs
  compare_scalar(std::string("value_loss.total") + k, st_gpu.total, st_cpu.total, st);
  compare_scalar(std::string("value_loss.clipfrac") + k, st_gpu.clipfrac, st_cpu.clipfrac, st);
  compare_scalar(std::string("value_loss.weight_sum") + k, st_gpu.weight_sum, st_cpu.weight_sum, st);
}

// ---- (i) token sampling ----------------------------------------------------------------

// Where the CPU's choice for one row sits: the cumulative boundaries around the
// target u * total and around the top-p need (both relative to their masses),
// recomputed here in the CPU's order (sequential fp64 over p = expf(z/T - max/T)).
struct SampleRef {
  int32_t token = -1;
  double target_gap = 1;  // min |target - boundary| / total
  double need_gap = 1;    // min |need - boundary| / mass (top-p only)
};
SampleRef sample_ref(const float* z, int64_t v, const SampleArgs& a, float u) {
  SampleRef s;
  float m = -kInf;
  int64_t arg = -1;
  for (int64_t j = 0; j < v; ++j)
    if (z[j] > m) { m = z[j]; arg = j; }
  if (arg < 0 || a.temperature == 0.f) { s.token = static_cast<int32_t>(arg); return s; }
  const float inv_t = 1.f / a.temperature, mt = m * inv_t;
  const bool top_k = a.top_k > 0 && a.top_k < v, top_p = a.top_p < 1.f;
  std::vector<std::pair<float, int32_t>> c;  // (p, id)
  for (int64_t j = 0; j < v; ++j) {
    volatile float x = z[j] * inv_t;  // no contraction, as on the CPU
    const float p = std::exp(x - mt);
    if (p > 0.f) c.push_back({p, static_cast<int32_t>(j)});
  }
  size_t keep = c.size();
  if (top_k || top_p) {
    std::sort(c.begin(), c.end(), [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); });
    if (top_k && static_cast<int64_t>(c.size()) > a.top_k) c.resize(a.top_k);
    keep = c.size();
    if (top_p) {
      double mass = 0;
      for (const auto& e : c) mass += e.first;
      const double need = static_cast<double>(a.top_p) * mass;
      double cum = 0;
      for (size_t i = 0; i < c.size(); ++i) {
        const double prev = cum;
        cum += c[i].first;
        if (cum >= need) {
          keep = i + 1;
          s.need_gap = std::min(std::fabs(need - prev), std::fabs(cum - need)) / mass;
          break;
        }
      }
    }
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += c[i].first;
  const double target = static_cast<double>(u) * total;
  double cum = 0;
  s.token = c[keep - 1].second;
  for (size_t i = 0; i < keep; ++i) {
    const double prev = cum;
    cum += c[i].first;
    if (cum > target) {
      s.token = c[i].second;
      s.target_gap = std::min(std::fabs(target - prev), std::fabs(cum - target)) / total;
      break;
    }
  }
  return s;
}

// Random N(0, 3) logits; odd rows get ~5% -inf entries; every 4th row has a few
// duplicated maxima (ties); uniforms include 0 and values near 1.
void check_sample(DType d, int64_t b, int64_t v, float temp, float top_p, int64_t top_k, uint64_t seed) {
  Rng rng(seed);
  Logits L(d, b, v);
  std::vector<float> u(b);
  for (int64_t r = 0; r < b; ++r) {
    for (int64_t j = 0; j < v; ++j) {
      float x = 3.f * rng.normal();
      if (r % 2 == 1 && j > 0 && rng.uniform() < 0.05f) x = -kInf;
      L.set(r * v + j, x);
    }
    if (r % 4 == 2 && v > 3) {  // ties at the max
      float mx = -kInf;
      for (int64_t j = 0; j < v; ++j) mx = std::max(mx, L.get(r * v + j));
      L.set(r * v + rng.below(v), mx);
      L.set(r * v + rng.below(v), mx);
    }
    u[r] = r % 9 == 4 ? 0.f : r % 9 == 7 ? 0.99999994f : rng.uniform();
  }
  std::vector<int32_t> want(b, -7);
  int64_t bad_cpu = -2, bad_gpu = -2;
  SampleArgs a;
  a.logits = L.bytes.data(); a.logits_dtype = d; a.b = b; a.v = v; a.temperature = temp; a.top_p = top_p;
  a.top_k = top_k; a.uniforms = u.data(); a.tokens = want.data(); a.bad_row = &bad_cpu;
  SCHECK(sample_cpu(a));
  DevBuf<uint8_t> dl(L.bytes);
  DevBuf<float> du(u);
  DevBuf<int32_t> dt(b);
  SampleArgs g = a;
  g.logits = dl.p; g.uniforms = du.p; g.tokens = dt.p; g.bad_row = &bad_gpu;
  SCHECK(sample_cuda(g));
  const std::vector<int32_t> got = dt.get();
  size_t bad = 0, first = 0, skipped = 0;
  std::vector<float> z(v);
  for (int64_t r = 0; r < b; ++r) {
    if (got[r] == want[r]) continue;
    for (int64_t j = 0; j < v; ++j) z[j] = L.get(r * v + j);
    const SampleRef s = sample_ref(z.data(), v, a, u[r]);
    if (s.target_gap < 1e-5 || s.need_gap < 1e-5) { ++skipped; continue; }  // within rounding of a boundary
    if (bad++ == 0) first = r;
  }
  char k[160];
  std::snprintf(k, sizeof k, "sample[%s b=%lld v=%lld T=%.2g top_p=%.2g top_k=%lld]", dname(d), (long long)b,
                (long long)v, temp, top_p, (long long)top_k);
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "rows=%lld mismatches=%zu skipped(near boundary)=%zu bad_row got %lld want %lld",
                        (long long)b, bad, skipped, (long long)bad_gpu, (long long)bad_cpu);
  if (bad) std::snprintf(buf + n, sizeof buf - n, " first at row %zu: got %d want %d", first, got[first], want[first]);
  verdict(k, bad == 0 && bad_gpu == bad_cpu, buf);
}

void check_sample_bad_rows() {
  const int64_t b = 9, v = 1000;
  for (const DType d : {DType::F32, DType::BF16})
    for (const float temp : {0.f, 1.f})
      for (const float top_p : {1.f, 0.9f}) {
        Rng rng(77);
        Logits L(d, b, v);
        std::vector<float> u(b);
        for (int64_t i = 0; i < b * v; ++i) L.set(i, 3.f * rng.normal());
        for (auto& x : u) x = rng.uniform();
        for (int64_t j = 0; j < v; ++j) L.set(6 * v + j, -kInf);           // all -inf
        L.set(2 * v + 500, kInf);                                          // +inf
        L.set(4 * v + 3, std::numeric_limits<float>::quiet_NaN());         // NaN
        std::vector<int32_t> want(b);
        int64_t bad_cpu = -2, bad_gpu = -2;
        SampleArgs a;
        a.logits = L.bytes.data(); a.logits_dtype = d; a.b = b; a.v = v; a.temperature = temp; a.top_p = top_p;
        a.uniforms = u.data(); a.tokens = want.data(); a.bad_row = &bad_cpu;
        SCHECK(sample_cpu(a));
        DevBuf<uint8_t> dl(L.bytes);
        DevBuf<float> du(u);
        DevBuf<int32_t> dt(b);
        SampleArgs g = a;
        g.logits = dl.p; g.uniforms = du.p; g.tokens = dt.p; g.bad_row = &bad_gpu;
        SCHECK(sample_cuda(g));
        const std::vector<int32_t> got = dt.get();
        char k[128];
        std::snprintf(k, sizeof k, "sample.bad_row[%s T=%.2g top_p=%.2g]", dname(d), temp, top_p);
        verdict(k, bad_gpu == 2 && bad_cpu == 2 && got[2] == 0 && got[4] == 0 && got[6] == 0 && got == want,
                "got " + std::to_string(bad_gpu) + " want 2 (cpu " + std::to_string(bad_cpu) + "), tokens " +
                    (got == want ? "equal" : "differ"));
      }
}

}  // namespace

int main(int argc, char** argv) {
  // --quick skips v = 151936; --tiny (for compute-sanitizer) keeps n <= 33, v <= 1000
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool tiny = mode == "--tiny", quick = tiny || mode == "--quick";
  const int devices = cuda::device_count();
  if (devices == 0) {
    std::printf("FAIL no CUDA device (rlvr::cuda::device_count() == 0)\n");
    return 1;
  }
  cuda::DeviceInfo info;
  SCHECK(cuda::device_info(0, &info));
  SCHECK(cuda::set_device(0));
  std::printf("# device: %s (sm_%d%d, %d SMs), CUDA runtime %s\n", info.name.c_str(), info.cc_major, info.cc_minor,
              info.sm_count, cuda::runtime_version().c_str());

  uint64_t seed = 1;
  for (const DType d : {DType::F32, DType::F16, DType::BF16})
    for (const int64_t n : {0, 1, 7, 33, 257})
      for (const int64_t v : {1, 5, 1000, 32000, 151936}) {
        if ((quick && v > 32000) || (tiny && (v > 1000 || n > 33))) continue;
        const float temp = seed % 2 ? 1.f : 0.6f;
        check_logprob(d, n, v, temp, seed);
        check_policy_loss(d, n, v, temp, seed + 1000);
        ++seed;
      }
  // f32 logits, bf16 dlogits
  for (const int64_t n : {1, 7, 33, 257})
    for (const int64_t v : {1, 5, 1000, 32000, 151936}) {
      if ((quick && v > 32000) || (tiny && (v > 1000 || n > 33))) continue;
      check_policy_loss(DType::F32, n, v, seed % 2 ? 1.f : 0.6f, seed + 1000, true);
      ++seed;
    }
  check_policy_dlogits_errors();
  check_bad_rows();
  for (const int64_t n : {0, 1, 7, 33, 257, 100003}) check_ppo_kl(n, 7 + n);
  for (const int64_t b : {1, 7, 33, 257})
    for (const int64_t t : {1, 5, 1000}) check_agg(b, t, b * 31 + t, false);
  check_agg(7, 33, 3, true);
  for (const int64_t group : {1, 2, 8})
    for (const int64_t groups : {1, 3, 33}) check_grpo(group * groups, group, 17, group * 100 + groups);
  for (const int64_t b : {1, 7, 33})
    for (const int64_t t : {1, 5, 257, 1000}) {
      check_gae(b, t, 1.f, 1.f, true, b * 7 + t);
      check_gae(b, t, 0.99f, 0.95f, b % 2 == 1, b * 7 + t + 1);
    }
  for (const int64_t n : {0, 1, 7, 33, 257, 100003})
    for (const float clip : {0.2f, 0.5f})
      for (const bool stats : {true, false}) check_value_loss(n, clip, stats, 11 * n + 1);
  // (i) sampling
  check_sample_bad_rows();
  seed = 5000;
  for (const DType d : {DType::F32, DType::BF16})
    for (const int64_t b : {1, 7, 64})
      for (const int64_t v : {1, 5, 1000, 151936}) {
        if ((quick && v > 32000) || (tiny && (v > 1000 || b > 33))) continue;
        for (const float temp : {0.f, 0.6f, 1.f})
          for (const float top_p : {1.f, 0.9f, 0.3f})
            for (const int64_t top_k : {0, 1, 50}) {
              if (temp == 0.f && (top_p != 1.f || top_k != 0)) continue;  // greedy ignores them
              check_sample(d, b, v, temp, top_p, top_k, ++seed);
            }
      }
  std::printf("# %d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
