// CPU reference engine. Design notes:
//
// Backward: explicit, llm.c-style, one hand-written backward per op (RMSNorm,
// linear, RoPE, attention, SwiGLU, embedding). The graph is a fixed stack of
// identical layers, so a tape would buy nothing but indirection, and explicit
// code lets every step choose its own loop order and reuse buffers.
//
// Activation memory: when all layers' activations fit a budget
// (set_act_budget_bytes, default kDefaultActBudgetBytes; Qwen2.5-0.5B needs ~1.9 MB per
// token over its 24 layers, so micro-batches up to ~550 tokens), the forward
// keeps them and the backward uses them directly, saving the recompute.
// Otherwise, activation checkpointing per layer. The forward keeps
// only each layer's input (the residual stream, (L+1) x N x H floats); the
// backward re-runs one layer's forward (into a single reusable set of layer
// buffers) right before that layer's backward. Storing everything would cost
// ~(4H + 2Q + 2KV + 3I) floats per token per layer (for Qwen2.5-1.5B about
// 140 KB/token/layer, ~4 MB/token over 28 layers), versus H floats per token
// per layer here, for one extra forward (~+33% FLOPs). Attention never stores
// [T, T] probabilities: the backward recomputes them per query, flash-style.
// The LM head is processed in row chunks (logits chunk -> fused policy_loss
// kernel writes dlogits in place -> dhidden and dW_lm), so no [N, V] buffer.
//
// Bitwise decode == score (same process, same CPU):
//  - GEMM: each output element has a fixed reduction order independent of M
//    and of the other rows (engine/gemm.h), so a row's q/k/v/o/MLP/logits
//    outputs depend only on that row's input;
//  - RMSNorm, RoPE, SwiGLU, residual adds are per-row with fixed loop orders;
//    RoPE cos/sin are a pure function of the position id, which is the count
//    of real tokens before the slot in both paths;
//  - attention for one query (attend_one) is the same function everywhere
//    (training, score, prefill, decode step): scores over key slots
//    j = 0..slot with mask[j] = 1 in ascending order, max, exp, normalized,
//    weighted V sum in ascending order; keys/values are bitwise the same
//    because they come from the same per-row computations;
//  - the log-prob of a token from decode logits (logprob_fwd on [B, V]) and
//    score's (logprob_fwd on a chunk of rows) use the same per-row kernel.
#include "model/model.h"
#include "model/model_errors.h"
#include "model/model_internal.h"
#include "model/param_registry.h"
#include "model/policy_loss_chunks.h"
#include "model/positions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"
#include "kernels/cpu/parallel.h"

namespace rlvr::engine {

using cpu::parallel_for;

// ---------------------------------------------------------------------------
// Parameter registry (Hugging Face names, @rlvr/model's expectedTensorShapes order)

struct Model::LayerP {
  float *ln1, *wq, *bq, *wk, *bk, *wv, *bv, *qn, *kn, *wo, *ln2, *wg, *wu, *wd;  // qn, kn: null without qk_norm
  int iwq, iwk, iwv, iwo, iwg, iwu, iwd;
};

Model::Model(Config c) : cfg_(std::move(c)) {
  ParamRegistry r = build_param_registry(cfg_);
  params_ = std::move(r.params);
  embed_idx_ = r.embed;
  norm_idx_ = r.norm;
  lm_idx_ = r.lm;
  score_w_idx_ = r.score_w;
  score_b_idx_ = r.score_b;
  layer_base_ = std::move(r.layer_base);
  data_.assign(static_cast<size_t>(r.total), 0.f);
  grad_.assign(static_cast<size_t>(r.total), 0.f);
  wt_.resize(params_.size());
  wt_fresh_.assign(params_.size(), false);
}

int Model::find_param(const std::string& name) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return static_cast<int>(i);
  return -1;
}

Model::LayerP Model::layer(int l, bool grads) {
  float* base = grads ? grad_.data() : data_.data();
  const int b = layer_base_[l];
  const bool bias = cfg_.qkv_bias;
  auto at = [&](int i) { return base + params_[b + i].offset; };
  LayerP p{};
  p.ln1 = at(0);
  p.iwq = b + 1; p.iwk = b + 2; p.iwv = b + 3;
  p.wq = at(1); p.wk = at(2); p.wv = at(3);
  int k = 4;
  if (bias) {
    p.bq = at(4); p.bk = at(5); p.bv = at(6);
    k = 7;
  } else {
    p.bq = p.bk = p.bv = nullptr;
  }
  p.qn = p.kn = nullptr;
  if (cfg_.qk_norm) {
    p.qn = at(k); p.kn = at(k + 1);
    k += 2;
  }
  p.iwo = b + k; p.wo = at(k);
  p.ln2 = at(k + 1);
  p.iwg = b + k + 2; p.wg = at(k + 2);
  p.iwu = b + k + 3; p.wu = at(k + 3);
  p.iwd = b + k + 4; p.wd = at(k + 4);
  return p;
}

