// OpsModel::rollout: the whole decode loop of a rollout batch in native code (model/rollout.h).
//
// Slot pool. `slots` sequences decode at once; each owns a window of C key/value slots per
// layer in one cache [L, S, C, kv_dim] (K and V). Every running sequence writes its next token
// at the same window slot T (a clock shared by the pool), so one decode step is one batched
// forward whose attention reads, per row, the keys [start, T] of its own window
// (AttnFwdArgs::first = start): a row's attention cost follows its own length, and no row is
// padded. A sequence admitted at clock T gets its prompt's K/V copied into [T - len, T).
// A finished row's slot takes the next row at once; once every row was admitted, the holes are
// closed by moving the last running row in, so a step's rows are always slots [0, active) and
// finished rows cost nothing.
// When T reaches C the running windows are shifted down (compaction) to end at
// T' = max(longest prompt, longest running row), which leaves >= C - W free slots, so shifts
// are rare (C = W + max(16, W / 8), W = the longest prompt + response: a shift copies at most
// W positions a row, once per >= W / 8 steps, next to the W a step's attention reads).
// Every K/V copy (admission, moves, shifts) is batched: per layer one gather (embed_fwd) of
// the positions into staging buffers and one scatter (kv_append), not a copy per row.
//
// Shared prompts. Identical prompts (and the n samples of one prompt) are prefilled once: the
// distinct prompts a round of admissions needs run as one right-padded batch over a cache of
// their own, kept (with their next-token logits) until their last row is admitted.
//
// Sampling. Each row's token at its step t uses counter_uniform(seed, row, t) (rng.ts), and
// sample / log-probs run on the backend's kernels over the rows that have fresh logits; on the
// CPU backend every op is row-independent and skips masked keys exactly, so the results are
// bitwise those of the sampler's JavaScript loop over prefill / step.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/ops_model.h"
#include "model/ops_model_internal.h"
#include "model/rollout.h"

namespace rlvr::engine {
namespace {

constexpr int64_t kGroupTokens = 8192;
// Positions a batched K/V copy moves per gather / scatter (bounds its two staging buffers).
constexpr int64_t kCopyPositions = 1 << 16;

Status bad(const char* field, const std::string& msg) { return Status::Error(Code::Value, field, msg); }

}  // namespace

struct OpsModel::RolloutRun {
  // One admission round's distinct prompts: their K/V [L, u, t, kv_dim] and next-token logits [u, V].
  struct Group {
    BackendBuf k, v, logits;
    int64_t u = 0, t = 0;
  };
  struct PromptKV {
    std::shared_ptr<Group> g;
    int64_t idx = 0;
  };
  struct Slot {
    int64_t row = -1;    // global row, -1 when free
    int64_t start = 0;   // first window slot of the sequence
    int32_t last = 0;    // the sampled token the next step feeds
  };

  OpsModel& m;
  const RolloutRequest& q;
  const Backend& be;
  const int64_t H, KV, V, L;
  int64_t R = 0, S = 0, W = 0, C = 0, T = 0, pmax = 0;
  // slots [0, active) hold the running rows and, between a step and the next admission, holes
  int64_t active = 0, running = 0, next_row = 0, rows_done = 0, tokens = 0;
  int64_t copy_chunk = 0;  // positions per batched K/V copy (tmp_k / tmp_v rows)
  BackendBuf ck, cv, ones, lg, lg_new, tmp_k, tmp_v, src_d, dst_d, u_d, tok_d, lp_d, en_d, lse_d;
  std::vector<Slot> slot;
  std::vector<int64_t> canon, remaining;  // prompt -> first identical prompt; rows left to admit
  std::map<int64_t, PromptKV> store;      // canonical prompt -> its K/V
  std::vector<std::vector<int32_t>> toks;
  std::vector<std::vector<float>> lps;
  std::vector<uint8_t> finish;

