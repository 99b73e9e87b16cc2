// OpsModel (ops_model.h): the decoder's layer graph written once over a Backend.
// Host code only: every array operation is a Backend op, so this file is the
// same for every backend:
//  - forward keeps every layer input (the residual stream); all of a layer's
//    activations are kept too when L layers fit the activation budget, else the
//    backward re-runs one layer's forward right before its backward;
//  - attention saves lse in the forward so the backward recomputes the
//    probabilities instead of storing [T, T];
//  - the LM head runs in row chunks over the rows that matter (weight != 0 for
//    training, row_mask for score): rows are gathered with embed_fwd, logits
//    -> fused policy_loss (dlogits in place) -> dhidden, dW_lm; dhidden rows
//    are scattered back with embed_bwd (rows are distinct, so it is a copy);
//    no [N, V] buffer;
//  - workspaces are kept between calls and grown on demand (device allocation
//    is slow and may synchronize).
#include "model/ops_model.h"
#include "model/ops_model_internal.h"
#include "model/model_errors.h"
#include "model/param_registry.h"
#include "model/policy_loss_chunks.h"
#include "model/positions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rlvr::engine {

// ---------------------------------------------------------------------------
// Parameters (param_registry.h: Hugging Face names and order)

OpsModel::OpsModel(const Backend& be, Config c, bool bf16) : be_(be), cfg_(std::move(c)), bf16_(bf16) {
  ParamRegistry r = build_param_registry(cfg_);
  params_ = std::move(r.params);
  embed_idx_ = r.embed;
  norm_idx_ = r.norm;
  lm_idx_ = r.lm;
  score_w_idx_ = r.score_w;
  score_b_idx_ = r.score_b;
  layer_base_ = std::move(r.layer_base);
  const int64_t off = r.total;
  nparams_ = off;
  ws_.resize(kNumSlots);
  prep_.resize(params_.size());
  prep_fresh_.assign(params_.size(), 0);
  // Gradient ranges: the layers' weight matrices (one weight-gradient GEMM each per training
  // pass) and the rest; adjacent parameters of a kind merged into one range.
  std::vector<char> is_matrix(params_.size(), 0);
  for (int l = 0; l < cfg_.layers; ++l) {
    const LayerW w = layer(l);
    for (int i : {w.wq, w.wk, w.wv, w.wo, w.wg, w.wu, w.wd}) is_matrix[static_cast<size_t>(i)] = 1;
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& out = is_matrix[i] ? matrix_ranges_ : other_ranges_;
    const int64_t o = params_[i].offset, c = params_[i].numel;
    if (!out.empty() && out.back().first + out.back().second == o)
      out.back().second += c;
    else
      out.push_back({o, c});
  }
}

OpsModel::~OpsModel() = default;

Status OpsModel::create(const Backend& be, Config c, bool bf16_gemm, std::unique_ptr<OpsModel>* out) {
  RLVR_TRY(validate_config(c));
  std::unique_ptr<OpsModel> m(new OpsModel(be, std::move(c), bf16_gemm));
  RLVR_TRY(m->data_.reserve(be, m->nparams_ * 4));
  RLVR_TRY(be.zero(m->data_.get(), m->nparams_ * 4));
  RLVR_TRY(m->inv_freq_.reserve(be, static_cast<int64_t>(m->cfg_.inv_freq.size()) * 4));
  RLVR_TRY(be.upload(m->inv_freq_.get(), m->cfg_.inv_freq.data(), static_cast<int64_t>(m->cfg_.inv_freq.size()) * 4));
  *out = std::move(m);
  return Status::Ok();
}

int OpsModel::find_param(const std::string& name) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return static_cast<int>(i);
  return -1;
}

Status OpsModel::set_parameters(const float* host) {
  params_changed();
  return be_.upload(data_.get(), host, nparams_ * 4);
}

Status OpsModel::get_parameters(float* host) const { return be_.download(host, data_.get(), nparams_ * 4); }

Status OpsModel::get_gradients(float* host) const {
  if (!grads_ready_) {
    std::fill(host, host + nparams_, 0.f);
    return Status::Ok();
  }
  RLVR_TRY(be_.download(host, grad_.get(), nparams_ * 4));
  if (grads_stale_)  // the matrices' gradients are zero, not yet written so
    for (const auto& r : matrix_ranges_) std::fill(host + r.first, host + r.first + r.second, 0.f);
  return Status::Ok();
}

Status OpsModel::set_param(int i, const float* host) {
  const ParamInfo& p = params_[i];
  params_changed();
  return be_.upload(static_cast<float*>(data_.get()) + p.offset, host, p.numel * 4);
}

Status OpsModel::get_param(int i, float* host) const {
  const ParamInfo& p = params_[i];
  return be_.download(host, static_cast<const float*>(data_.get()) + p.offset, p.numel * 4);
}

Status OpsModel::get_grad(int i, float* host) const {
  const ParamInfo& p = params_[i];
  if (!grads_ready_ || (grads_stale_ && in_ranges(matrix_ranges_, p.offset))) {
    std::fill(host, host + p.numel, 0.f);
    return Status::Ok();
  }
  return be_.download(host, static_cast<const float*>(grad_.get()) + p.offset, p.numel * 4);
}

bool OpsModel::in_ranges(const std::vector<std::pair<int64_t, int64_t>>& rs, int64_t offset) {
  for (const auto& r : rs)
    if (offset >= r.first && offset < r.first + r.second) return true;
  return false;
}

Status OpsModel::zero_ranges(const std::vector<std::pair<int64_t, int64_t>>& rs) {
  for (const auto& r : rs) RLVR_TRY(be_.zero(static_cast<float*>(grad_.get()) + r.first, r.second * 4));
  return Status::Ok();
}

// Writes the zeros the stale matrix gradients stand for (before anything reads or adds to them
// other than a training pass's backward).
Status OpsModel::settle_grads() {
  if (!grads_stale_) return Status::Ok();
  RLVR_TRY(zero_ranges(matrix_ranges_));
  grads_stale_ = false;
  return Status::Ok();
}

// AdamW moments are allocated (zeroed) by the first step or set_adam.
Status OpsModel::ensure_adam() {
  if (adam_m_.get()) return Status::Ok();
  RLVR_TRY(adam_m_.reserve(be_, nparams_ * 4));
  RLVR_TRY(adam_v_.reserve(be_, nparams_ * 4));
  RLVR_TRY(be_.zero(adam_m_.get(), nparams_ * 4));
  return be_.zero(adam_v_.get(), nparams_ * 4);
}

Status OpsModel::get_adam(int i, float* m, float* v) const {
  const ParamInfo& p = params_[i];
  if (!adam_m_.get()) {
    std::fill(m, m + p.numel, 0.f);
    std::fill(v, v + p.numel, 0.f);
    return Status::Ok();
  }
  RLVR_TRY(be_.download(m, static_cast<const float*>(adam_m_.get()) + p.offset, p.numel * 4));
  return be_.download(v, static_cast<const float*>(adam_v_.get()) + p.offset, p.numel * 4);
}