const float* Model::wt(int idx) {
  std::vector<float>& t = wt_[idx];
  if (!wt_fresh_[idx] || t.empty()) {
    const ParamInfo& p = params_[idx];
    const int64_t rows = p.shape[0], cols = p.shape[1];
    t.resize(static_cast<size_t>(packed_panel_floats(rows, cols)));
    pack_weight_panels(param(idx), rows, cols, t.data());
    wt_fresh_[idx] = true;
  }
  return t.data();
}

// ---------------------------------------------------------------------------
// Per-row building blocks: the CPU backend's ops (ops/cpu/cpu_ops.h), so OpsModel on that
// backend runs the very same code.

namespace {

void rmsnorm_fwd(const float* x, const float* w, float* y, float* inv, int64_t n, int64_t h, float eps) {
  cpuops::rmsnorm_fwd({x, w, y, inv, n, h, eps});
}
void rmsnorm_bwd(const float* x, const float* w, const float* inv, const float* dy, float* dx, float* dw, int64_t n,
                 int64_t h, bool accumulate) {
  cpuops::rmsnorm_bwd({x, w, inv, dy, dx, dw, n, h, accumulate});
}

}  // namespace

namespace {
// Floats of one layer's Acts per row.
double acts_floats_per_row(const Config& c) {
  const double H = c.hidden, Q = c.heads * c.head_dim, KV = c.kv_heads * c.head_dim, I = c.inter;
  const double qk = c.qk_norm ? Q + KV + c.heads + c.kv_heads : 0;  // pre-norm q, k and their inv
  return 3 * H + 2 * Q + 2 * KV + 3 * I + 2 + qk;
}
}  // namespace

void Model::rope_tables(int64_t n, const int32_t* pos, std::vector<float>& cs) {
  const int64_t hd = cfg_.head_dim, half = hd / 2;
  cs.resize(static_cast<size_t>(n * hd));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t i = 0; i < half; ++i) {
      // as HF: angle = float(pos) * inv_freq in fp32, then cos / sin
      const float ang = static_cast<float>(pos[r]) * cfg_.inv_freq[i];
      cs[r * hd + i] = static_cast<float>(std::cos(static_cast<double>(ang)));
      cs[r * hd + half + i] = static_cast<float>(std::sin(static_cast<double>(ang)));
    }
  }
}

void Model::final_norm(const float* x, float* xf, int64_t n) {
  rmsnorm_fwd(x, param(norm_idx_), xf, nullptr, n, cfg_.hidden, cfg_.rms_eps);
}

void Model::embed(const int32_t* ids, int64_t n, float* x) {
  const int64_t h = cfg_.hidden;
  const float* e = param(embed_idx_);
  for (int64_t r = 0; r < n; ++r) std::memcpy(x + r * h, e + static_cast<int64_t>(ids[r]) * h, sizeof(float) * h);
}