  RolloutRun(OpsModel& model, const RolloutRequest& req)
      : m(model), q(req), be(model.be_), H(model.cfg_.hidden), KV(model.cfg_.kv_heads * model.cfg_.head_dim),
        V(model.cfg_.vocab), L(model.cfg_.layers) {}

  int64_t plen(int64_t p) const { return q.offsets[p + 1] - q.offsets[p]; }
  const int32_t* pids(int64_t p) const { return q.ids + q.offsets[p]; }
  float* kv_at(BackendBuf& b, int64_t l, int64_t s, int64_t j) const {
    return static_cast<float*>(b.get()) + ((l * S + s) * C + j) * KV;
  }

  Status validate() const {
    if (m.cfg_.value_head) return m.require_lm_head();
    if (q.count < 1) return bad("prompts", "expected at least one prompt");
    if (q.n < 1) return bad("n", "must be a positive integer, got " + std::to_string(q.n));
    if (q.max_new_tokens < 1) return bad("maxNewTokens", "must be a positive integer, got " + std::to_string(q.max_new_tokens));
    if (q.slots < 1) return bad("slots", "must be a positive integer, got " + std::to_string(q.slots));
    if (q.max_positions < 2) return bad("maxPositions", "must be >= 2, got " + std::to_string(q.max_positions));
    if (!(q.temperature >= 0.f) || !std::isfinite(q.temperature)) return bad("temperature", "must be finite and >= 0 (0 = greedy)");
    if (!(q.top_p > 0.f && q.top_p <= 1.f)) return bad("topP", "must be in (0, 1]");
    if (q.top_k < 0) return bad("topK", "must be >= 0 (0 = off)");
    if (!(q.logprob_temperature > 0.f) || !std::isfinite(q.logprob_temperature))
      return bad("logprobTemperature", "must be finite and > 0");
    if (!q.forced_lengths.empty()) {
      if (static_cast<int64_t>(q.forced_lengths.size()) != q.count * q.n)
        return bad("forcedLengths", "expected one length per row (" + std::to_string(q.count * q.n) + "), got " +
                                        std::to_string(q.forced_lengths.size()));
      for (int32_t x : q.forced_lengths)
        if (x < 1) return bad("forcedLengths", "lengths must be >= 1");
    }
    for (int32_t e : q.eos)
      if (e < 0 || e >= V)
        return Status::Error(Code::Value, "eosIds", "id " + std::to_string(e) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
    for (int64_t p = 0; p < q.count; ++p) {
      const int64_t len = plen(p);
      if (len < 1) return bad("prompts", "prompt " + std::to_string(p) + " is empty");
      if (len + 1 > q.max_positions)
        return bad("prompts", "prompt " + std::to_string(p) + " has " + std::to_string(len) + " tokens; the model's context is " +
                                  std::to_string(q.max_positions));
      for (int64_t j = 0; j < len; ++j)
        if (pids(p)[j] < 0 || pids(p)[j] >= V)
          return Status::Error(Code::Range, "prompts", "prompt " + std::to_string(p) + " has token id " +
                                                           std::to_string(pids(p)[j]) + " outside the vocabulary");
    }
    return Status::Ok();
  }

  Status run(RolloutResult* out) {
    RLVR_TRY(validate());
    RLVR_TRY(m.ensure_bf16());
    R = q.count * q.n;
    S = std::min(q.slots, R);
    // identical prompts share one prefill: canon[p] = the first prompt equal to p
    std::map<std::vector<int32_t>, int64_t> seen;
    canon.resize(static_cast<size_t>(q.count));
    remaining.assign(static_cast<size_t>(q.count), 0);
    for (int64_t p = 0; p < q.count; ++p) {
      auto it = seen.emplace(std::vector<int32_t>(pids(p), pids(p) + plen(p)), p).first;
      canon[p] = it->second;
      remaining[canon[p]] += q.n;
      pmax = std::max(pmax, plen(p));
      W = std::max(W, std::min(plen(p) + q.max_new_tokens, q.max_positions));
    }
    C = rollout_window(W);
    if (S * C > INT32_MAX)  // positions are gathered with int32 indices (embed_fwd)
      return Status::Error(Code::Range, "slots", "slots x window positions must stay below 2^31");
    T = pmax;
    const int64_t cache_floats = L * S * C * KV;
    RLVR_TRY(ck.reserve(be, cache_floats * 4));
    RLVR_TRY(cv.reserve(be, cache_floats * 4));
    // Zeroed: attention reads only [start, T] of a window, but never let it see uninitialized memory.
    RLVR_TRY(be.zero(ck.get(), cache_floats * 4));
    RLVR_TRY(be.zero(cv.get(), cache_floats * 4));
    {
      const std::vector<float> one(static_cast<size_t>(S * C), 1.f);  // every key slot real: `first` bounds a row
      RLVR_TRY(ones.reserve(be, S * C * 4));
      RLVR_TRY(be.upload(ones.get(), one.data(), S * C * 4));
    }
    RLVR_TRY(lg.reserve(be, S * V * 4));
    RLVR_TRY(lg_new.reserve(be, S * V * 4));
    copy_chunk = std::max<int64_t>(1, std::min<int64_t>(kCopyPositions, S * C));
    RLVR_TRY(tmp_k.reserve(be, copy_chunk * KV * 4));
    RLVR_TRY(tmp_v.reserve(be, copy_chunk * KV * 4));
    RLVR_TRY(src_d.reserve(be, copy_chunk * 4));
    RLVR_TRY(dst_d.reserve(be, copy_chunk * 8));
    for (BackendBuf* b : {&u_d, &tok_d, &lp_d, &en_d, &lse_d}) RLVR_TRY(b->reserve(be, S * 4));
    slot.assign(static_cast<size_t>(S), Slot{});
    toks.assign(static_cast<size_t>(R), {});
    lps.assign(static_cast<size_t>(R), {});
    finish.assign(static_cast<size_t>(R), 0);

    std::vector<int64_t> all;
    for (;;) {
      while (running < S && next_row < R) RLVR_TRY(admit());
      RLVR_TRY(compact());  // holes are left only once every row was admitted
      if (q.progress) q.progress(rows_done, tokens);
      if (active == 0) break;
      if (q.cancel && q.cancel->load()) return Status::Error(Code::Value, "signal", "the rollout was cancelled");
      if (T == C) RLVR_TRY(shift());
      RLVR_TRY(decode_step());
      all.resize(static_cast<size_t>(active));
      for (int64_t s = 0; s < active; ++s) all[s] = s;
      RLVR_TRY(sample(all, static_cast<const float*>(lg.get())));
    }

    out->offsets.assign(static_cast<size_t>(R + 1), 0);
    for (int64_t r = 0; r < R; ++r) out->offsets[r + 1] = out->offsets[r] + static_cast<int64_t>(toks[r].size());
    out->tokens.clear();
    out->logprobs.clear();
    out->tokens.reserve(static_cast<size_t>(tokens));
    out->logprobs.reserve(static_cast<size_t>(tokens));
    for (int64_t r = 0; r < R; ++r) {
      out->tokens.insert(out->tokens.end(), toks[r].begin(), toks[r].end());
      out->logprobs.insert(out->logprobs.end(), lps[r].begin(), lps[r].end());
    }
    out->finish = finish;
    return Status::Ok();
  }

  // Fills free slots with the next rows -- the holes finished rows left in [0, active) first,
  // then [active, S) -- copying their prompts' K/V in at [T - len, T), and samples their first
  // tokens from their prompts' logits.
  Status admit() {
    std::vector<int64_t> free;
    for (int64_t s = 0; s < S && static_cast<int64_t>(free.size()) < R - next_row; ++s)
      if (s >= active || slot[s].row < 0) free.push_back(s);
    const int64_t k = static_cast<int64_t>(free.size());
    std::vector<int64_t> missing;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t c = canon[(next_row + i) / q.n];
      if (!store.count(c) && std::find(missing.begin(), missing.end(), c) == missing.end()) missing.push_back(c);
    }
    // in groups of at most kGroupTokens padded tokens (bounds the prefill's activations)
    for (size_t a = 0; a < missing.size();) {
      std::vector<int64_t> group;
      int64_t t = 0;
      while (a < missing.size() && (group.empty() || (static_cast<int64_t>(group.size()) + 1) *
                                                         std::max(t, plen(missing[a])) <= kGroupTokens)) {
        t = std::max(t, plen(missing[a]));
        group.push_back(missing[a++]);
      }
      RLVR_TRY(prefill_group(group));
    }
    // the prompts' K/V into the slots at [T - len, T): one batched copy per source group
    std::map<const Group*, std::pair<std::vector<int32_t>, std::vector<int64_t>>> copies;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t row = next_row + i, s = free[i], c = canon[row / q.n], len = plen(c);
      const PromptKV& pk = store.at(c);
      auto& cp = copies[pk.g.get()];
      for (int64_t j = 0; j < len; ++j) {
        cp.first.push_back(static_cast<int32_t>(pk.idx * pk.g->t + j));
        cp.second.push_back(s * C + T - len + j);
      }
      RLVR_TRY(be.copy(static_cast<float*>(lg_new.get()) + i * V, static_cast<const float*>(pk.g->logits.get()) + pk.idx * V,
                       V * 4));
      slot[s] = Slot{row, T - len, 0};
      active = std::max(active, s + 1);
      ++running;
    }
    for (const auto& [g, cp] : copies) RLVR_TRY(copy_positions(g->k.get(), g->v.get(), g->u * g->t, cp.first, cp.second));
    for (int64_t i = 0; i < k; ++i) {
      const int64_t c = canon[(next_row + i) / q.n];
      if (--remaining[c] == 0) store.erase(c);  // the group is freed with its last prompt
    }
    next_row += k;
    return sample(free, static_cast<const float*>(lg_new.get()));
  }