Status OpsModel::set_adam(int64_t step, int i, const float* m, const float* v) {
  const ParamInfo& p = params_[i];
  RLVR_TRY(ensure_adam());
  RLVR_TRY(be_.upload(static_cast<float*>(adam_m_.get()) + p.offset, m, p.numel * 4));
  RLVR_TRY(be_.upload(static_cast<float*>(adam_v_.get()) + p.offset, v, p.numel * 4));
  adam_step_ = step;
  return Status::Ok();
}

// Gradients are allocated on first use (a decode-only model never needs them).
Status OpsModel::ensure_grads() {
  if (grads_ready_) return Status::Ok();
  RLVR_TRY(grad_.reserve(be_, nparams_ * 4));
  RLVR_TRY(be_.zero(grad_.get(), nparams_ * 4));
  grads_ready_ = true;
  return Status::Ok();
}

Status OpsModel::zero_grad() {
  grads_stale_ = false;
  return grads_ready_ ? be_.zero(grad_.get(), nparams_ * 4) : Status::Ok();
}

// The bf16 copy of all parameters (one cast of the flat buffer; norms and
// biases are cast too but never read), refreshed lazily after any change.
Status OpsModel::ensure_bf16() {
  if (!bf16_ || bf16_fresh_) return Status::Ok();
  RLVR_TRY(wbf16_.reserve(be_, nparams_ * 2));
  RLVR_TRY(be_.cast_bf16(static_cast<const float*>(data_.get()), wbf16_.get(), nparams_));
  bf16_fresh_ = true;
  return Status::Ok();
}

const void* OpsModel::W(int idx) const {
  if (bf16_) return static_cast<const uint16_t*>(wbf16_.get()) + params_[idx].offset;
  return static_cast<const float*>(data_.get()) + params_[idx].offset;
}

Status OpsModel::linear_fwd(int64_t M, int64_t N, int64_t K, const void* x, int idx, const float* bias, float* y,
                            bool accumulate, bool bf16_out) {
  ops::GemmArgs g = ops::linear_fwd(M, N, K, x, W(idx), bias, y, accumulate, gdt());
  if (bf16_out) g = act_out(g);
  if (!bf16_ && be_.prepare_b) {
    BackendBuf& b = prep_[static_cast<size_t>(idx)];
    if (!prep_fresh_[static_cast<size_t>(idx)] || !b.get()) {
      RLVR_TRY(b.reserve(be_, be_.prepared_b_bytes(N, K)));
      RLVR_TRY(be_.prepare_b(static_cast<const float*>(W(idx)), N, K, b.get()));
      prep_fresh_[static_cast<size_t>(idx)] = 1;
    }
    g.bp = b.get();
  }
  return be_.gemm(g);
}

Status OpsModel::gin(const float* x, int64_t count, int slot, const void** out) {
  if (!bf16_) {
    *out = x;
    return Status::Ok();
  }
  uint16_t* y;
  RLVR_TRY(ws(slot, count, &y));
  RLVR_TRY(be_.cast_bf16(x, y, count));
  *out = y;
  return Status::Ok();
}

OpsModel::LayerW OpsModel::layer(int l) const {
  const int b = layer_base_[l];
  LayerW w{};
  w.ln1 = b; w.wq = b + 1; w.wk = b + 2; w.wv = b + 3;
  int k = 4;
  if (cfg_.qkv_bias) {
    w.bq = b + 4; w.bk = b + 5; w.bv = b + 6;
    k = 7;
  } else {
    w.bq = w.bk = w.bv = -1;
  }
  w.qn = w.kn = -1;
  if (cfg_.qk_norm) {
    w.qn = b + k; w.kn = b + k + 1;
    k += 2;
  }
  w.wo = b + k; w.ln2 = b + k + 1; w.wg = b + k + 2; w.wu = b + k + 3; w.wd = b + k + 4;
  return w;
}

int64_t OpsModel::lm_chunk() const {
  return lm_chunk_override_ > 0 ? lm_chunk_override_
                                : std::max<int64_t>(8, be_.lm_chunk_floats / std::max<int64_t>(1, cfg_.vocab));
}

void OpsModel::release_scratch() {
  for (auto& b : ws_) b.reset();
  acts_.clear();
  dec_logits_.reset();
}

// ---------------------------------------------------------------------------
// One layer

Status OpsModel::layer_forward(int l, const float* x_in, float* x_out, Acts& a, int64_t n, const float* cs,
                               const AttnSrc& src, const int64_t* cache_rows) {
  const LayerW w = layer(l);
  const float* P = static_cast<const float*>(data_.get());
  auto p = [&](int i) { return i < 0 ? nullptr : P + params_[i].offset; };
  const int64_t H = cfg_.hidden, hd = cfg_.head_dim, NH = cfg_.heads, NKV = cfg_.kv_heads, Q = NH * hd,
                KV = NKV * hd, I = cfg_.inter;
  RLVR_TRY(norm_fwd(x_in, p(w.ln1), a.xn1, a.inv1, n));  // xn1: the GEMM input form (Acts)
  // Qwen3: the projections go to qp / kp, then each head is RMS-normed (over head_dim) into q / k
  float* qo = cfg_.qk_norm ? a.qp : a.q;
  float* ko = cfg_.qk_norm ? a.kp : a.k;
  RLVR_TRY(linear_fwd(n, Q, H, a.xn1, w.wq, p(w.bq), qo));
  RLVR_TRY(linear_fwd(n, KV, H, a.xn1, w.wk, p(w.bk), ko));
  RLVR_TRY(linear_fwd(n, KV, H, a.xn1, w.wv, p(w.bv), a.v));
  if (cfg_.qk_norm) {
    RLVR_TRY(be_.rmsnorm_fwd({qo, p(w.qn), a.q, a.qinv, n * NH, hd, cfg_.rms_eps}));
    RLVR_TRY(be_.rmsnorm_fwd({ko, p(w.kn), a.k, a.kinv, n * NKV, hd, cfg_.rms_eps}));
  }
  // bf16 mode, training / scoring layout: the tensor-core attention's bf16 operands, made once
  // here for its forward and backward (q, k rounded by RoPE as it writes them)
  const bool copies = bf16_ && !src.k;
  if (copies) {
    RLVR_TRY(be_.rope_apply_bf16(a.q, n, NH, hd, cs, false, a.q16));
    RLVR_TRY(be_.rope_apply_bf16(a.k, n, NKV, hd, cs, false, a.k16));
    RLVR_TRY(be_.cast_bf16(a.v, a.v16, n * KV));
  } else {
    RLVR_TRY(be_.rope_apply(a.q, n, NH, hd, cs, false));
    RLVR_TRY(be_.rope_apply(a.k, n, NKV, hd, cs, false));
  }
  ops::AttnFwdArgs at;
  at.b = src.b; at.tq = src.tq; at.slot0 = src.slot0;
  at.heads = NH; at.kv_heads = NKV; at.head_dim = hd;
  at.q = a.q; at.k = a.k; at.v = a.v;
  if (src.k) {
    RLVR_TRY(be_.kv_append(a.k, a.v, n, KV, cache_rows, src.k, src.v));
    at.k = src.k; at.v = src.v;
  }
  at.seq_stride = src.seq_stride; at.mask = src.mask; at.mask_stride = src.mask_stride;
  at.out = a.att; at.lse = a.lse; at.first = src.first;
  at.bf16 = bf16_;  // bf16 mode: tensor-core attention (ops.h), as the GEMMs
  if (copies) {
    at.q16 = a.q16; at.k16 = a.k16; at.v16 = a.v16;
  }
  RLVR_TRY(be_.attention_fwd(at));
  // x2 = x_in + att @ Wo^T
  RLVR_TRY(be_.copy(a.x2, x_in, n * H * 4));
  if (bf16_) RLVR_TRY(be_.cast_bf16(a.att, a.attb, n * Q));  // kept for the backward's Wo GEMM
  const void* atti = bf16_ ? a.attb : a.att;
  RLVR_TRY(linear_fwd(n, H, Q, atti, w.wo, nullptr, a.x2, true));
  RLVR_TRY(norm_fwd(a.x2, p(w.ln2), a.xn2, a.inv2, n));
  // bf16 mode: g, u written in bf16 by the GEMMs, h by SwiGLU (Acts)
  RLVR_TRY(linear_fwd(n, I, H, a.xn2, w.wg, nullptr, a.g, false, true));
  RLVR_TRY(linear_fwd(n, I, H, a.xn2, w.wu, nullptr, a.u, false, true));
  RLVR_TRY(bf16_ ? be_.swiglu_fwd_bf16(a.g, a.u, a.h, n * I) : be_.swiglu_fwd(a.g, a.u, a.h, n * I));
  // x_out = x2 + h @ Wd^T
  RLVR_TRY(be_.copy(x_out, a.x2, n * H * 4));
  return linear_fwd(n, H, I, a.h, w.wd, nullptr, x_out, true);
}