// x_out = layer(x_in). When cache_k is set, the new K/V rows are first written
// to the cache at cache_rows[r] (row index into [b * cap]) and attention reads
// them from there (src points at the cache).
void Model::layer_forward(int l, const float* x_in, float* x_out, Acts& a, int64_t n, const std::vector<float>& cs,
                          const AttnSrc& src, float* cache_k, float* cache_v, const int64_t* cache_rows) {
  const LayerP p = layer(l, false);
  const int64_t H = cfg_.hidden, hd = cfg_.head_dim, NH = cfg_.heads, NKV = cfg_.kv_heads, Q = NH * hd,
                KV = NKV * hd, I = cfg_.inter;
  rmsnorm_fwd(x_in, p.ln1, a.xn1.data(), a.inv1.data(), n, H, cfg_.rms_eps);
  // Qwen3: the projections go to qp / kp, then each head is RMS-normed into q / k
  float* qo = cfg_.qk_norm ? a.qp.data() : a.q.data();
  float* ko = cfg_.qk_norm ? a.kp.data() : a.k.data();
  linear_fwd(n, Q, H, a.xn1.data(), wt(p.iwq), p.bq, qo);
  linear_fwd(n, KV, H, a.xn1.data(), wt(p.iwk), p.bk, ko);
  linear_fwd(n, KV, H, a.xn1.data(), wt(p.iwv), p.bv, a.v.data());
  if (cfg_.qk_norm) {
    rmsnorm_fwd(qo, p.qn, a.q.data(), a.qinv.data(), n * NH, hd, cfg_.rms_eps);
    rmsnorm_fwd(ko, p.kn, a.k.data(), a.kinv.data(), n * NKV, hd, cfg_.rms_eps);
  }
  cpuops::rope_apply(a.q.data(), n, NH, hd, cs.data(), false);
  cpuops::rope_apply(a.k.data(), n, NKV, hd, cs.data(), false);
  if (cache_k) {
    for (int64_t r = 0; r < n; ++r) {
      std::memcpy(cache_k + cache_rows[r] * KV, a.k.data() + r * KV, sizeof(float) * KV);
      std::memcpy(cache_v + cache_rows[r] * KV, a.v.data() + r * KV, sizeof(float) * KV);
    }
  }
  AttnSrc s = src;
  if (!cache_k) { s.k = a.k.data(); s.v = a.v.data(); }
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t group = NH / NKV;
  const int64_t max_slot = s.slot0 + s.q_per_seq;
  parallel_for(n * NH, 4, [&](int64_t i0, int64_t i1, int) {
    std::vector<float> pbuf(static_cast<size_t>(max_slot));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t r = i / NH, hh = i % NH;
      const int64_t b = s.row_seq ? s.row_seq[r] : r / s.q_per_seq;
      const int64_t slot = s.row_slot ? s.row_slot[r] : s.slot0 + r % s.q_per_seq;
      const int64_t kvh = hh / group, f = s.first ? s.first[r] : 0;  // keys of other packed sequences are skipped
      cpuops::attend_one(a.q.data() + r * Q + hh * hd, s.k + (b * s.seq_stride + f) * KV + kvh * hd,
                         s.v + (b * s.seq_stride + f) * KV + kvh * hd, KV, s.mask + b * s.mask_stride + f, slot - f,
                         hd, scale, pbuf.data(), a.att.data() + r * Q + hh * hd, nullptr);
    }
  });
  // x2 = x_in + att @ Wo^T
  std::memcpy(a.x2.data(), x_in, sizeof(float) * n * H);
  linear_fwd(n, H, Q, a.att.data(), wt(p.iwo), nullptr, a.x2.data(), true);
  rmsnorm_fwd(a.x2.data(), p.ln2, a.xn2.data(), a.inv2.data(), n, H, cfg_.rms_eps);
  linear_fwd(n, I, H, a.xn2.data(), wt(p.iwg), nullptr, a.g.data());
  linear_fwd(n, I, H, a.xn2.data(), wt(p.iwu), nullptr, a.u.data());
  cpuops::swiglu_fwd(a.g.data(), a.u.data(), a.h.data(), n * I);
  std::memcpy(x_out, a.x2.data(), sizeof(float) * n * H);
  linear_fwd(n, H, I, a.h.data(), wt(p.iwd), nullptr, x_out, true);
}

