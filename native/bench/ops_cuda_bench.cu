// rlvr_cuda_engine_bench: engine op throughput on Qwen2.5-1.5B shapes (hidden
// 1536, intermediate 8960, 12 heads / 2 kv heads, head_dim 128, vocab 151936,
// 28 layers, tied embeddings). Prints one JSON object to stdout:
//   - gemm: TFLOP/s of every linear of a layer (+ the LM head) in its three
//     training forms (fwd x W^T, bwd_input dy W, bwd_weight dy^T x), f32 and bf16;
//   - attention: fwd / bwd / decode ms (fp32); attention_bf16: fwd / bwd ms
//     with AttnFwdArgs::bf16 (tensor cores), which the bf16 step estimate uses;
//   - elementwise: ms of the row / elementwise ops of one layer;
//   - step_estimate: a training step of the 28-layer model on `tokens` tokens
//     timed as the engine would run it (forward keeping layer inputs, per-layer
//     recompute, backward; LM head GEMMs; grad norm + AdamW), summed from the
//     measured op times, and the MFU = model FLOPs (6 N tokens + attention,
//     no recompute) / (time * peak). The fused LM-head loss kernel
//     (kernels::policy_loss_cuda) is not included.
//   usage: rlvr_cuda_engine_bench [tokens=8192] [seq_len=2048] [reps=10] [peak_bf16_tflops=auto]
#include <cuda_bf16.h>

#include <cmath>
#include <cstdarg>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "ops/cuda/cublas_gemm.h"
#include "ops/ops.h"
#include "bench/timing.h"
#include "test/harness.h"

using namespace rlvr;
using namespace rlvr::engine::ops;

namespace {

__global__ void fill_kernel(float* x, int64_t count, uint64_t seed, float scale) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 27;
    const float u1 = ((h >> 40) + 0.5f) * (1.f / 16777216.f), u2 = ((h & 0xffffff) + 0.5f) * (1.f / 16777216.f);
    x[i] = (u1 + u2 - 1.f) * scale;
  }
}
__global__ void ids_kernel(int32_t* t, int64_t n, int64_t v) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    t[i] = static_cast<int32_t>((i * 2654435761ull) % static_cast<uint64_t>(v));
}
__global__ void ones_kernel(float* x, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] = 1.f;
}

void fill(float* p, int64_t count, uint64_t seed, float scale = 1.f) {
  fill_kernel<<<4096, 256>>>(p, count, seed, scale);
  HCHECK(cudaGetLastError());
}

// Dense peak (TFLOP/s) by device name; 0 = unknown.
void peaks(const std::string& name, double* bf16, double* f32) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  *bf16 = *f32 = 0;
  if (has("H200")) { *bf16 = 989.4; *f32 = 66.9; }
  else if (has("H100") && (has("PCIe") || has("PCIE"))) { *bf16 = 756.0; *f32 = 51.2; }
  else if (has("H100") && has("NVL")) { *bf16 = 835.0; *f32 = 60.0; }
  else if (has("H100") || has("H800")) { *bf16 = 989.4; *f32 = 66.9; }
  else if (has("A100") || has("A800")) { *bf16 = 312.0; *f32 = 19.5; }
  else if (has("L40S")) { *bf16 = 362.0; *f32 = 91.6; }
  else if (has("A10")) { *bf16 = 125.0; *f32 = 31.2; }
}

struct Json {
  std::string s;
  bool first = true;
  void item(const std::string& x) {
    s += first ? "\n    " : ",\n    ";
    s += x;
    first = false;
  }
};