  // The distinct prompts `ps` as one right-padded batch [u, t] over a cache of their own.
  Status prefill_group(const std::vector<int64_t>& ps) {
    auto g = std::make_shared<Group>();
    g->u = static_cast<int64_t>(ps.size());
    for (int64_t p : ps) g->t = std::max(g->t, plen(p));
    const int64_t u = g->u, t = g->t, n = u * t;
    std::vector<int32_t> ids(static_cast<size_t>(n), 0), last(static_cast<size_t>(u));
    std::vector<float> mask(static_cast<size_t>(n), 0.f);
    std::vector<int64_t> crow(static_cast<size_t>(n));
    for (int64_t i = 0; i < u; ++i) {
      const int64_t len = plen(ps[i]);
      std::memcpy(ids.data() + i * t, pids(ps[i]), 4 * len);
      std::fill(mask.begin() + i * t, mask.begin() + i * t + len, 1.f);
      last[i] = static_cast<int32_t>(i * t + len - 1);
    }
    for (int64_t r = 0; r < n; ++r) crow[r] = r;
    RLVR_TRY(g->k.reserve(be, L * n * KV * 4));
    RLVR_TRY(g->v.reserve(be, L * n * KV * 4));
    RLVR_TRY(g->logits.reserve(be, u * V * 4));
    RLVR_TRY(be.zero(g->k.get(), L * n * KV * 4));
    RLVR_TRY(be.zero(g->v.get(), L * n * KV * 4));
    Batch x;
    x.b = u; x.t = t; x.ids = ids.data(); x.mask = mask.data();
    int32_t *ids_d, *last_d;
    int64_t* crow_d;
    float *mask_d, *cs, *xa, *xb, *xl, *xf;
    RLVR_TRY(m.upload_batch(x, &ids_d, &mask_d, &cs));
    RLVR_TRY(m.ws(kCrow, n, &crow_d));
    RLVR_TRY(m.ws(kLast, u, &last_d));
    RLVR_TRY(m.ws(kXa, n * H, &xa));
    RLVR_TRY(m.ws(kXb, n * H, &xb));
    RLVR_TRY(m.ws(kXl, u * H, &xl));
    RLVR_TRY(m.ws(kXf, u * H, &xf));
    RLVR_TRY(be.upload(crow_d, crow.data(), n * 8));
    RLVR_TRY(be.upload(last_d, last.data(), u * 4));
    Acts* ap;
    RLVR_TRY(m.scratch_acts(n, &ap));
    const float* P = static_cast<const float*>(m.data_.get());
    RLVR_TRY(be.embed_fwd(P + m.params_[m.embed_idx_].offset, ids_d, n, H, xa));
    AttnSrc src;
    src.b = u; src.tq = t; src.slot0 = 0; src.seq_stride = t; src.mask = mask_d; src.mask_stride = t;
    for (int l = 0; l < L; ++l) {
      src.k = static_cast<float*>(g->k.get()) + l * n * KV;
      src.v = static_cast<float*>(g->v.get()) + l * n * KV;
      RLVR_TRY(m.layer_forward(l, xa, xb, *ap, n, cs, src, crow_d));
      std::swap(xa, xb);
    }
    RLVR_TRY(be.embed_fwd(xa, last_d, u, H, xl));
    RLVR_TRY(be.rmsnorm_fwd({xl, P + m.params_[m.norm_idx_].offset, xf, nullptr, u, H, m.cfg_.rms_eps}));
    const void* xi;
    RLVR_TRY(m.gin(xf, u * H, kCastA, &xi));
    RLVR_TRY(m.linear_fwd(u, V, H, xi, m.lm_idx_, nullptr, static_cast<float*>(g->logits.get())));
    for (int64_t i = 0; i < u; ++i) store[ps[i]] = PromptKV{g, i};
    return Status::Ok();
  }