// Given dres = dL/d(x_out), accumulates parameter gradients and replaces dres
// by dL/d(x_in). `a` must hold this layer's forward activations.
void Model::layer_backward(int l, const float* x_in, Acts& a, float* dres, int64_t n, const std::vector<float>& cs,
                           const AttnSrc& src, int64_t bsz, int64_t tlen) {
  const LayerP p = layer(l, false), gp = layer(l, true);
  const int64_t H = cfg_.hidden, hd = cfg_.head_dim, NH = cfg_.heads, NKV = cfg_.kv_heads, Q = NH * hd,
                KV = NKV * hd, I = cfg_.inter;
  // ---- MLP: x_out = x2 + h @ Wd^T, h = silu(g) * u
  std::vector<float> dh(static_cast<size_t>(n * I)), du(static_cast<size_t>(n * I));
  linear_bwd_input(n, H, I, dres, p.wd, dh.data(), false);
  linear_bwd_weight(n, H, I, dres, a.h.data(), gp.wd);
  cpuops::swiglu_bwd(a.g.data(), a.u.data(), dh.data(), dh.data(), du.data(), n * I);  // dh now holds dg
  std::vector<float> dxn(static_cast<size_t>(n * H));
  linear_bwd_input(n, I, H, dh.data(), p.wg, dxn.data(), false);
  linear_bwd_input(n, I, H, du.data(), p.wu, dxn.data(), true);
  linear_bwd_weight(n, I, H, dh.data(), a.xn2.data(), gp.wg);
  linear_bwd_weight(n, I, H, du.data(), a.xn2.data(), gp.wu);
  dh = {};
  du = {};
  // dx2 = dres + rmsnorm_bwd(dxn)  (dres now holds dx2)
  rmsnorm_bwd(a.x2.data(), p.ln2, a.inv2.data(), dxn.data(), dres, gp.ln2, n, H, true);
  // ---- attention: x2 = x_in + att @ Wo^T
  std::vector<float> datt(static_cast<size_t>(n * Q));
  linear_bwd_input(n, H, Q, dres, p.wo, datt.data(), false);
  linear_bwd_weight(n, H, Q, dres, a.att.data(), gp.wo);
  std::vector<float> dq(static_cast<size_t>(n * Q), 0.f), dk(static_cast<size_t>(n * KV), 0.f),
      dv(static_cast<size_t>(n * KV), 0.f);
  std::vector<int32_t> first32;  // the op's segment starts are int32
  if (src.first) first32.assign(src.first, src.first + n);
  ops::AttnBwdArgs ab;
  ab.b = bsz; ab.t = tlen; ab.heads = NH; ab.kv_heads = NKV; ab.head_dim = hd;
  ab.q = a.q.data(); ab.k = a.k.data(); ab.v = a.v.data(); ab.mask = src.mask; ab.dout = datt.data();
  ab.dq = dq.data(); ab.dk = dk.data(); ab.dv = dv.data(); ab.first = src.first ? first32.data() : nullptr;
  cpuops::attention_bwd(ab);
  datt = {};
  cpuops::rope_apply(dq.data(), n, NH, hd, cs.data(), true);
  cpuops::rope_apply(dk.data(), n, NKV, hd, cs.data(), true);
  if (cfg_.qk_norm) {  // dq, dk: of the normed heads; back through the per-head RMSNorm to qp, kp
    std::vector<float> dqn = std::move(dq), dkn = std::move(dk);
    dq.assign(static_cast<size_t>(n * Q), 0.f);
    dk.assign(static_cast<size_t>(n * KV), 0.f);
    rmsnorm_bwd(a.qp.data(), p.qn, a.qinv.data(), dqn.data(), dq.data(), gp.qn, n * NH, hd, false);
    rmsnorm_bwd(a.kp.data(), p.kn, a.kinv.data(), dkn.data(), dk.data(), gp.kn, n * NKV, hd, false);
  }
  linear_bwd_input(n, Q, H, dq.data(), p.wq, dxn.data(), false);
  linear_bwd_input(n, KV, H, dk.data(), p.wk, dxn.data(), true);
  linear_bwd_input(n, KV, H, dv.data(), p.wv, dxn.data(), true);
  linear_bwd_weight(n, Q, H, dq.data(), a.xn1.data(), gp.wq);
  linear_bwd_weight(n, KV, H, dk.data(), a.xn1.data(), gp.wk);
  linear_bwd_weight(n, KV, H, dv.data(), a.xn1.data(), gp.wv);
  if (cfg_.qkv_bias) {
    cpuops::bias_bwd(dq.data(), gp.bq, n, Q);
    cpuops::bias_bwd(dk.data(), gp.bk, n, KV);
    cpuops::bias_bwd(dv.data(), gp.bv, n, KV);
  }
  rmsnorm_bwd(x_in, p.ln1, a.inv1.data(), dxn.data(), dres, gp.ln1, n, H, true);
}

namespace {
// Rows per LM-head chunk: ~32M logits (128 MB), at least 8 rows. Each chunk
// streams the whole LM-head weight (and its gradient) through memory a few
// times, so fewer, larger chunks pay (Qwen2.5's 152K vocab: 220 rows).
int64_t lm_chunk_rows(int64_t v) { return std::max<int64_t>(8, (int64_t{1} << 25) / std::max<int64_t>(1, v)); }

}  // namespace

Status Model::require_lm_head() const { return cfg_.value_head ? no_lm_head() : Status::Ok(); }

int64_t Model::lm_chunk() const {
  return lm_chunk_override_ > 0 ? lm_chunk_override_ : lm_chunk_rows(cfg_.vocab);
}

void Model::body_forward(const Batch& x, std::vector<float>& xf) {
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  std::vector<int32_t> pos = positions(x);
  std::vector<float> cs;
  rope_tables(n, pos.data(), cs);
  std::vector<float> xa(static_cast<size_t>(n * H)), xb(static_cast<size_t>(n * H));
  embed(x.ids, n, xa.data());
  Acts a;
  a.resize(n, cfg_);
  AttnSrc src;
  src.seq_stride = x.t; src.mask = x.mask; src.mask_stride = x.t; src.q_per_seq = x.t; src.slot0 = 0;
  std::vector<int64_t> first = segment_starts(x);
  src.first = x.seg ? first.data() : nullptr;
  for (int l = 0; l < cfg_.layers; ++l) {
    layer_forward(l, xa.data(), xb.data(), a, n, cs, src, nullptr, nullptr, nullptr);
    std::swap(xa, xb);
  }
  xf.resize(static_cast<size_t>(n * H));
  rmsnorm_fwd(xa.data(), param(norm_idx_), xf.data(), nullptr, n, H, cfg_.rms_eps);
}