std::string f(const char* fmt_, ...) __attribute__((format(printf, 1, 2)));
std::string f(const char* fmt_, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt_);
  std::vsnprintf(buf, sizeof buf, fmt_, ap);
  va_end(ap);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t tokens = argc > 1 ? std::stoll(argv[1]) : 8192;
  const int64_t seq = argc > 2 ? std::stoll(argv[2]) : 2048;
  const int reps = argc > 3 ? std::stoi(argv[3]) : 10;
  double peak_bf16 = 0, peak_f32 = 0;
  if (cuda::device_count() == 0) {
    std::fprintf(stderr, "no CUDA device\n");
    return 1;
  }
  SCHECK(cuda::set_device(0));
  cuda::DeviceInfo info;
  SCHECK(cuda::device_info(0, &info));
  peaks(info.name, &peak_bf16, &peak_f32);
  if (argc > 4) peak_bf16 = std::stod(argv[4]);

  // Qwen2.5-1.5B
  const int64_t H = 1536, I = 8960, NH = 12, NKV = 2, HD = 128, V = 151936, L = 28;
  const int64_t Qd = NH * HD, KVd = NKV * HD;
  const int64_t n = tokens, bsz = std::max<int64_t>(1, tokens / seq), T = tokens / bsz;
  const int64_t lm_rows = std::min<int64_t>(n, 2048);  // LM head timed on a chunk, scaled to n rows

  // ---- buffers (sized for the largest GEMM operands)
  const int64_t a_max = std::max(n * I, lm_rows * V);     // activations / dlogits
  const int64_t w_max = std::max(I * H, V * H);           // weights
  const int64_t c_max = std::max(n * I, lm_rows * V);     // outputs
  DevBuf<float> A(a_max), W(w_max), C(c_max), Cw(w_max);
  DevBuf<__nv_bfloat16> Ab(a_max), Wb(w_max);
  fill(A.p, a_max, 1, 2.f);
  fill(W.p, w_max, 2, 0.05f);
  SCHECK(cast_bf16_cuda(A.p, Ab.p, a_max));
  SCHECK(cast_bf16_cuda(W.p, Wb.p, w_max));
  HCHECK(cudaMemset(Cw.p, 0, w_max * 4));

  struct Lin { const char* name; int64_t out, in, rows; int per_layer; };
  const std::vector<Lin> lins = {{"q_proj", Qd, H, n, 1},     {"kv_proj", KVd, H, n, 2}, {"o_proj", H, Qd, n, 1},
                                 {"gate_up_proj", I, H, n, 2}, {"down_proj", H, I, n, 1}, {"lm_head", V, H, lm_rows, 0}};
  Json gj;
  // per-layer GEMM time (ms) for the step estimate: [dtype][0 fwd, 1 bwd_input, 2 bwd_weight]
  double layer_gemm[2][3] = {}, lm_gemm[2][3] = {};
  // passes: f32, bf16 on the default implementation (cuBLAS when it loads),
  // and the WMMA kernel too when that was cuBLAS (not in the step estimate).
  const std::string bf16_impl = bf16_gemm_impl();
  const int passes = bf16_impl.rfind("cublas", 0) == 0 ? 3 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    const int di = pass == 0 ? 0 : 1;
    if (pass == 2) set_cublas_enabled(false);
    const std::string impl = di == 0 ? "simt" : bf16_gemm_impl();
    const DType dt = di == 0 ? DType::F32 : DType::BF16;
    const void* a = di == 0 ? static_cast<const void*>(A.p) : Ab.p;
    const void* w = di == 0 ? static_cast<const void*>(W.p) : Wb.p;
    for (const Lin& l : lins) {
      const int64_t M = l.rows, N = l.out, K = l.in;
      const double flops = 2.0 * M * N * K;
      const int r = (di == 0 && l.per_layer == 0) ? 1 : reps;  // fp32 LM head is slow
      const GemmArgs forms[3] = {linear_fwd(M, N, K, a, w, nullptr, C.p, false, dt),
                                 linear_bwd_input(M, N, K, a, w, C.p, false, dt),
                                 linear_bwd_weight(M, N, K, a, a, Cw.p, dt)};
      const char* fname[3] = {"fwd", "bwd_input", "bwd_weight"};
      for (int fi = 0; fi < 3; ++fi) {
        const double ms = time_ms(r, [&] { SCHECK(gemm_cuda(forms[fi])); });
        gj.item(f("{\"op\": \"%s\", \"form\": \"%s\", \"dtype\": \"%s\", \"impl\": \"%s\", \"m\": %lld, "
                  "\"n\": %lld, \"k\": %lld, \"ms\": %.4f, \"tflops\": %.2f}",
                  l.name, fname[fi], di ? "bf16" : "f32", impl.c_str(), (long long)forms[fi].m,
                  (long long)forms[fi].n, (long long)forms[fi].k, ms, flops / (ms * 1e9)));
        if (pass == 2) continue;
        if (l.per_layer) layer_gemm[di][fi] += l.per_layer * ms;
        else lm_gemm[di][fi] = ms * double(n) / double(M);
      }
    }
  }
  set_cublas_enabled(true);

  // ---- attention
  DevBuf<float> q(n * Qd), k(n * KVd), v(n * KVd), o(n * Qd), lse(n * NH), dout(n * Qd), dq(n * Qd), dk(n * KVd),
      dv(n * KVd), mask(n);
  fill(q.p, n * Qd, 3); fill(k.p, n * KVd, 4); fill(v.p, n * KVd, 5); fill(dout.p, n * Qd, 6);
  ones_kernel<<<1024, 256>>>(mask.p, n);
  AttnFwdArgs af;
  af.b = bsz; af.tq = T; af.heads = NH; af.kv_heads = NKV; af.head_dim = HD; af.q = q.p; af.k = k.p; af.v = v.p;
  af.seq_stride = T; af.mask = mask.p; af.mask_stride = T; af.out = o.p; af.lse = lse.p;
  AttnBwdArgs ab;
  ab.b = bsz; ab.t = T; ab.heads = NH; ab.kv_heads = NKV; ab.head_dim = HD; ab.q = q.p; ab.k = k.p; ab.v = v.p;
  ab.mask = mask.p; ab.out = o.p; ab.lse = lse.p; ab.dout = dout.p; ab.dq = dq.p; ab.dk = dk.p; ab.dv = dv.p;
  const double attn_fwd_ms = time_ms(reps, [&] { SCHECK(attention_fwd_cuda(af)); });
  const double attn_bwd_ms = time_ms(reps, [&] { SCHECK(attention_bwd_cuda(ab)); });
  // bf16 math (the forward first, so that the backward reads a bf16 forward's out / lse)
  AttnFwdArgs af16 = af;
  af16.bf16 = true;
  AttnBwdArgs ab16 = ab;
  ab16.bf16 = true;
  // (the tile-buffering variants of the bf16 kernels: native/dev/attention_tc_variants.cu)
  const double attn16_fwd_ms = time_ms(reps, [&] { SCHECK(attention_fwd_cuda(af16)); });
  const double attn16_bwd_ms = time_ms(reps, [&] { SCHECK(attention_bwd_cuda(ab16)); });
  const double attn_flops_fwd = 4.0 * bsz * NH * HD * (double(T) * (T + 1) / 2);  // causal QK^T + PV
  // decode: 8 sequences with a cache of up to 1024 slots (k/v reused as the cache)
  const int64_t db = std::min<int64_t>(8, n), cap = std::min<int64_t>(T, n / db);
  AttnFwdArgs ad = af;
  ad.b = db; ad.tq = 1; ad.slot0 = cap - 1; ad.seq_stride = cap; ad.mask_stride = cap;
  const double decode_ms = time_ms(reps, [&] { SCHECK(attention_fwd_cuda(ad)); });
  // decode at the model bench's shape: 256 sequences, 576 cache slots (its own
  // cache buffers; one layer); GB/s counts the K and V rows read once.
  const int64_t db2 = 256, cap2 = 576;
  DevBuf<float> kc(db2 * cap2 * KVd), vc(db2 * cap2 * KVd), qc(db2 * Qd), oc(db2 * Qd), mc(db2 * cap2);
  fill(kc.p, db2 * cap2 * KVd, 12); fill(vc.p, db2 * cap2 * KVd, 13); fill(qc.p, db2 * Qd, 14);
  ones_kernel<<<1024, 256>>>(mc.p, db2 * cap2);
  AttnFwdArgs ad2 = af;
  ad2.b = db2; ad2.tq = 1; ad2.slot0 = cap2 - 1; ad2.seq_stride = cap2; ad2.mask_stride = cap2;
  ad2.q = qc.p; ad2.k = kc.p; ad2.v = vc.p; ad2.mask = mc.p; ad2.out = oc.p; ad2.lse = nullptr;
  const double decode256_ms = time_ms(reps, [&] { SCHECK(attention_fwd_cuda(ad2)); });
  const double decode256_gbs = 2.0 * db2 * cap2 * KVd * 4 / (decode256_ms * 1e6);

  // ---- elementwise ops of one layer
  DevBuf<float> x(n * H), y(n * H), dx(n * H), invb(n), wln(H), dwln(H), g(n * I), u(n * I), hbuf(n * I), cs(n * HD),
      invf(HD / 2);
  DevBuf<int32_t> pos(n), ids(n);
  fill(x.p, n * H, 7); fill(g.p, n * I, 8); fill(u.p, n * I, 9); fill(wln.p, H, 10); fill(invf.p, HD / 2, 11, 0.1f);
  ids_kernel<<<1024, 256>>>(ids.p, n, V);
  SCHECK(positions_cuda(mask.p, bsz, T, pos.p));
  SCHECK(rope_table_cuda(pos.p, n, invf.p, HD, cs.p));
  RmsNormFwdArgs rf;
  rf.x = x.p; rf.w = wln.p; rf.y = y.p; rf.inv = invb.p; rf.n = n; rf.h = H;
  RmsNormBwdArgs rb;
  rb.x = x.p; rb.w = wln.p; rb.inv = invb.p; rb.dy = y.p; rb.dx = dx.p; rb.dw = dwln.p; rb.n = n; rb.h = H;
  rb.accumulate = true;
  const double rms_fwd = time_ms(reps, [&] { SCHECK(rmsnorm_fwd_cuda(rf)); });
  const double rms_bwd = time_ms(reps, [&] { SCHECK(rmsnorm_bwd_cuda(rb)); });
  // the bf16 mode's: y16 alone, dx plus its bf16 twin (OpsModel::norm_fwd / norm_bwd)
  double rms_fwd16 = 0, rms_bwd16 = 0;
  {
    DevBuf<uint16_t> t16(n * H);
    RmsNormFwdArgs rf16 = rf;
    rf16.y = nullptr; rf16.y16 = t16.p;
    RmsNormBwdArgs rb16 = rb;
    rb16.dx16 = t16.p;
    rms_fwd16 = time_ms(reps, [&] { SCHECK(rmsnorm_fwd_cuda(rf16)); });
    rms_bwd16 = time_ms(reps, [&] { SCHECK(rmsnorm_bwd_cuda(rb16)); });
  }
  const double rope = time_ms(reps, [&] {
    SCHECK(rope_apply_cuda(q.p, n, NH, HD, cs.p, false));
    SCHECK(rope_apply_cuda(k.p, n, NKV, HD, cs.p, false));
  });
  const double swi_fwd = time_ms(reps, [&] { SCHECK(swiglu_fwd_cuda(g.p, u.p, hbuf.p, n * I)); });
  double swi_bwd = 0;
  {
    DevBuf<float> du(n * I);
    swi_bwd = time_ms(reps, [&] { SCHECK(swiglu_bwd_cuda(g.p, u.p, hbuf.p, hbuf.p, du.p, n * I)); });
  }
  // the bf16 mode's SwiGLU: bf16 in (the GEMMs' bf16 g, u, dh) and out (h, dg, du feed GEMMs only)
  double swi_fwd16 = 0, swi_bwd16 = 0;
  {
    DevBuf<uint16_t> g16(n * I), u16(n * I), dh16(n * I), hb(n * I), gb(n * I), ub(n * I);
    SCHECK(cast_bf16_cuda(g.p, g16.p, n * I));
    SCHECK(cast_bf16_cuda(u.p, u16.p, n * I));
    SCHECK(cast_bf16_cuda(hbuf.p, dh16.p, n * I));
    swi_fwd16 = time_ms(reps, [&] { SCHECK(swiglu_fwd_bf16_cuda(g16.p, u16.p, hb.p, n * I)); });
    swi_bwd16 = time_ms(reps, [&] { SCHECK(swiglu_bwd_bf16_cuda(g16.p, u16.p, dh16.p, gb.p, ub.p, n * I)); });
  }
  const double bias = time_ms(reps, [&] { SCHECK(bias_bwd_cuda(q.p, dwln.p, n, H)); });  // ~ q/k/v bias grads
  const double cast_ms = time_ms(reps, [&] { SCHECK(cast_bf16_cuda(g.p, Ab.p, n * I)); });  // per n*I floats
  const double embed_bwd = time_ms(reps, [&] { SCHECK(embed_bwd_cuda(ids.p, x.p, n, H, W.p)); });
  // optimizer on a 256M-element slab, scaled to the parameter count
  const int64_t params = V * H + L * (H * (Qd + 2 * KVd) + (Qd + 2 * KVd) + Qd * H + 2 * H + 3 * H * I) + H;
  const int64_t slab = std::min<int64_t>(params, int64_t(1) << 28);
  double opt_ms = 0, gnorm_ms = 0;
  {
    DevBuf<float> p(slab), gr(slab), m(slab), vv(slab);
    fill(p.p, slab, 12); HCHECK(cudaMemset(m.p, 0, slab * 4)); HCHECK(cudaMemset(vv.p, 0, slab * 4));
    AdamWArgs ao;
    ao.param = p.p; ao.grad = gr.p; ao.m = m.p; ao.v = vv.p; ao.count = slab; ao.zero_grad = false;
    opt_ms = time_ms(3, [&] {
      double nrm = 0;
      SCHECK(grad_norm_cuda(gr.p, slab, &nrm));
      SCHECK(adamw_cuda(ao));
    }) * double(params) / double(slab);
    gnorm_ms = time_ms(3, [&] {
      double nrm = 0;
      SCHECK(grad_norm_cuda(gr.p, slab, &nrm));
    }) * double(params) / double(slab);
  }

  // ---- step estimate
  // forward of one layer (run twice: the checkpointed pass and the recompute)
  // and backward; activation casts to bf16 on the bf16 path: xn1, att, xn2 in
  // the forward; dq/dk/dv, datt-grad (dres), dx2 in the backward (h, dg, du come
  // out of the SwiGLU twins in bf16).
  const double cast_per_float = cast_ms / double(n * I);
  // [0] f32 step: fp32 attention; [1] bf16 step: bf16 attention
  const double step_attn_fwd[2] = {attn_fwd_ms, attn16_fwd_ms}, step_attn_bwd[2] = {attn_bwd_ms, attn16_bwd_ms};
  // (bf16: the SwiGLU twins write h, dg, du in bf16, so those three are not cast)
  const double elt_fwd[2] = {2 * rms_fwd + rope + swi_fwd, 2 * rms_fwd + rope + swi_fwd16};
  const double elt_bwd[2] = {2 * rms_bwd + rope + swi_bwd + 3 * bias, 2 * rms_bwd + rope + swi_bwd16 + 3 * bias};
  const double casts_fwd = cast_per_float * double(n) * (2 * H + Qd);
  const double casts_bwd = cast_per_float * double(n) * (2 * H + Qd + 2 * KVd + H);
  double step_ms[2], mfu[2], hfu[2];
  const double layer_params = double(H) * (Qd + 2 * KVd) + double(Qd) * H + 3.0 * H * I;
  const double model_flops = 6.0 * double(n) * (L * layer_params + double(V) * H) + 3.0 * L * attn_flops_fwd;
  const double hw_flops = model_flops + 2.0 * double(n) * L * layer_params + L * attn_flops_fwd;  // + recompute
  for (int di = 0; di < 2; ++di) {
    const double lf = layer_gemm[di][0] + elt_fwd[di] + step_attn_fwd[di] + (di ? casts_fwd : 0);
    const double lb = layer_gemm[di][1] + layer_gemm[di][2] + elt_bwd[di] + step_attn_bwd[di] + (di ? casts_bwd : 0);
    const double lm = lm_gemm[di][0] + lm_gemm[di][1] + lm_gemm[di][2];
    step_ms[di] = L * (2 * lf + lb) + lm + embed_bwd + opt_ms;
    const double peak = di ? peak_bf16 : peak_f32;
    mfu[di] = peak > 0 ? model_flops / (step_ms[di] * 1e-3) / (peak * 1e12) : 0;
    hfu[di] = peak > 0 ? hw_flops / (step_ms[di] * 1e-3) / (peak * 1e12) : 0;
  }

  std::printf("{\n  \"device\": \"%s\", \"sm\": \"%d%d\", \"sm_count\": %d,\n", info.name.c_str(), info.cc_major,
              info.cc_minor, info.sm_count);
  std::printf("  \"bf16_gemm_impl\": \"%s\",\n", bf16_impl.c_str());
  std::printf("  \"peak_tflops\": {\"bf16_dense\": %.1f, \"f32_simt\": %.1f},\n", peak_bf16, peak_f32);
  std::printf("  \"shape\": {\"model\": \"Qwen2.5-1.5B\", \"tokens\": %lld, \"batch\": %lld, \"seq_len\": %lld, "
              "\"hidden\": %lld, \"inter\": %lld, \"heads\": %lld, \"kv_heads\": %lld, \"head_dim\": %lld, "
              "\"vocab\": %lld, \"layers\": %lld, \"params\": %lld},\n",
              (long long)n, (long long)bsz, (long long)T, (long long)H, (long long)I, (long long)NH, (long long)NKV,
              (long long)HD, (long long)V, (long long)L, (long long)params);
  std::printf("  \"gemm\": [%s\n  ],\n", gj.s.c_str());
  std::printf("  \"attention\": {\"dtype\": \"f32\", \"fwd_ms\": %.4f, \"fwd_tflops\": %.2f, \"bwd_ms\": %.4f, "
              "\"bwd_tflops\": %.2f, \"decode_ms\": %.4f, \"decode_batch\": %lld, \"decode_cache_len\": %lld, "
              "\"decode_b256_c576_ms\": %.4f, \"decode_b256_c576_kv_gb_per_s\": %.0f},\n",
              attn_fwd_ms, attn_flops_fwd / (attn_fwd_ms * 1e9), attn_bwd_ms,
              2.5 * attn_flops_fwd / (attn_bwd_ms * 1e9), decode_ms, (long long)db, (long long)cap, decode256_ms,
              decode256_gbs);
  std::printf("  \"attention_bf16\": {\"dtype\": \"bf16\", \"fwd_ms\": %.4f, \"fwd_tflops\": %.2f, \"bwd_ms\": %.4f, "
              "\"bwd_tflops\": %.2f},\n",
              attn16_fwd_ms, attn_flops_fwd / (attn16_fwd_ms * 1e9), attn16_bwd_ms,
              2.5 * attn_flops_fwd / (attn16_bwd_ms * 1e9));
  std::printf("  \"elementwise_ms\": {\"rmsnorm_fwd\": %.4f, \"rmsnorm_bwd\": %.4f, \"rmsnorm_fwd_y16\": %.4f, "
              "\"rmsnorm_bwd_dx16\": %.4f, \"rope_qk\": %.4f, "
              "\"swiglu_fwd\": %.4f, \"swiglu_bwd\": %.4f, \"swiglu_fwd_bf16\": %.4f, \"swiglu_bwd_bf16\": %.4f, \"bias_bwd\": %.4f, \"cast_bf16_n_x_inter\": %.4f, "
              "\"embed_bwd\": %.4f, \"grad_norm_adamw_all_params\": %.4f, \"grad_norm_all_params\": %.4f},\n",
              rms_fwd, rms_bwd, rms_fwd16, rms_bwd16, rope, swi_fwd, swi_bwd, swi_fwd16, swi_bwd16, bias, cast_ms,
              embed_bwd, opt_ms, gnorm_ms);
  std::printf("  \"step_estimate\": {\n");
  std::printf("    \"note\": \"sum of measured op times for one training step (fwd + per-layer recompute + bwd, "
              "LM head GEMMs on all tokens, embedding grad, grad norm + AdamW); excludes the fused loss kernel and "
              "launch gaps; MFU = (6*N*tokens + attention) / time / peak\",\n");
  std::printf("    \"model_tflop\": %.2f, \"hardware_tflop_with_recompute\": %.2f,\n", model_flops / 1e12,
              hw_flops / 1e12);
  std::printf("    \"f32\": {\"step_ms\": %.2f, \"mfu_vs_f32_peak\": %.4f, \"hfu\": %.4f, \"tokens_per_s\": %.0f},\n",
              step_ms[0], mfu[0], hfu[0], n / (step_ms[0] * 1e-3));
  std::printf("    \"bf16\": {\"step_ms\": %.2f, \"mfu\": %.4f, \"hfu\": %.4f, \"tokens_per_s\": %.0f, "
              "\"layer_fwd_gemm_ms\": %.3f, \"layer_bwd_gemm_ms\": %.3f, \"attention_share\": %.3f}\n",
              step_ms[1], mfu[1], hfu[1], n / (step_ms[1] * 1e-3), layer_gemm[1][0], layer_gemm[1][1] + layer_gemm[1][2],
              L * (2 * attn16_fwd_ms + attn16_bwd_ms) / step_ms[1]);
  std::printf("  }\n}\n");
  return 0;
}