  // One token for every running row (slots [0, active)) at window slot T; logits into lg.
  Status decode_step() {
    const int64_t n = active;
    std::vector<int32_t> ids(static_cast<size_t>(n)), pos(static_cast<size_t>(n)), first(static_cast<size_t>(n));
    std::vector<int64_t> crow(static_cast<size_t>(n));
    for (int64_t s = 0; s < n; ++s) {
      ids[s] = slot[s].last;
      pos[s] = static_cast<int32_t>(T - slot[s].start);  // tokens before this one
      first[s] = static_cast<int32_t>(slot[s].start);
      crow[s] = s * C + T;
    }
    int32_t *ids_d, *pos_d, *first_d;
    int64_t* crow_d;
    float *cs, *xa, *xb, *xf;
    RLVR_TRY(m.ws(kIds, n, &ids_d));
    RLVR_TRY(m.ws(kPos, n, &pos_d));
    RLVR_TRY(m.ws(kFirst, n, &first_d));
    RLVR_TRY(m.ws(kCs, n * m.cfg_.head_dim, &cs));
    RLVR_TRY(m.ws(kCrow, n, &crow_d));
    RLVR_TRY(m.ws(kXa, n * H, &xa));
    RLVR_TRY(m.ws(kXb, n * H, &xb));
    RLVR_TRY(m.ws(kXf, n * H, &xf));
    RLVR_TRY(be.upload(ids_d, ids.data(), n * 4));
    RLVR_TRY(be.upload(pos_d, pos.data(), n * 4));
    RLVR_TRY(be.upload(first_d, first.data(), n * 4));
    RLVR_TRY(be.upload(crow_d, crow.data(), n * 8));
    RLVR_TRY(be.rope_table(pos_d, n, static_cast<const float*>(m.inv_freq_.get()), m.cfg_.head_dim, cs));
    Acts* ap;
    RLVR_TRY(m.scratch_acts(n, &ap));
    const float* P = static_cast<const float*>(m.data_.get());
    RLVR_TRY(be.embed_fwd(P + m.params_[m.embed_idx_].offset, ids_d, n, H, xa));
    AttnSrc src;
    src.b = n; src.tq = 1; src.slot0 = T; src.seq_stride = C;
    src.mask = static_cast<const float*>(ones.get()); src.mask_stride = C; src.first = first_d;
    for (int l = 0; l < L; ++l) {
      src.k = kv_at(ck, l, 0, 0);
      src.v = kv_at(cv, l, 0, 0);
      RLVR_TRY(m.layer_forward(l, xa, xb, *ap, n, cs, src, crow_d));
      std::swap(xa, xb);
    }
    ++T;
    RLVR_TRY(be.rmsnorm_fwd({xa, P + m.params_[m.norm_idx_].offset, xf, nullptr, n, H, m.cfg_.rms_eps}));
    const void* xi;
    RLVR_TRY(m.gin(xf, n * H, kCastA, &xi));
    return m.linear_fwd(n, V, H, xi, m.lm_idx_, nullptr, static_cast<float*>(lg.get()));
  }