Status Model::lm_head_logprob(const float* xf, const std::vector<int64_t>& rows, const int32_t* targets,
                              float temperature, float* logp, float* entropy, const int64_t* row_names) {
  const int64_t H = cfg_.hidden, V = cfg_.vocab, chunk = lm_chunk();
  std::vector<float> xc, logits, lp, en, lse;
  std::vector<int32_t> tg;
  for (size_t c0 = 0; c0 < rows.size(); c0 += static_cast<size_t>(chunk)) {
    const int64_t R = std::min<int64_t>(chunk, static_cast<int64_t>(rows.size() - c0));
    xc.resize(R * H); logits.resize(R * V); lp.resize(R); en.resize(R); lse.resize(R); tg.resize(R);
    for (int64_t i = 0; i < R; ++i) {
      std::memcpy(xc.data() + i * H, xf + rows[c0 + i] * H, sizeof(float) * H);
      tg[i] = targets[rows[c0 + i]];
    }
    linear_fwd(R, V, H, xc.data(), wt(lm_idx_), nullptr, logits.data());
    kernels::LogprobFwdArgs a;
    a.logits = logits.data(); a.logits_dtype = DType::F32; a.n = R; a.v = V; a.targets = tg.data();
    a.temperature = temperature; a.logp = lp.data(); a.entropy = en.data(); a.lse = lse.data();
    int64_t bad = -1;
    a.bad_row = &bad;
    Status s = kernels::logprob_fwd_cpu(a);
    if (!s.ok()) return s;
    if (bad >= 0) return bad_logits(row_names ? row_names[rows[c0 + bad]] : rows[c0 + bad]);
    for (int64_t i = 0; i < R; ++i) {
      logp[rows[c0 + i]] = lp[i];
      entropy[rows[c0 + i]] = en[i];
    }
  }
  return Status::Ok();
}

Status Model::score(const Batch& x, const int32_t* targets, const float* row_mask, float temperature, float* logp,
                    float* entropy) {
  if (cfg_.value_head) return no_lm_head();
  const int64_t n = x.b * x.t;
  std::vector<float> xf;
  body_forward(x, xf);
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < n; ++r) {
    logp[r] = 0.f;
    entropy[r] = 0.f;
    if ((row_mask ? row_mask[r] : x.mask[r]) != 0.f) rows.push_back(r);
  }
  return lm_head_logprob(xf.data(), rows, targets, temperature, logp, entropy);
}

Status Model::logits(const Batch& x, float* out) {
  if (cfg_.value_head) return no_lm_head();
  const int64_t n = x.b * x.t;
  std::vector<float> xf;
  body_forward(x, xf);
  linear_fwd(n, cfg_.vocab, cfg_.hidden, xf.data(), wt(lm_idx_), nullptr, out);
  return Status::Ok();
}

Status Model::train_body(const Batch& x, const HeadFn& head) {
  const int64_t n = x.b * x.t, H = cfg_.hidden, L = cfg_.layers;
  std::vector<int32_t> pos = positions(x);
  std::vector<float> cs;
  rope_tables(n, pos.data(), cs);
  // Checkpoints: the input of every layer plus the final residual.
  std::vector<std::vector<float>> xs(static_cast<size_t>(L + 1), std::vector<float>(static_cast<size_t>(n * H)));
  embed(x.ids, n, xs[0].data());
  Acts a;
  AttnSrc src;
  src.seq_stride = x.t; src.mask = x.mask; src.mask_stride = x.t; src.q_per_seq = x.t; src.slot0 = 0;
  std::vector<int64_t> first = segment_starts(x);
  src.first = x.seg ? first.data() : nullptr;
  // Keep every layer's activations when they fit the budget (no recompute in
  // the backward); else keep only the checkpoints and recompute per layer.
  // Both give bitwise the same gradients (the recompute is the same code).
  const bool keep = static_cast<double>(L) * static_cast<double>(n) * acts_floats_per_row(cfg_) * sizeof(float) <=
                    (act_budget_ >= 0 ? act_budget_ : kDefaultActBudgetBytes);
  last_keep_ = keep;
  std::vector<Acts> kept(keep ? static_cast<size_t>(L) : 0);
  if (!keep) a.resize(n, cfg_);
  for (int l = 0; l < L; ++l) {
    Acts& al = keep ? kept[l] : a;
    if (keep) al.resize(n, cfg_);
    layer_forward(l, xs[l].data(), xs[l + 1].data(), al, n, cs, src, nullptr, nullptr, nullptr);
  }
  std::vector<float> xf(static_cast<size_t>(n * H)), invf(static_cast<size_t>(n));
  rmsnorm_fwd(xs[L].data(), param(norm_idx_), xf.data(), invf.data(), n, H, cfg_.rms_eps);

  // ---- the head: its loss, its parameters' gradients and d loss / d xf
  std::vector<float> dxf(static_cast<size_t>(n * H), 0.f);
  Status hs = head(xf.data(), dxf.data());
  if (!hs.ok()) return hs;
  xf = {};

  // ---- final norm, then the layers in reverse with per-layer recompute
  std::vector<float> dres(static_cast<size_t>(n * H), 0.f);
  rmsnorm_bwd(xs[L].data(), param(norm_idx_), invf.data(), dxf.data(), dres.data(),
              grad_.data() + params_[norm_idx_].offset, n, H, false);
  dxf = {};
  std::vector<float> scratch(static_cast<size_t>(n * H));
  for (int64_t l = L - 1; l >= 0; --l) {
    if (keep) {
      layer_backward(static_cast<int>(l), xs[l].data(), kept[l], dres.data(), n, cs, src, x.b, x.t);
      kept[l] = Acts{};
      continue;
    }
    layer_forward(static_cast<int>(l), xs[l].data(), scratch.data(), a, n, cs, src, nullptr, nullptr, nullptr);
    layer_backward(static_cast<int>(l), xs[l].data(), a, dres.data(), n, cs, src, x.b, x.t);
  }
  // ---- embedding: scatter-add, parallel over hidden columns (no races)
  float* dE = grad_.data() + params_[embed_idx_].offset;
  cpuops::embed_bwd(x.ids, dres.data(), n, H, dE);
  return Status::Ok();
}

