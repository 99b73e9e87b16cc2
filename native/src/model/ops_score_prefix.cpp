// OpsModel::score_prefixed (ops_model.h), the math of native/src/model/score_prefix.cpp from
// the existing ops, so the CUDA backend needs no new kernel:
//  1. the prefixes [g, P] run through every layer once, each layer appending its K/V rows to a
//     per-layer prefix buffer (kv_append at identity rows; the attention reads them there, as
//     prefill does with its cache);
//  2. per layer, each continuation row's cache [cap = P + E slots] gets its prefix's K/V in
//     slots [0, P) (embed_fwd gathers the prefix rows, kv_append scatters them), then the
//     continuation rows [r, E] run that layer as a chunked prefill: slot0 = P, tq = E, their
//     own K/V appended at slots [P, P + E);
//  3. final norm and the LM head's log-prob / entropy (lm_logprob), as score().
// Positions continue the prefix's count of real tokens, as score() on the concatenation.
#include <string>
#include <vector>

#include "model/ops_model.h"
#include "model/ops_model_internal.h"
#include "model/positions.h"

namespace rlvr::engine {


Status OpsModel::score_prefixed(const Batch& prefix, const Batch& ext, const int32_t* group, const int32_t* targets,
                                const float* row_mask, float temperature, float* logp, float* entropy) {
  RLVR_TRY(require_lm_head());
  const int64_t G = prefix.b, P = prefix.t, R = ext.b, E = ext.t, H = cfg_.hidden, L = cfg_.layers;
  const int64_t KV = cfg_.kv_heads * cfg_.head_dim, cap = P + E, np = G * P, ne = R * E;
  ContinuationLayout lay;  // the continuations' positions and masks (engine/positions.h)
  RLVR_TRY(continuation_layout(prefix, ext, group, &lay));
  RLVR_TRY(ensure_bf16());
  const float* Pm = static_cast<const float*>(data_.get());
  Acts* ap;
  RLVR_TRY(scratch_acts(np > ne ? np : ne, &ap));
  Acts& a = *ap;
  float *xa, *xb, *pk, *pv;
  RLVR_TRY(ws(kXa, (np > ne ? np : ne) * H, &xa));
  RLVR_TRY(ws(kXb, (np > ne ? np : ne) * H, &xb));
  RLVR_TRY(ws(kPrefixK, L * np * KV, &pk));
  RLVR_TRY(ws(kPrefixV, L * np * KV, &pv));

  // ---- 1. the prefixes, once each, keeping every layer's K/V
  {
    int32_t* ids;
    float *mask, *cs;
    int64_t* rows_d;
    RLVR_TRY(upload_batch(prefix, &ids, &mask, &cs));
    std::vector<int64_t> rows(static_cast<size_t>(np));
    for (int64_t r = 0; r < np; ++r) rows[r] = r;
    RLVR_TRY(ws(kCrow, np, &rows_d));
    RLVR_TRY(be_.upload(rows_d, rows.data(), np * 8));
    RLVR_TRY(be_.embed_fwd(Pm + params_[embed_idx_].offset, ids, np, H, xa));
    AttnSrc src;
    src.b = G; src.tq = P; src.slot0 = 0; src.seq_stride = P; src.mask = mask; src.mask_stride = P;
    for (int l = 0; l < L; ++l) {
      src.k = pk + l * np * KV;
      src.v = pv + l * np * KV;
      RLVR_TRY(layer_forward(l, xa, xb, a, np, cs, src, rows_d));
      std::swap(xa, xb);
    }
  }

  // ---- 2. the continuations: cache rows and the prefix gather (positions and masks: lay)
  std::vector<int32_t> gather(static_cast<size_t>(R * P));
  std::vector<int64_t> crow(static_cast<size_t>(ne)), dest(static_cast<size_t>(R * P));
  for (int64_t i = 0; i < R; ++i) {
    for (int64_t t = 0; t < P; ++t) {
      gather[i * P + t] = static_cast<int32_t>(group[i] * P + t);
      dest[i * P + t] = i * cap + t;
    }
    for (int64_t t = 0; t < E; ++t) crow[i * E + t] = i * cap + P + t;
  }
  int32_t *ids, *pos_d, *gather_d;
  int64_t *crow_d, *dest_d;
  float *cs, *cmask_d, *ck, *cv, *tk, *tv, *xf;
  RLVR_TRY(ws(kIds, ne, &ids));
  RLVR_TRY(ws(kPos, ne, &pos_d));
  RLVR_TRY(ws(kCs, ne * cfg_.head_dim, &cs));
  RLVR_TRY(ws(kCrow, ne, &crow_d));
  RLVR_TRY(ws(kGather, R * P, &gather_d));
  RLVR_TRY(ws(kDest, R * P, &dest_d));
  RLVR_TRY(ws(kMask, R * cap, &cmask_d));
  RLVR_TRY(ws(kCacheK, R * cap * KV, &ck));
  RLVR_TRY(ws(kCacheV, R * cap * KV, &cv));
  RLVR_TRY(ws(kTmpK, R * P * KV, &tk));
  RLVR_TRY(ws(kTmpV, R * P * KV, &tv));
  RLVR_TRY(ws(kXf, ne * H, &xf));
  RLVR_TRY(be_.upload(ids, ext.ids, ne * 4));
  RLVR_TRY(be_.upload(pos_d, lay.pos.data(), ne * 4));
  RLVR_TRY(be_.upload(crow_d, crow.data(), ne * 8));
  RLVR_TRY(be_.upload(gather_d, gather.data(), R * P * 4));
  RLVR_TRY(be_.upload(dest_d, dest.data(), R * P * 8));
  RLVR_TRY(be_.upload(cmask_d, lay.mask.data(), R * cap * 4));
  RLVR_TRY(be_.rope_table(pos_d, ne, static_cast<const float*>(inv_freq_.get()), cfg_.head_dim, cs));
  // Every slot is written below each layer; zeroed once so no path ever reads stale memory.
  RLVR_TRY(be_.zero(ck, R * cap * KV * 4));
  RLVR_TRY(be_.zero(cv, R * cap * KV * 4));
  RLVR_TRY(be_.embed_fwd(Pm + params_[embed_idx_].offset, ids, ne, H, xa));
  AttnSrc src;
  src.b = R; src.tq = E; src.slot0 = P; src.seq_stride = cap; src.mask = cmask_d; src.mask_stride = cap;
  src.k = ck; src.v = cv;
  for (int l = 0; l < L; ++l) {
    RLVR_TRY(be_.embed_fwd(pk + l * np * KV, gather_d, R * P, KV, tk));  // each row's prefix K/V ...
    RLVR_TRY(be_.embed_fwd(pv + l * np * KV, gather_d, R * P, KV, tv));
    RLVR_TRY(be_.kv_append(tk, tv, R * P, KV, dest_d, ck, cv));          // ... into its slots [0, P)
    RLVR_TRY(layer_forward(l, xa, xb, a, ne, cs, src, crow_d));
    std::swap(xa, xb);
  }

  // ---- 3. final norm and the LM head on the scored rows
  RLVR_TRY(be_.rmsnorm_fwd({xa, Pm + params_[norm_idx_].offset, xf, nullptr, ne, H, cfg_.rms_eps}));
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < ne; ++r) {
    logp[r] = 0.f;
    entropy[r] = 0.f;
    if ((row_mask ? row_mask[r] : ext.mask[r]) != 0.f) rows.push_back(r);
  }
  return lm_logprob(xf, rows, targets, temperature, logp, entropy);
}

}  // namespace rlvr::engine