  // Samples the rows of `slots` (logits row i for slots[i]) and records token, log-prob and
  // finish reason; a finished row's slot is marked free (admit() or compact() fills it).
  Status sample(const std::vector<int64_t>& slots, const float* logits) {
    const int64_t b = static_cast<int64_t>(slots.size());
    if (b == 0) return Status::Ok();
    std::vector<float> u(static_cast<size_t>(b));
    for (int64_t i = 0; i < b; ++i) {
      const Slot& s = slot[slots[i]];
      u[i] = counter_uniform(q.seed, static_cast<uint64_t>(s.row), static_cast<uint32_t>(toks[s.row].size()));
    }
    RLVR_TRY(be.upload(u_d.get(), u.data(), b * 4));
    int32_t* tok_dev = static_cast<int32_t*>(tok_d.get());
    kernels::SampleArgs sa;
    sa.logits = logits; sa.b = b; sa.v = V;
    sa.temperature = q.temperature; sa.top_p = q.top_p; sa.top_k = q.top_k;
    sa.uniforms = static_cast<const float*>(u_d.get()); sa.tokens = tok_dev;
    int64_t bad_row = -1;
    sa.bad_row = &bad_row;
    // The Backend has no sampling op: the host backends' memory is the CPU kernel's.
    const bool host = &be == &cpu_backend() || &be == &ref_backend();
    RLVR_TRY(host ? kernels::sample_cpu(sa) : kernels::sample_cuda(sa));
    if (bad_row >= 0) return bad_logits(slot[slots[bad_row]].row);
    kernels::LogprobFwdArgs la;
    la.logits = logits; la.n = b; la.v = V; la.targets = tok_dev; la.temperature = q.logprob_temperature;
    la.logp = static_cast<float*>(lp_d.get()); la.entropy = static_cast<float*>(en_d.get());
    la.lse = static_cast<float*>(lse_d.get());
    la.bad_row = &bad_row;
    RLVR_TRY(be.logprob_fwd(la));
    if (bad_row >= 0) return bad_logits(slot[slots[bad_row]].row);
    std::vector<int32_t> tk(static_cast<size_t>(b));
    std::vector<float> lp(static_cast<size_t>(b));
    RLVR_TRY(be.download(tk.data(), tok_dev, b * 4));
    RLVR_TRY(be.download(lp.data(), lp_d.get(), b * 4));
    for (int64_t i = 0; i < b; ++i) {
      Slot& s = slot[slots[i]];
      const int64_t row = s.row;
      toks[row].push_back(tk[i]);
      lps[row].push_back(lp[i]);
      ++tokens;
      // generate.ts's order: eos (or a forced length), then length, then context
      const int64_t gen = static_cast<int64_t>(toks[row].size());
      int fin = -1;
      if (!q.forced_lengths.empty()) {
        if (gen >= q.forced_lengths[row]) fin = static_cast<int>(Finish::Eos);
      } else if (!q.ignore_eos && std::find(q.eos.begin(), q.eos.end(), tk[i]) != q.eos.end()) {
        fin = static_cast<int>(Finish::Eos);
      }
      if (fin < 0 && gen >= q.max_new_tokens) fin = static_cast<int>(Finish::Length);
      if (fin < 0 && plen(row / q.n) + gen >= q.max_positions) fin = static_cast<int>(Finish::Context);
      if (fin >= 0) {
        finish[row] = static_cast<uint8_t>(fin);
        ++rows_done;
        --running;
        s.row = -1;
      } else {
        s.last = tk[i];
      }
    }
    return Status::Ok();
  }