Status Model::forward_backward(const Batch& x, const int32_t* targets, const float* old_logp, const float* ref_logp,
                               const float* advantages, const float* weights, const LossOptions& o, float* logp_out,
                               float* entropy_out, kernels::PolicyLossStats* stats_out) {
  if (cfg_.value_head) return no_lm_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden, V = cfg_.vocab;
  // ---- LM head + fused policy loss, in row chunks over rows with weight != 0
  return train_body(x, [&](const float* xf, float* dxf) -> Status {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < n; ++r) {
      if (logp_out) logp_out[r] = 0.f;
      if (entropy_out) entropy_out[r] = 0.f;
      if (weights[r] != 0.f) rows.push_back(r);
    }
    const int64_t chunk = lm_chunk();
    std::vector<float> xc, logits, lp, en, ol, rl, ad, w, dxc;
    std::vector<int32_t> tg;
    PolicyLossTotal total;
    float* dW_lm = grad_.data() + params_[lm_idx_].offset;
    for (size_t c0 = 0; c0 < rows.size(); c0 += static_cast<size_t>(chunk)) {
      const int64_t R = std::min<int64_t>(chunk, static_cast<int64_t>(rows.size() - c0));
      xc.resize(R * H); logits.resize(R * V); lp.resize(R); en.resize(R); tg.resize(R); w.resize(R);
      ol.assign(R, 0.f); rl.assign(R, 0.f); ad.assign(R, 0.f); dxc.resize(R * H);
      for (int64_t i = 0; i < R; ++i) {
        const int64_t r = rows[c0 + i];
        std::memcpy(xc.data() + i * H, xf + r * H, sizeof(float) * H);
        tg[i] = targets[r];
        w[i] = weights[r];
        if (old_logp) ol[i] = old_logp[r];
        if (ref_logp) rl[i] = ref_logp[r];
        if (advantages) ad[i] = advantages[r];
      }
      linear_fwd(R, V, H, xc.data(), wt(lm_idx_), nullptr, logits.data());
      kernels::PolicyLossArgs pa = policy_loss_args(o);
      pa.logits = logits.data(); pa.logits_dtype = DType::F32; pa.n = R; pa.v = V; pa.targets = tg.data();
      pa.old_logp = ol.data(); pa.ref_logp = rl.data(); pa.advantages = ad.data(); pa.weights = w.data();
      pa.logp = lp.data(); pa.entropy = en.data(); pa.dlogits = logits.data();  // in place
      kernels::PolicyLossStats st;
      int64_t bad = -1;
      pa.stats = &st;
      pa.bad_row = &bad;
      Status s = kernels::policy_loss_cpu(pa);
      if (!s.ok()) return s;
      if (bad >= 0) {
        zero_grad();  // partial gradients of this call are meaningless
        return bad_logits(rows[c0 + bad]);
      }
      total.add(st);
      // dhidden = dlogits @ W_lm ; dW_lm += dlogits^T @ hidden
      linear_bwd_input(R, V, H, logits.data(), lm_weight(), dxc.data(), false);
      linear_bwd_weight(R, V, H, logits.data(), xc.data(), dW_lm);
      for (int64_t i = 0; i < R; ++i) {
        const int64_t r = rows[c0 + i];
        std::memcpy(dxf + r * H, dxc.data() + i * H, sizeof(float) * H);
        if (logp_out) logp_out[r] = lp[i];
        if (entropy_out) entropy_out[r] = en[i];
      }
    }
    if (stats_out) *stats_out = total.result();
    return Status::Ok();
  });
}

void Model::zero_grad() { std::fill(grad_.begin(), grad_.end(), 0.f); }

double Model::grad_norm() const {
  double norm = 0;
  cpuops::grad_norm(grad_.data(), static_cast<int64_t>(grad_.size()), &norm);
  return norm;
}