// Given dres = dL/d(x_out), accumulates the layer's parameter gradients and
// replaces dres by dL/d(x_in). `a` holds this layer's forward activations.
// The order of products and accumulations is fixed, so results are bitwise reproducible.
Status OpsModel::layer_backward(int l, const float* x_in, Acts& a, float* dres, int64_t n, int64_t bsz, int64_t tlen,
                                const float* cs, const float* mask, const int32_t* first) {
  const LayerW w = layer(l);
  const float* P = static_cast<const float*>(data_.get());
  float* G = static_cast<float*>(grad_.get());
  auto p = [&](int i) { return P + params_[i].offset; };
  auto g = [&](int i) { return G + params_[i].offset; };
  const int64_t H = cfg_.hidden, hd = cfg_.head_dim, NH = cfg_.heads, NKV = cfg_.kv_heads, Q = NH * hd,
                KV = NKV * hd, I = cfg_.inter;
  const DType dt = gdt();
  float *dh, *du, *dxn, *datt, *dq, *dk, *dv;
  RLVR_TRY(ws(kDh, n * I, &dh));
  RLVR_TRY(ws(kDu, n * I, &du));
  RLVR_TRY(ws(kDxn, n * H, &dxn));
  RLVR_TRY(ws(kDatt, n * Q, &datt));
  RLVR_TRY(ws(kDq, n * Q, &dq));
  RLVR_TRY(ws(kDk, n * KV, &dk));
  RLVR_TRY(ws(kDv, n * KV, &dv));
  const void *dy, *xi, *di;
  // weight gradients: written, not added, while the matrices' gradients are stale (optimizer_step)
  auto wgrad = [&](ops::GemmArgs w) {
    w.accumulate = !grads_stale_;
    return w;
  };
  // In bf16 mode dres's bf16 copy is in kDres16, written by the RMSNorm backward that made dres.
  const void* dres_in = dres;
  if (bf16_) {
    uint16_t* d16;
    RLVR_TRY(ws(kDres16, n * H, &d16));
    dres_in = d16;
  }
  // ---- MLP: x_out = x2 + h @ Wd^T, h = silu(g) * u
  dy = dres_in;
  RLVR_TRY(be_.gemm(act_out(ops::linear_bwd_input(n, H, I, dy, W(w.wd), dh, false, dt))));  // bf16 mode: bf16 dh
  RLVR_TRY(be_.gemm(wgrad(ops::linear_bwd_weight(n, H, I, dy, a.h, g(w.wd), dt))));  // (a.h: as the GEMMs take it)
  if (bf16_) {  // dg, du only feed GEMMs: written as their bf16 copies
    uint16_t *dgb, *dub;
    RLVR_TRY(ws(kCastA, n * I, &dgb));
    RLVR_TRY(ws(kCastB, n * I, &dub));
    RLVR_TRY(be_.swiglu_bwd_bf16(a.g, a.u, dh, dgb, dub, n * I));
    dy = dgb;
    di = dub;
  } else {
    RLVR_TRY(be_.swiglu_bwd(a.g, a.u, dh, dh, du, n * I));  // dh now holds dg
    dy = dh;
    di = du;
  }
  xi = a.xn2;
  RLVR_TRY(be_.gemm(ops::linear_bwd_input(n, I, H, dy, W(w.wg), dxn, false, dt)));
  RLVR_TRY(be_.gemm(ops::linear_bwd_input(n, I, H, di, W(w.wu), dxn, true, dt)));
  RLVR_TRY(be_.gemm(wgrad(ops::linear_bwd_weight(n, I, H, dy, xi, g(w.wg), dt))));
  RLVR_TRY(be_.gemm(wgrad(ops::linear_bwd_weight(n, I, H, di, xi, g(w.wu), dt))));
  // dx2 = dres + rmsnorm_bwd(dxn)  (dres now holds dx2)
  RLVR_TRY(norm_bwd(a.x2, p(w.ln2), a.inv2, dxn, dres, g(w.ln2), n));
  // ---- attention: x2 = x_in + att @ Wo^T
  dy = dres_in;
  xi = bf16_ ? a.attb : a.att;
  RLVR_TRY(be_.gemm(ops::linear_bwd_input(n, H, Q, dy, W(w.wo), datt, false, dt)));
  RLVR_TRY(be_.gemm(wgrad(ops::linear_bwd_weight(n, H, Q, dy, xi, g(w.wo), dt))));
  ops::AttnBwdArgs ab;
  ab.b = bsz; ab.t = tlen; ab.heads = NH; ab.kv_heads = NKV; ab.head_dim = hd;
  ab.q = a.q; ab.k = a.k; ab.v = a.v; ab.mask = mask; ab.out = a.att; ab.lse = a.lse; ab.dout = datt;
  ab.dq = dq; ab.dk = dk; ab.dv = dv; ab.first = first; ab.bf16 = bf16_;
  if (bf16_) {
    ab.q16 = a.q16; ab.k16 = a.k16; ab.v16 = a.v16;
  }
  RLVR_TRY(be_.attention_bwd(ab));
  // dq, dk, dv: fp32 for the bias gradients; in bf16 mode also their bf16 copies for the GEMMs
  // (dq, dk rounded by the inverse RoPE as it writes them)
  float *dqp = dq, *dkp = dk;  // d of the projections' outputs (qk_norm: before the per-head norm)
  const void* d16[3] = {dq, dk, dv};
  if (cfg_.qk_norm) {
    // dq, dk: of the normed heads; the inverse RoPE in fp32, then back through the per-head
    // RMSNorm into dqp / dkp (and, in bf16 mode, their bf16 copies for the GEMMs)
    RLVR_TRY(ws(kDqn, n * Q, &dqp));
    RLVR_TRY(ws(kDkn, n * KV, &dkp));
    RLVR_TRY(be_.rope_apply(dq, n, NH, hd, cs, true));
    RLVR_TRY(be_.rope_apply(dk, n, NKV, hd, cs, true));
    ops::RmsNormBwdArgs rq{a.qp, p(w.qn), a.qinv, dq, dqp, g(w.qn), n * NH, hd, false};
    ops::RmsNormBwdArgs rk{a.kp, p(w.kn), a.kinv, dk, dkp, g(w.kn), n * NKV, hd, false};
    if (bf16_) {
      uint16_t *q16, *k16, *v16;
      RLVR_TRY(ws(kCastA, n * Q, &q16));
      RLVR_TRY(ws(kCastB, n * KV, &k16));
      RLVR_TRY(ws(kCastC, n * KV, &v16));
      rq.dx16 = q16;
      rk.dx16 = k16;
      RLVR_TRY(be_.cast_bf16(dv, v16, n * KV));
      d16[0] = q16; d16[1] = k16; d16[2] = v16;
    }
    RLVR_TRY(be_.rmsnorm_bwd(rq));
    RLVR_TRY(be_.rmsnorm_bwd(rk));
    if (!bf16_) {
      d16[0] = dqp; d16[1] = dkp;
    }
  } else if (bf16_) {
    uint16_t *q16, *k16, *v16;
    RLVR_TRY(ws(kCastA, n * Q, &q16));
    RLVR_TRY(ws(kCastB, n * KV, &k16));
    RLVR_TRY(ws(kCastC, n * KV, &v16));
    RLVR_TRY(be_.rope_apply_bf16(dq, n, NH, hd, cs, true, q16));
    RLVR_TRY(be_.rope_apply_bf16(dk, n, NKV, hd, cs, true, k16));
    RLVR_TRY(be_.cast_bf16(dv, v16, n * KV));
    d16[0] = q16; d16[1] = k16; d16[2] = v16;
  } else {
    RLVR_TRY(be_.rope_apply(dq, n, NH, hd, cs, true));
    RLVR_TRY(be_.rope_apply(dk, n, NKV, hd, cs, true));
  }
  xi = a.xn1;
  const struct { const float* d; int64_t dim; int wi, bi; } proj[3] = {{dqp, Q, w.wq, w.bq}, {dkp, KV, w.wk, w.bk},
                                                                       {dv, KV, w.wv, w.bv}};
  for (int i = 0; i < 3; ++i) {
    dy = d16[i];
    RLVR_TRY(be_.gemm(ops::linear_bwd_input(n, proj[i].dim, H, dy, W(proj[i].wi), dxn, i > 0, dt)));
    RLVR_TRY(be_.gemm(wgrad(ops::linear_bwd_weight(n, proj[i].dim, H, dy, xi, g(proj[i].wi), dt))));
    if (proj[i].bi >= 0) RLVR_TRY(be_.bias_bwd(proj[i].d, g(proj[i].bi), n, proj[i].dim));
  }
  return norm_bwd(x_in, p(w.ln1), a.inv1, dxn, dres, g(w.ln1), n);
}