  Status bad_logits(int64_t row) const {
    return Status::Error(Code::Value, "logits", "row " + std::to_string(row) + " has NaN / +inf logits or all -inf");
  }

  // Closes the holes in [0, active): each takes the last running row (its window [start, T)
  // copied over, all moves in one batched copy), so a decode step's rows are slots [0, active).
  Status compact() {
    std::vector<int32_t> src;
    std::vector<int64_t> dst;
    int64_t i = 0;
    while (i < active) {
      if (slot[i].row >= 0) { ++i; continue; }
      --active;
      while (active > i && slot[active].row < 0) --active;
      if (active > i) {
        for (int64_t j = slot[active].start; j < T; ++j) {
          src.push_back(static_cast<int32_t>(active * C + j));
          dst.push_back(i * C + j);
        }
        slot[i] = slot[active];
        slot[active].row = -1;
        ++i;
      }
    }
    return copy_positions(ck.get(), cv.get(), S * C, src, dst);
  }

  // The clock reached the window's end: every running row's keys move down to end at T'.
  Status shift() {
    int64_t t2 = pmax;
    for (int64_t s = 0; s < active; ++s) t2 = std::max(t2, T - slot[s].start);
    std::vector<int32_t> src;
    std::vector<int64_t> dst;
    for (int64_t s = 0; s < active; ++s) {
      const int64_t len = T - slot[s].start, st2 = t2 - len;
      for (int64_t j = 0; j < len; ++j) {
        src.push_back(static_cast<int32_t>(s * C + slot[s].start + j));
        dst.push_back(s * C + st2 + j);
      }
      slot[s].start = st2;
    }
    T = t2;
    return copy_positions(ck.get(), cv.get(), S * C, src, dst);
  }