// AdamW exactly as torch.optim.AdamW (foreach=False): p *= 1 - lr*wd;
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
// Clipping as torch.nn.utils.clip_grad_norm_: g *= min(1, max_norm / (norm + 1e-6)).
// A non-finite global norm skips the update (verl's behaviour) but still zeroes the gradients.
void Model::get_adam(int i, float* m, float* v) const {
  const ParamInfo& p = params_[i];
  if (adam_m_.empty()) {
    std::fill(m, m + p.numel, 0.f);
    std::fill(v, v + p.numel, 0.f);
    return;
  }
  std::copy(adam_m_.begin() + p.offset, adam_m_.begin() + p.offset + p.numel, m);
  std::copy(adam_v_.begin() + p.offset, adam_v_.begin() + p.offset + p.numel, v);
}

void Model::set_adam(int64_t step, int i, const float* m, const float* v) {
  if (adam_m_.empty()) {
    adam_m_.assign(data_.size(), 0.f);
    adam_v_.assign(data_.size(), 0.f);
  }
  const ParamInfo& p = params_[i];
  std::copy(m, m + p.numel, adam_m_.begin() + p.offset);
  std::copy(v, v + p.numel, adam_v_.begin() + p.offset);
  adam_step_ = step;
}

StepResult Model::optimizer_step(const AdamWOptions& o) {
  StepResult res;
  res.grad_norm = grad_norm();
  if (!std::isfinite(res.grad_norm)) {
    res.skipped = true;
    res.step = adam_step_;
    zero_grad();
    return res;
  }
  if (adam_m_.empty()) {
    adam_m_.assign(data_.size(), 0.f);
    adam_v_.assign(data_.size(), 0.f);
  }
  ++adam_step_;
  float clip = 1.0f;
  if (o.max_grad_norm > 0) clip = static_cast<float>(std::min(1.0, o.max_grad_norm / (res.grad_norm + 1e-6)));
  ops::AdamWArgs a;
  a.param = data_.data(); a.grad = grad_.data(); a.m = adam_m_.data(); a.v = adam_v_.data();
  a.count = static_cast<int64_t>(data_.size());
  a.lr = o.lr; a.beta1 = o.beta1; a.beta2 = o.beta2; a.eps = o.eps; a.weight_decay = o.weight_decay;
  a.clip = clip; a.step = adam_step_;
  cpuops::adamw(a);
  params_changed();
  res.step = adam_step_;
  return res;
}

// ---------------------------------------------------------------------------
// KV-cache decoding

void Model::reset_cache() {
  cache_k_.clear(); cache_v_.clear(); cache_mask_.clear(); cache_count_.clear();
  cache_b_ = cache_cap_ = cache_len_ = 0;
}