// A GEMM whose fp32 output buffer holds, in bf16 mode, the bf16 result instead (Acts).
ops::GemmArgs OpsModel::act_out(const ops::GemmArgs& g) const { return bf16_ ? ops::bf16_out(g, g.c) : g; }

// RMSNorm forward of a layer: y is written in the form the GEMMs take (bf16
// mode: bf16 only, into y's storage; see Acts).
Status OpsModel::norm_fwd(const float* x, const float* w, float* y, float* inv, int64_t n) {
  ops::RmsNormFwdArgs r{x, w, y, inv, n, cfg_.hidden, cfg_.rms_eps};
  if (bf16_) {
    r.y16 = y;
    r.y = nullptr;
  }
  return be_.rmsnorm_fwd(r);
}

// RMSNorm backward accumulating into the residual gradient dres; in bf16 mode it
// also leaves dres's bf16 copy in kDres16 for the GEMMs that read it next.
Status OpsModel::norm_bwd(const float* x, const float* w, const float* inv, const float* dy, float* dres, float* dw,
                          int64_t n, bool accumulate) {
  ops::RmsNormBwdArgs r{x, w, inv, dy, dres, dw, n, cfg_.hidden, accumulate};
  if (bf16_) {
    uint16_t* d16;
    RLVR_TRY(ws(kDres16, n * cfg_.hidden, &d16));
    r.dx16 = d16;
  }
  return be_.rmsnorm_bwd(r);
}

// ---------------------------------------------------------------------------
// Whole-batch passes

// ids, mask, HF position ids (ops positions) and the RoPE table of a batch, in backend memory.
// Packed sequences (x.seg; only where `first` is given: not for prefill / decode): positions
// restart at each segment and *first gets each token's segment start slot, both computed on the
// host (model/positions.h); *first is null for an unpacked batch.
Status OpsModel::upload_batch(const Batch& x, int32_t** ids, float** mask, float** cs, const int32_t** first) {
  if (x.seg && !first)
    return Status::Error(Code::Value, "segmentIds", "packed sequences are for score and training, not for decoding");
  const int64_t n = x.b * x.t;
  int32_t* pos;
  RLVR_TRY(ws(kIds, n, ids));
  RLVR_TRY(ws(kMask, n, mask));
  RLVR_TRY(ws(kPos, n, &pos));
  RLVR_TRY(ws(kCs, n * cfg_.head_dim, cs));
  RLVR_TRY(be_.upload(*ids, x.ids, n * 4));
  RLVR_TRY(be_.upload(*mask, x.mask, n * 4));
  if (first) *first = nullptr;
  if (x.seg) {
    const std::vector<int32_t> hpos = positions(x);
    const std::vector<int64_t> f64 = segment_starts(x);
    const std::vector<int32_t> hfirst(f64.begin(), f64.end());
    int32_t* first_d;
    RLVR_TRY(ws(kFirst, n, &first_d));
    RLVR_TRY(be_.upload(pos, hpos.data(), n * 4));
    RLVR_TRY(be_.upload(first_d, hfirst.data(), n * 4));
    *first = first_d;
  } else {
    RLVR_TRY(be_.positions(*mask, x.b, x.t, pos));
  }
  return be_.rope_table(pos, n, static_cast<const float*>(inv_freq_.get()), cfg_.head_dim, *cs);
}

Status OpsModel::scratch_acts(int64_t rows, Acts** out) {
  if (acts_.empty()) acts_.emplace_back(new Acts);
  *out = acts_[0].get();
  return (*out)->ensure(be_, rows, cfg_, bf16_);
}

