// Scoring with shared prompts: GRPO samples n responses per prompt, and the trainer scores
// them (reference log-probs, recomputed old log-probs) in micro-batches that mostly hold one
// prompt's group. Running the prompt once per group and the responses against a copy of its
// keys/values saves the prompt's share of the FLOPs, with bitwise the same result as score()
// (see the notes at the top of model.cpp: per-row GEMMs, one attention routine summing over
// real key slots in ascending order, positions = count of real tokens before the slot).
#include <cstring>
#include <memory>
#include <vector>

#include "model/model.h"
#include "model/model_internal.h"
#include "model/positions.h"

namespace rlvr::engine {

Status Model::score_prefixed(const Batch& prefix, const Batch& ext, const int32_t* group, const int32_t* targets,
                             const float* row_mask, float temperature, float* logp, float* entropy) {
  Status ok = require_lm_head();
  if (!ok.ok()) return ok;
  const int64_t G = prefix.b, P = prefix.t, R = ext.b, E = ext.t, H = cfg_.hidden, L = cfg_.layers;
  const int64_t KV = cfg_.kv_heads * cfg_.head_dim, cap = P + E, np = G * P, ne = R * E;
  ContinuationLayout lay;  // the continuations' positions and masks (engine/positions.h)
  Status st = continuation_layout(prefix, ext, group, &lay);
  if (!st.ok()) return st;

  // ---- prefixes: once per group, keeping every layer's K/V
  const std::vector<int32_t> pos = positions(prefix);
  std::vector<float> cs;
  rope_tables(np, pos.data(), cs);
  std::vector<std::vector<float>> pk(static_cast<size_t>(L)), pv(static_cast<size_t>(L));
  {
    std::vector<float> xa(static_cast<size_t>(np * H)), xb(static_cast<size_t>(np * H));
    embed(prefix.ids, np, xa.data());
    Acts a;
    a.resize(np, cfg_);
    std::vector<int64_t> rows(static_cast<size_t>(np));
    for (int64_t r = 0; r < np; ++r) rows[r] = r;
    AttnSrc src;
    src.seq_stride = P; src.mask = prefix.mask; src.mask_stride = P; src.q_per_seq = P; src.slot0 = 0;
    for (int l = 0; l < L; ++l) {
      pk[l].assign(static_cast<size_t>(np * KV), 0.f);
      pv[l].assign(static_cast<size_t>(np * KV), 0.f);
      src.k = pk[l].data(); src.v = pv[l].data();
      layer_forward(l, xa.data(), xb.data(), a, np, cs, src, pk[l].data(), pv[l].data(), rows.data());
      std::swap(xa, xb);
    }
  }

  // ---- continuations: each row's slots [0, P) hold its prefix's K/V, [P, P + E) its own
  const std::vector<float>& cmask = lay.mask;
  // Only the extension's real tokens (and any row asked for by row_mask) are computed: each row
  // is computed on its own (per-row GEMMs, attention over real slots), so dropping the padding
  // rows changes nothing for the others, and padding is most of a micro-batch when response
  // lengths vary (it runs to the longest response).
  std::vector<int64_t> keep;
  keep.reserve(static_cast<size_t>(ne));
  for (int64_t r = 0; r < ne; ++r)
    if (ext.mask[r] != 0.f || (row_mask && row_mask[r] != 0.f)) keep.push_back(r);
  const int64_t nk = static_cast<int64_t>(keep.size());
  std::vector<int32_t> kpos(static_cast<size_t>(nk)), kids(static_cast<size_t>(nk)), ktg(static_cast<size_t>(nk));
  std::vector<int64_t> crow(static_cast<size_t>(nk)), kseq(static_cast<size_t>(nk)), kslot(static_cast<size_t>(nk));
  for (int64_t k = 0; k < nk; ++k) {
    const int64_t r = keep[k], i = r / E, t = r % E;
    kpos[k] = lay.pos[r];
    kids[k] = ext.ids[r];
    ktg[k] = targets[r];
    crow[k] = i * cap + P + t;
    kseq[k] = i;
    kslot[k] = P + t;
  }
  rope_tables(nk, kpos.data(), cs);
  std::vector<float> xa(static_cast<size_t>(nk * H)), xb(static_cast<size_t>(nk * H));
  embed(kids.data(), nk, xa.data());
  Acts a;
  a.resize(nk, cfg_);
  // Uninitialized on purpose: a slot is written (prefix copy or layer_forward) before any read,
  // or masked and never read.
  const size_t kv_floats = static_cast<size_t>(R * cap * KV);
  std::unique_ptr<float[]> rk(new float[kv_floats]), rv(new float[kv_floats]);
  AttnSrc src;
  src.k = rk.get(); src.v = rv.get();
  src.seq_stride = cap; src.mask = cmask.data(); src.mask_stride = cap; src.q_per_seq = E; src.slot0 = P;
  src.row_seq = kseq.data(); src.row_slot = kslot.data();
  for (int l = 0; l < L; ++l) {
    for (int64_t i = 0; i < R; ++i) {
      std::memcpy(rk.get() + i * cap * KV, pk[l].data() + group[i] * P * KV, sizeof(float) * P * KV);
      std::memcpy(rv.get() + i * cap * KV, pv[l].data() + group[i] * P * KV, sizeof(float) * P * KV);
    }
    pk[l] = {};
    pv[l] = {};
    layer_forward(l, xa.data(), xb.data(), a, nk, cs, src, rk.get(), rv.get(), crow.data());
    std::swap(xa, xb);
  }
  std::vector<float> xf(static_cast<size_t>(nk * H));
  final_norm(xa.data(), xf.data(), nk);
  std::vector<int64_t> rows;
  for (int64_t k = 0; k < nk; ++k)
    if ((row_mask ? row_mask[keep[k]] : ext.mask[keep[k]]) != 0.f) rows.push_back(k);
  std::vector<float> klp(static_cast<size_t>(nk), 0.f), ken(static_cast<size_t>(nk), 0.f);
  Status s = lm_head_logprob(xf.data(), rows, ktg.data(), temperature, klp.data(), ken.data(), keep.data());
  if (!s.ok()) return s;
  for (int64_t r = 0; r < ne; ++r) {
    logp[r] = 0.f;
    entropy[r] = 0.f;
  }
  for (int64_t k = 0; k < nk; ++k) {
    logp[keep[k]] = klp[k];
    entropy[keep[k]] = ken[k];
  }
  return Status::Ok();
}

}  // namespace rlvr::engine