  // For every layer: K/V position src[i] of a source table [layers, rows, kv_dim] (a prompt
  // group's, or the cache itself: rows = S * C) -> cache position dst[i]. In chunks, each
  // gathered whole into tmp_k / tmp_v before the scatter, so sources and destinations may
  // overlap within a chunk (a shift's windows do); a chunk's destinations never overlap a later
  // chunk's sources (moves and shifts go down: dst < src, positions in increasing order).
  Status copy_positions(const void* table_k, const void* table_v, int64_t rows, const std::vector<int32_t>& src,
                        const std::vector<int64_t>& dst) {
    const int64_t total = static_cast<int64_t>(src.size());
    for (int64_t a = 0; a < total; a += copy_chunk) {
      const int64_t n = std::min(copy_chunk, total - a);
      int32_t* sd = static_cast<int32_t*>(src_d.get());
      int64_t* dd = static_cast<int64_t*>(dst_d.get());
      RLVR_TRY(be.upload(sd, src.data() + a, n * 4));
      RLVR_TRY(be.upload(dd, dst.data() + a, n * 8));
      for (int64_t l = 0; l < L; ++l) {
        float* tk = static_cast<float*>(tmp_k.get());
        float* tv = static_cast<float*>(tmp_v.get());
        RLVR_TRY(be.embed_fwd(static_cast<const float*>(table_k) + l * rows * KV, sd, n, KV, tk));
        RLVR_TRY(be.embed_fwd(static_cast<const float*>(table_v) + l * rows * KV, sd, n, KV, tv));
        RLVR_TRY(be.kv_append(tk, tv, n, KV, dd, kv_at(ck, l, 0, 0), kv_at(cv, l, 0, 0)));
      }
    }
    return Status::Ok();
  }
};

Status OpsModel::rollout(const RolloutRequest& req, RolloutResult* out) {
  RolloutRun r(*this, req);
  return r.run(out);
}

}  // namespace rlvr::engine