Status OpsModel::body_forward(const Batch& x, const float** xf_out) {
  const int64_t n = x.b * x.t, H = cfg_.hidden;
  RLVR_TRY(ensure_bf16());
  int32_t* ids;
  float *mask, *cs, *xa, *xb, *xf;
  const int32_t* first;
  RLVR_TRY(upload_batch(x, &ids, &mask, &cs, &first));
  RLVR_TRY(ws(kXa, n * H, &xa));
  RLVR_TRY(ws(kXb, n * H, &xb));
  RLVR_TRY(ws(kXf, n * H, &xf));
  Acts* ap;
  RLVR_TRY(scratch_acts(n, &ap));
  Acts& a = *ap;
  const float* P = static_cast<const float*>(data_.get());
  RLVR_TRY(be_.embed_fwd(P + params_[embed_idx_].offset, ids, n, H, xa));
  AttnSrc src;
  src.b = x.b; src.tq = x.t; src.seq_stride = x.t; src.mask = mask; src.mask_stride = x.t; src.first = first;
  for (int l = 0; l < cfg_.layers; ++l) {
    RLVR_TRY(layer_forward(l, xa, xb, a, n, cs, src, nullptr));
    std::swap(xa, xb);
  }
  RLVR_TRY(be_.rmsnorm_fwd({xa, P + params_[norm_idx_].offset, xf, nullptr, n, H, cfg_.rms_eps}));
  *xf_out = xf;
  return Status::Ok();
}

Status OpsModel::lm_logprob(const float* xf, const std::vector<int64_t>& rows, const int32_t* targets,
                            float temperature, float* logp, float* entropy) {
  const int64_t H = cfg_.hidden, V = cfg_.vocab, N = static_cast<int64_t>(rows.size());
  if (N == 0) return Status::Ok();
  const int64_t chunk = std::min(lm_chunk(), N);
  std::vector<int32_t> r32(rows.begin(), rows.end()), tg(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) tg[i] = targets[rows[i]];
  int32_t *rows_d, *tg_d;
  float *xc, *logits, *lp, *en, *lse;
  RLVR_TRY(ws(kRows, N, &rows_d));
  RLVR_TRY(ws(kTg, N, &tg_d));
  RLVR_TRY(ws(kXc, chunk * H, &xc));
  RLVR_TRY(ws(kLogits, chunk * V, &logits));
  RLVR_TRY(ws(kLp, chunk, &lp));
  RLVR_TRY(ws(kEn, chunk, &en));
  RLVR_TRY(ws(kLse, chunk, &lse));
  RLVR_TRY(be_.upload(rows_d, r32.data(), N * 4));
  RLVR_TRY(be_.upload(tg_d, tg.data(), N * 4));
  std::vector<float> hl(static_cast<size_t>(chunk)), he(static_cast<size_t>(chunk));
  for (int64_t c0 = 0; c0 < N; c0 += chunk) {
    const int64_t R = std::min(chunk, N - c0);
    RLVR_TRY(be_.embed_fwd(xf, rows_d + c0, R, H, xc));  // gather the chunk's rows
    const void* xi;
    RLVR_TRY(gin(xc, R * H, kCastA, &xi));
    RLVR_TRY(linear_fwd(R, V, H, xi, lm_idx_, nullptr, logits));
    kernels::LogprobFwdArgs a;
    a.logits = logits; a.logits_dtype = DType::F32; a.n = R; a.v = V; a.targets = tg_d + c0;
    a.temperature = temperature; a.logp = lp; a.entropy = en; a.lse = lse;
    int64_t bad = -1;
    a.bad_row = &bad;
    RLVR_TRY(be_.logprob_fwd(a));
    if (bad >= 0) return bad_logits(rows[c0 + bad]);
    RLVR_TRY(be_.download(hl.data(), lp, R * 4));
    RLVR_TRY(be_.download(he.data(), en, R * 4));
    for (int64_t i = 0; i < R; ++i) {
      logp[rows[c0 + i]] = hl[i];
      entropy[rows[c0 + i]] = he[i];
    }
  }
  return Status::Ok();
}

Status OpsModel::require_lm_head() const { return cfg_.value_head ? no_lm_head() : Status::Ok(); }

Status OpsModel::score(const Batch& x, const int32_t* targets, const float* row_mask, float temperature, float* logp,
                       float* entropy) {
  if (cfg_.value_head) return no_lm_head();
  const int64_t n = x.b * x.t;
  const float* xf;
  RLVR_TRY(body_forward(x, &xf));
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < n; ++r) {
    logp[r] = 0.f;
    entropy[r] = 0.f;
    if ((row_mask ? row_mask[r] : x.mask[r]) != 0.f) rows.push_back(r);
  }
  return lm_logprob(xf, rows, targets, temperature, logp, entropy);
}

// Every row's logits (padding rows included), in LM-head row chunks.
Status OpsModel::logits(const Batch& x, float* out) {
  if (cfg_.value_head) return no_lm_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden, V = cfg_.vocab;
  const float* xf;
  RLVR_TRY(body_forward(x, &xf));
  const int64_t chunk = std::min(lm_chunk(), n);
  float* lg;
  RLVR_TRY(ws(kLogits, chunk * V, &lg));
  for (int64_t c0 = 0; c0 < n; c0 += chunk) {
    const int64_t R = std::min(chunk, n - c0);
    const void* xi;
    RLVR_TRY(gin(xf + c0 * H, R * H, kCastA, &xi));
    RLVR_TRY(linear_fwd(R, V, H, xi, lm_idx_, nullptr, lg));
    RLVR_TRY(be_.download(out + c0 * V, lg, R * V * 4));
  }
  return Status::Ok();
}

// A training pass around a loss head (forward_backward's LM head + policy loss,
// value_forward_backward's value head).
Status OpsModel::train_body(const Batch& x, const HeadFn& head) {
  const int64_t n = x.b * x.t, H = cfg_.hidden, L = cfg_.layers;
  RLVR_TRY(ensure_grads());
  RLVR_TRY(ensure_bf16());
  const float* P = static_cast<const float*>(data_.get());
  float* G = static_cast<float*>(grad_.get());
  int32_t* ids;
  float *mask, *cs, *resid, *xf, *invf, *dxf, *dres;
  const int32_t* first;
  RLVR_TRY(upload_batch(x, &ids, &mask, &cs, &first));
  // ---- forward, keeping every layer input (and all activations within the budget)
  RLVR_TRY(ws(kResid, (L + 1) * n * H, &resid));
  RLVR_TRY(be_.embed_fwd(P + params_[embed_idx_].offset, ids, n, H, resid));
  const double budget = act_budget_ >= 0 ? act_budget_ : be_.act_budget_bytes;
  const bool keep = static_cast<double>(L) * static_cast<double>(n) * Acts::floats_per_row(cfg_, bf16_) * 4 <= budget;
  last_keep_ = keep;
  const size_t nacts = keep ? static_cast<size_t>(L) : 1;
  while (acts_.size() < nacts) acts_.emplace_back(new Acts);
  AttnSrc src;
  src.b = x.b; src.tq = x.t; src.seq_stride = x.t; src.mask = mask; src.mask_stride = x.t; src.first = first;
  for (int l = 0; l < L; ++l) {
    Acts& a = *acts_[keep ? l : 0];
    RLVR_TRY(a.ensure(be_, n, cfg_, bf16_));
    RLVR_TRY(layer_forward(l, resid + l * n * H, resid + (l + 1) * n * H, a, n, cs, src, nullptr));
  }
  RLVR_TRY(ws(kXf, n * H, &xf));
  RLVR_TRY(ws(kInvf, n, &invf));
  RLVR_TRY(be_.rmsnorm_fwd({resid + L * n * H, P + params_[norm_idx_].offset, xf, invf, n, H, cfg_.rms_eps}));

  // ---- the head: its loss, its parameters' gradients and d loss / d xf
  RLVR_TRY(ws(kDxf, n * H, &dxf));
  RLVR_TRY(be_.zero(dxf, n * H * 4));
  RLVR_TRY(head(xf, dxf));

  // ---- final norm, then the layers in reverse (recomputing when not kept), then the embedding
  RLVR_TRY(ws(kDres, n * H, &dres));
  RLVR_TRY(norm_bwd(resid + L * n * H, P + params_[norm_idx_].offset, invf, dxf, dres, G + params_[norm_idx_].offset,
                   n, false));
  float* scratch = nullptr;
  if (!keep) RLVR_TRY(ws(kRecompute, n * H, &scratch));
  for (int64_t l = L - 1; l >= 0; --l) {
    Acts& a = *acts_[keep ? l : 0];
    const float* x_in = resid + l * n * H;
    if (!keep) RLVR_TRY(layer_forward(static_cast<int>(l), x_in, scratch, a, n, cs, src, nullptr));
    RLVR_TRY(layer_backward(static_cast<int>(l), x_in, a, dres, n, x.b, x.t, cs, mask, first));
  }
  grads_stale_ = false;  // every layer matrix's gradient is written now
  return be_.embed_bwd(ids, dres, n, H, G + params_[embed_idx_].offset);
}