// Identical prompt rows (GRPO samples n responses per prompt; 1-shot RLVR repeats one prompt
// over the whole batch) are computed once: every row's K/V and logits are a function of its own
// tokens only (per-row GEMMs and attention, see the notes at the top), so the first row of each
// group runs the layers and the others get copies of its cache slots and logits, bit for bit
// what computing them gives.
Status Model::prefill(const Batch& x, int64_t capacity, float* out) {
  reset_cache();
  if (cfg_.value_head) return no_lm_head();
  const int64_t H = cfg_.hidden, KV = cfg_.kv_heads * cfg_.head_dim, V = cfg_.vocab;
  cache_b_ = x.b; cache_cap_ = capacity; cache_len_ = x.t;
  cache_k_.assign(cfg_.layers, std::vector<float>(static_cast<size_t>(x.b * capacity * KV), 0.f));
  cache_v_.assign(cfg_.layers, std::vector<float>(static_cast<size_t>(x.b * capacity * KV), 0.f));
  cache_mask_.assign(static_cast<size_t>(x.b * capacity), 0.f);
  cache_count_.assign(static_cast<size_t>(x.b), 0);
  std::vector<int64_t> last(static_cast<size_t>(x.b), -1);
  for (int64_t b = 0; b < x.b; ++b)
    for (int64_t t = 0; t < x.t; ++t) {
      cache_mask_[b * capacity + t] = x.mask[b * x.t + t];
      if (x.mask[b * x.t + t] != 0.f) { ++cache_count_[b]; last[b] = t; }
    }
  for (int64_t b = 0; b < x.b; ++b)
    if (last[b] < 0) {
      reset_cache();
      return Status::Error(Code::Value, "attentionMask", "row " + std::to_string(b) + " has no real token to decode from");
    }
  const DistinctRows d = distinct_rows(x);  // engine/positions.h
  const std::vector<int64_t>& uniq = d.first;
  const int64_t u = static_cast<int64_t>(uniq.size()), n = u * x.t;
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::vector<float> mask(static_cast<size_t>(n));
  std::vector<int64_t> crow(static_cast<size_t>(n)), qseq(static_cast<size_t>(n)), qslot(static_cast<size_t>(n));
  for (int64_t k = 0; k < u; ++k)
    for (int64_t t = 0; t < x.t; ++t) {
      const int64_t r = k * x.t + t, b = uniq[k];
      ids[r] = x.ids[b * x.t + t];
      mask[r] = x.mask[b * x.t + t];
      crow[r] = b * capacity + t;
      qseq[r] = b;
      qslot[r] = t;
    }
  Batch xu;
  xu.b = u; xu.t = x.t; xu.ids = ids.data(); xu.mask = mask.data();
  std::vector<int32_t> pos = positions(xu);
  std::vector<float> cs;
  rope_tables(n, pos.data(), cs);
  std::vector<float> xa(static_cast<size_t>(n * H)), xb(static_cast<size_t>(n * H));
  embed(ids.data(), n, xa.data());
  Acts a;
  a.resize(n, cfg_);
  AttnSrc src;
  src.seq_stride = capacity; src.mask = cache_mask_.data(); src.mask_stride = capacity; src.q_per_seq = x.t;
  src.slot0 = 0; src.row_seq = qseq.data(); src.row_slot = qslot.data();
  for (int l = 0; l < cfg_.layers; ++l) {
    src.k = cache_k_[l].data(); src.v = cache_v_[l].data();
    layer_forward(l, xa.data(), xb.data(), a, n, cs, src, cache_k_[l].data(), cache_v_[l].data(), crow.data());
    std::swap(xa, xb);
  }
  for (int64_t b = 0; b < x.b; ++b) {  // the copies' cache slots
    const int64_t rep = uniq[d.of_row[b]];
    if (rep != b)
      for (int l = 0; l < cfg_.layers; ++l) {
        std::memcpy(cache_k_[l].data() + b * capacity * KV, cache_k_[l].data() + rep * capacity * KV, sizeof(float) * x.t * KV);
        std::memcpy(cache_v_[l].data() + b * capacity * KV, cache_v_[l].data() + rep * capacity * KV, sizeof(float) * x.t * KV);
      }
  }
  std::vector<float> xl(static_cast<size_t>(u * H)), xf(static_cast<size_t>(u * H)), lg(static_cast<size_t>(u * V));
  for (int64_t k = 0; k < u; ++k) std::memcpy(xl.data() + k * H, xa.data() + (k * x.t + last[uniq[k]]) * H, sizeof(float) * H);
  rmsnorm_fwd(xl.data(), param(norm_idx_), xf.data(), nullptr, u, H, cfg_.rms_eps);
  linear_fwd(u, V, H, xf.data(), wt(lm_idx_), nullptr, lg.data());
  for (int64_t b = 0; b < x.b; ++b) std::memcpy(out + b * V, lg.data() + d.of_row[b] * V, sizeof(float) * V);
  return Status::Ok();
}

Status Model::step(const int32_t* tokens, float* out) {
  if (cache_b_ == 0) return Status::Error(Code::Value, "decode", "no active decode: call prefill first");
  if (cache_len_ >= cache_cap_)
    return Status::Error(Code::Range, "decode",
                         "the KV cache is full (" + std::to_string(cache_cap_) + " slots): prefill with a larger capacity");
  const int64_t n = cache_b_, H = cfg_.hidden, V = cfg_.vocab, slot = cache_len_;
  std::vector<int32_t> pos(static_cast<size_t>(n));
  std::vector<int64_t> crow(static_cast<size_t>(n));
  for (int64_t b = 0; b < n; ++b) {
    pos[b] = cache_count_[b];
    crow[b] = b * cache_cap_ + slot;
    cache_mask_[b * cache_cap_ + slot] = 1.f;
  }
  std::vector<float> cs;
  rope_tables(n, pos.data(), cs);
  std::vector<float> xa(static_cast<size_t>(n * H)), xb(static_cast<size_t>(n * H));
  embed(tokens, n, xa.data());
  Acts a;
  a.resize(n, cfg_);
  AttnSrc src;
  src.seq_stride = cache_cap_; src.mask = cache_mask_.data(); src.mask_stride = cache_cap_; src.q_per_seq = 1;
  src.slot0 = slot;
  for (int l = 0; l < cfg_.layers; ++l) {
    src.k = cache_k_[l].data(); src.v = cache_v_[l].data();
    layer_forward(l, xa.data(), xb.data(), a, n, cs, src, cache_k_[l].data(), cache_v_[l].data(), crow.data());
    std::swap(xa, xb);
  }
  for (int64_t b = 0; b < n; ++b) ++cache_count_[b];
  ++cache_len_;
  std::vector<float> xf(static_cast<size_t>(n * H));
  rmsnorm_fwd(xa.data(), param(norm_idx_), xf.data(), nullptr, n, H, cfg_.rms_eps);
  linear_fwd(n, V, H, xf.data(), wt(lm_idx_), nullptr, out);
  return Status::Ok();
}

}  // namespace rlvr::engine