Status OpsModel::forward_backward(const Batch& x, const int32_t* targets, const float* old_logp,
                                  const float* ref_logp, const float* advantages, const float* weights,
                                  const LossOptions& o, float* logp_out, float* entropy_out,
                                  kernels::PolicyLossStats* stats_out) {
  if (cfg_.value_head) return no_lm_head();
  const int64_t n = x.b * x.t, H = cfg_.hidden, V = cfg_.vocab;
  // ---- LM head + fused policy loss, in row chunks over rows with weight != 0
  return train_body(x, [&](const float* xf, float* dxf) -> Status {
    float* G = static_cast<float*>(grad_.get());
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < n; ++r) {
      if (logp_out) logp_out[r] = 0.f;
      if (entropy_out) entropy_out[r] = 0.f;
      if (weights[r] != 0.f) rows.push_back(r);
    }
    const int64_t N = static_cast<int64_t>(rows.size());
    PolicyLossTotal total;
    if (N > 0) {
      const int64_t chunk = std::min(lm_chunk(), N);
      // Per-row inputs gathered on the host (absent ones as zeros), uploaded once.
      std::vector<int32_t> r32(static_cast<size_t>(N)), tg(static_cast<size_t>(N));
      std::vector<float> w(static_cast<size_t>(N)), ol(static_cast<size_t>(N), 0.f), rl(static_cast<size_t>(N), 0.f),
          ad(static_cast<size_t>(N), 0.f);
      for (int64_t i = 0; i < N; ++i) {
        const int64_t r = rows[i];
        r32[i] = static_cast<int32_t>(r); tg[i] = targets[r]; w[i] = weights[r];
        if (old_logp) ol[i] = old_logp[r];
        if (ref_logp) rl[i] = ref_logp[r];
        if (advantages) ad[i] = advantages[r];
      }
      int32_t *rows_d, *tg_d;
      float *w_d, *ol_d, *rl_d, *ad_d, *xc, *dxc, *logits, *lp, *en;
      RLVR_TRY(ws(kRows, N, &rows_d)); RLVR_TRY(ws(kTg, N, &tg_d)); RLVR_TRY(ws(kWts, N, &w_d));
      RLVR_TRY(ws(kOld, N, &ol_d)); RLVR_TRY(ws(kRef, N, &rl_d)); RLVR_TRY(ws(kAdv, N, &ad_d));
      RLVR_TRY(ws(kXc, chunk * H, &xc)); RLVR_TRY(ws(kDxc, chunk * H, &dxc)); RLVR_TRY(ws(kLogits, chunk * V, &logits));
      RLVR_TRY(ws(kLp, chunk, &lp)); RLVR_TRY(ws(kEn, chunk, &en));
      RLVR_TRY(be_.upload(rows_d, r32.data(), N * 4)); RLVR_TRY(be_.upload(tg_d, tg.data(), N * 4));
      RLVR_TRY(be_.upload(w_d, w.data(), N * 4)); RLVR_TRY(be_.upload(ol_d, ol.data(), N * 4));
      RLVR_TRY(be_.upload(rl_d, rl.data(), N * 4)); RLVR_TRY(be_.upload(ad_d, ad.data(), N * 4));
      std::vector<float> hl(static_cast<size_t>(chunk)), he(static_cast<size_t>(chunk));
      float* dW_lm = G + params_[lm_idx_].offset;
      for (int64_t c0 = 0; c0 < N; c0 += chunk) {
        const int64_t R = std::min(chunk, N - c0);
        RLVR_TRY(be_.embed_fwd(xf, rows_d + c0, R, H, xc));
        const void *xi, *dl;
        RLVR_TRY(gin(xc, R * H, kCastA, &xi));
        RLVR_TRY(linear_fwd(R, V, H, xi, lm_idx_, nullptr, logits));
        kernels::PolicyLossArgs pa = policy_loss_args(o);
        pa.logits = logits; pa.logits_dtype = DType::F32; pa.n = R; pa.v = V; pa.targets = tg_d + c0;
        pa.old_logp = ol_d + c0; pa.ref_logp = rl_d + c0; pa.advantages = ad_d + c0; pa.weights = w_d + c0;
        pa.logp = lp; pa.entropy = en; pa.dlogits = logits;  // in place
        uint16_t* dl16 = nullptr;  // bf16 mode: the gradient written straight in the bf16 the GEMMs take
        if (bf16_) {
          RLVR_TRY(ws(kCastB, R * V, &dl16));
          pa.dlogits = dl16;
          pa.dlogits_dtype = DType::BF16;
        }
        kernels::PolicyLossStats st;
        int64_t bad = -1;
        pa.stats = &st;
        pa.bad_row = &bad;
        RLVR_TRY(be_.policy_loss(pa));
        if (bad >= 0) {
          RLVR_TRY(zero_grad());  // partial gradients of this call are meaningless
          return bad_logits(rows[c0 + bad]);
        }
        total.add(st);
        // dhidden = dlogits @ W_lm ; dW_lm += dlogits^T @ hidden ; scatter dhidden into dxf
        if (dl16) dl = dl16; else RLVR_TRY(gin(logits, R * V, kCastB, &dl));
        RLVR_TRY(be_.gemm(ops::linear_bwd_input(R, V, H, dl, W(lm_idx_), dxc, false, gdt())));
        RLVR_TRY(be_.gemm(ops::linear_bwd_weight(R, V, H, dl, xi, dW_lm, gdt())));
        RLVR_TRY(be_.embed_bwd(rows_d + c0, dxc, R, H, dxf));
        if (logp_out || entropy_out) {
          RLVR_TRY(be_.download(hl.data(), lp, R * 4));
          RLVR_TRY(be_.download(he.data(), en, R * 4));
          for (int64_t i = 0; i < R; ++i) {
            if (logp_out) logp_out[rows[c0 + i]] = hl[i];
            if (entropy_out) entropy_out[rows[c0 + i]] = he[i];
          }
        }
      }
    }
    if (stats_out) *stats_out = total.result();
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------
// Optimizer (global norm, clip, AdamW, zero grads)

Status OpsModel::grad_norm(double* out) {
  *out = 0;
  if (!grads_ready_) return Status::Ok();
  RLVR_TRY(settle_grads());
  return be_.grad_norm(static_cast<const float*>(grad_.get()), nparams_, out);
}

Status OpsModel::optimizer_step(const AdamWOptions& o, StepResult* res) {
  *res = StepResult{};
  RLVR_TRY(ensure_grads());
  RLVR_TRY(grad_norm(&res->grad_norm));
  if (!std::isfinite(res->grad_norm)) {  // skip the update (verl), still zero the gradients
    res->skipped = true;
    res->step = adam_step_;
    return zero_grad();
  }
  RLVR_TRY(ensure_adam());
  ++adam_step_;
  ops::AdamWArgs a;
  a.param = static_cast<float*>(data_.get()); a.grad = static_cast<float*>(grad_.get());
  a.m = static_cast<float*>(adam_m_.get()); a.v = static_cast<float*>(adam_v_.get()); a.count = nparams_;
  a.lr = o.lr; a.beta1 = o.beta1; a.beta2 = o.beta2; a.eps = o.eps; a.weight_decay = o.weight_decay;
  a.clip = ops::clip_factor(res->grad_norm, o.max_grad_norm);
  a.step = adam_step_;
  // Gradients are zeroed after the step, but the layers' weight matrices only logically: the
  // next training pass's weight-gradient GEMMs overwrite them instead of adding to zeros
  // (grads_stale_), which saves a write of ~all the gradient memory per step.
  a.zero_grad = false;
  // bf16 mode: the GEMM weights are refreshed in the same pass (once they exist)
  const bool twin = bf16_ && wbf16_.get() != nullptr;
  if (twin) a.param16 = wbf16_.get();
  RLVR_TRY(be_.adamw(a));
  params_changed();
  bf16_fresh_ = twin;
  RLVR_TRY(zero_ranges(other_ranges_));
  grads_stale_ = true;
  res->step = adam_step_;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// KV-cache decoding (model.cpp's prefill / step)

void OpsModel::reset_cache() {
  cache_k_.reset(); cache_v_.reset(); cache_mask_dev_.reset();
  cache_mask_.clear(); cache_count_.clear();
  cache_b_ = cache_cap_ = cache_len_ = 0;
}

// Identical prompt rows are computed once (as Model::prefill): the distinct prompts run the
// layers over a cache of their own (prompt slots only); after each layer their K/V rows are
// gathered per sequence (embed_fwd) and scattered into every row's cache (kv_append), and their
// next-token logits are copied the same way.
Status OpsModel::prefill(const Batch& x, int64_t capacity, float* out) {
  reset_cache();
  if (cfg_.value_head) return no_lm_head();
  const int64_t H = cfg_.hidden, KV = cfg_.kv_heads * cfg_.head_dim, V = cfg_.vocab, L = cfg_.layers;
  if (capacity < x.t) return Status::Error(Code::Value, "capacity", "must be >= the prompt length");
  std::vector<float> cmask(static_cast<size_t>(x.b * capacity), 0.f);
  std::vector<int32_t> count(static_cast<size_t>(x.b), 0), last_t(static_cast<size_t>(x.b), -1);
  for (int64_t b = 0; b < x.b; ++b)
    for (int64_t t = 0; t < x.t; ++t) {
      cmask[b * capacity + t] = x.mask[b * x.t + t];
      if (x.mask[b * x.t + t] != 0.f) { ++count[b]; last_t[b] = static_cast<int32_t>(t); }
    }
  for (int64_t b = 0; b < x.b; ++b)
    if (last_t[b] < 0)
      return Status::Error(Code::Value, "attentionMask", "row " + std::to_string(b) + " has no real token to decode from");
  const DistinctRows d = distinct_rows(x);  // engine/positions.h
  const std::vector<int64_t>& uniq = d.first;
  const std::vector<int32_t>& slot = d.of_row;
  const int64_t u = static_cast<int64_t>(uniq.size()), n = u * x.t;
  const bool copies = u < x.b;
  RLVR_TRY(ensure_bf16());
  const int64_t cache_floats = L * x.b * capacity * KV;
  RLVR_TRY(cache_k_.reserve(be_, cache_floats * 4));
  RLVR_TRY(cache_v_.reserve(be_, cache_floats * 4));
  RLVR_TRY(cache_mask_dev_.reserve(be_, x.b * capacity * 4));
  // Zeroed: attention skips masked slots, but never let it see uninitialized memory.
  RLVR_TRY(be_.zero(cache_k_.get(), cache_floats * 4));
  RLVR_TRY(be_.zero(cache_v_.get(), cache_floats * 4));
  RLVR_TRY(be_.upload(cache_mask_dev_.get(), cmask.data(), x.b * capacity * 4));
  cache_b_ = x.b; cache_cap_ = capacity; cache_len_ = x.t;
  cache_mask_ = std::move(cmask);
  cache_count_ = std::move(count);

  // the distinct prompts as a batch; their cache: the real one when there are no copies, else
  // a prompt-sized one of their own ([u, t] slots)
  const int64_t ucap = copies ? x.t : capacity;
  std::vector<int32_t> uids(static_cast<size_t>(n)), ulast(static_cast<size_t>(u));
  std::vector<float> umask(static_cast<size_t>(n));
  std::vector<int64_t> crow(static_cast<size_t>(n));
  for (int64_t k = 0; k < u; ++k) {
    const int64_t b = uniq[k];
    std::memcpy(uids.data() + k * x.t, x.ids + b * x.t, 4 * x.t);
    std::memcpy(umask.data() + k * x.t, x.mask + b * x.t, 4 * x.t);
    for (int64_t t = 0; t < x.t; ++t) crow[k * x.t + t] = k * ucap + t;
    ulast[k] = static_cast<int32_t>(k * x.t + last_t[b]);
  }
  Batch xu;
  xu.b = u; xu.t = x.t; xu.ids = uids.data(); xu.mask = umask.data();
  int32_t *ids, *last_d, *slot_d = nullptr, *gather_d = nullptr;
  int64_t *crow_d, *dest_d = nullptr;
  float *mask, *cs, *xa, *xb, *xl, *xf, *uk = nullptr, *uv = nullptr, *sk = nullptr, *sv = nullptr, *ulg = nullptr;
  RLVR_TRY(upload_batch(xu, &ids, &mask, &cs));
  RLVR_TRY(ws(kCrow, n, &crow_d));
  RLVR_TRY(ws(kLast, u, &last_d));
  RLVR_TRY(ws(kXa, n * H, &xa));
  RLVR_TRY(ws(kXb, n * H, &xb));
  RLVR_TRY(ws(kXl, u * H, &xl));
  RLVR_TRY(ws(kXf, u * H, &xf));
  RLVR_TRY(be_.upload(crow_d, crow.data(), n * 8));
  RLVR_TRY(be_.upload(last_d, ulast.data(), u * 4));
  const int64_t nb = x.b * x.t;  // every row's prompt slots
  if (copies) {
    std::vector<int32_t> gather(static_cast<size_t>(nb));
    std::vector<int64_t> dest(static_cast<size_t>(nb));
    for (int64_t b = 0; b < x.b; ++b)
      for (int64_t t = 0; t < x.t; ++t) {
        gather[b * x.t + t] = static_cast<int32_t>(slot[b] * x.t + t);
        dest[b * x.t + t] = b * capacity + t;
      }
    RLVR_TRY(ws(kCacheK, n * KV, &uk));
    RLVR_TRY(ws(kCacheV, n * KV, &uv));
    RLVR_TRY(ws(kTmpK, nb * KV, &sk));
    RLVR_TRY(ws(kTmpV, nb * KV, &sv));
    RLVR_TRY(ws(kGather, nb, &gather_d));
    RLVR_TRY(ws(kDest, nb, &dest_d));
    RLVR_TRY(ws(kSlot, x.b, &slot_d));
    RLVR_TRY(be_.upload(gather_d, gather.data(), nb * 4));
    RLVR_TRY(be_.upload(dest_d, dest.data(), nb * 8));
    RLVR_TRY(be_.upload(slot_d, slot.data(), x.b * 4));
  }
  Acts* ap;
  RLVR_TRY(scratch_acts(n, &ap));
  Acts& a = *ap;
  const float* P = static_cast<const float*>(data_.get());
  RLVR_TRY(be_.embed_fwd(P + params_[embed_idx_].offset, ids, n, H, xa));
  AttnSrc src;
  src.b = u; src.tq = x.t; src.slot0 = 0; src.seq_stride = ucap;
  src.mask = copies ? mask : static_cast<const float*>(cache_mask_dev_.get());
  src.mask_stride = copies ? x.t : capacity;
  for (int l = 0; l < L; ++l) {
    float* ck = static_cast<float*>(cache_k_.get()) + l * x.b * capacity * KV;
    float* cv = static_cast<float*>(cache_v_.get()) + l * x.b * capacity * KV;
    src.k = copies ? uk : ck;
    src.v = copies ? uv : cv;
    RLVR_TRY(layer_forward(l, xa, xb, a, n, cs, src, crow_d));
    std::swap(xa, xb);
    if (copies) {  // every row's prompt slots <- its prompt's K/V
      RLVR_TRY(be_.embed_fwd(uk, gather_d, nb, KV, sk));
      RLVR_TRY(be_.embed_fwd(uv, gather_d, nb, KV, sv));
      RLVR_TRY(be_.kv_append(sk, sv, nb, KV, dest_d, ck, cv));
    }
  }
  // Next-token logits from each distinct prompt's last real token, then one row per sequence.
  RLVR_TRY(be_.embed_fwd(xa, last_d, u, H, xl));
  RLVR_TRY(be_.rmsnorm_fwd({xl, P + params_[norm_idx_].offset, xf, nullptr, u, H, cfg_.rms_eps}));
  RLVR_TRY(dec_logits_.reserve(be_, x.b * V * 4));
  float* logits = static_cast<float*>(dec_logits_.get());
  if (copies) RLVR_TRY(ws(kLogits, u * V, &ulg));
  const void* xi;
  RLVR_TRY(gin(xf, u * H, kCastA, &xi));
  RLVR_TRY(linear_fwd(u, V, H, xi, lm_idx_, nullptr, copies ? ulg : logits));
  if (copies) RLVR_TRY(be_.embed_fwd(ulg, slot_d, x.b, V, logits));
  return out ? be_.download(out, logits, x.b * V * 4) : Status::Ok();
}

Status OpsModel::step(const int32_t* tokens, float* out) {
  if (cache_b_ == 0) return Status::Error(Code::Value, "decode", "no active decode: call prefill first");
  if (cache_len_ >= cache_cap_)
    return Status::Error(Code::Range, "decode",
                         "the KV cache is full (" + std::to_string(cache_cap_) + " slots): prefill with a larger capacity");
  const int64_t n = cache_b_, H = cfg_.hidden, V = cfg_.vocab, KV = cfg_.kv_heads * cfg_.head_dim, slot = cache_len_;
  RLVR_TRY(ensure_bf16());
  std::vector<int32_t> pos(static_cast<size_t>(n));
  std::vector<int64_t> crow(static_cast<size_t>(n));
  for (int64_t b = 0; b < n; ++b) {
    pos[b] = cache_count_[b];
    crow[b] = b * cache_cap_ + slot;
    cache_mask_[b * cache_cap_ + slot] = 1.f;
  }
  int32_t *ids, *pos_d;
  int64_t* crow_d;
  float *cs, *xa, *xb, *xf;
  RLVR_TRY(ws(kIds, n, &ids));
  RLVR_TRY(ws(kPos, n, &pos_d));
  RLVR_TRY(ws(kCs, n * cfg_.head_dim, &cs));
  RLVR_TRY(ws(kCrow, n, &crow_d));
  RLVR_TRY(ws(kXa, n * H, &xa));
  RLVR_TRY(ws(kXb, n * H, &xb));
  RLVR_TRY(ws(kXf, n * H, &xf));
  RLVR_TRY(be_.upload(ids, tokens, n * 4));
  RLVR_TRY(be_.upload(pos_d, pos.data(), n * 4));
  RLVR_TRY(be_.upload(crow_d, crow.data(), n * 8));
  RLVR_TRY(be_.upload(cache_mask_dev_.get(), cache_mask_.data(), n * cache_cap_ * 4));
  RLVR_TRY(be_.rope_table(pos_d, n, static_cast<const float*>(inv_freq_.get()), cfg_.head_dim, cs));
  Acts* ap;
  RLVR_TRY(scratch_acts(n, &ap));
  Acts& a = *ap;
  const float* P = static_cast<const float*>(data_.get());
  RLVR_TRY(be_.embed_fwd(P + params_[embed_idx_].offset, ids, n, H, xa));
  AttnSrc src;
  src.b = n; src.tq = 1; src.slot0 = slot; src.seq_stride = cache_cap_;
  src.mask = static_cast<const float*>(cache_mask_dev_.get()); src.mask_stride = cache_cap_;
  for (int l = 0; l < cfg_.layers; ++l) {
    src.k = static_cast<float*>(cache_k_.get()) + l * n * cache_cap_ * KV;
    src.v = static_cast<float*>(cache_v_.get()) + l * n * cache_cap_ * KV;
    RLVR_TRY(layer_forward(l, xa, xb, a, n, cs, src, crow_d));
    std::swap(xa, xb);
  }
  for (int64_t b = 0; b < n; ++b) ++cache_count_[b];
  ++cache_len_;
  RLVR_TRY(be_.rmsnorm_fwd({xa, P + params_[norm_idx_].offset, xf, nullptr, n, H, cfg_.rms_eps}));
  RLVR_TRY(dec_logits_.reserve(be_, n * V * 4));
  const void* xi;
  RLVR_TRY(gin(xf, n * H, kCastA, &xi));
  RLVR_TRY(linear_fwd(n, V, H, xi, lm_idx_, nullptr, static_cast<float*>(dec_logits_.get())));
  return out ? be_.download(out, dec_logits_.get(), n * V * 4) : Status::Ok();
}

}  // namespace rlvr::engine
