#!/usr/bin/python3
"""PyTorch CPU peer for @rlvr/engine's benchmark (src/bench/engineBench.ts).

Runs the same Qwen2 decoder as fixtures/make_golden.py (its parameter layout,
random weights, inverse frequencies, RMSNorm, rotate_half RoPE, token
log-prob / entropy and the policy loss are imported from there, not copied) in
fp32 and measures

  train:  forward + the policy loss on the LM head + backward +
          clip_grad_norm_ + torch.optim.AdamW, tokens/s over `--train-steps`
          steady-state steps (after one warm-up step);
  decode: greedy KV-cache decoding of `--decode-batch` rows for
          `--decode-steps` steps after a prefill of `--prompt` tokens,
          tokens/s of the steps (prefill timed separately).

make_golden.forward itself computes in float64 (its RoPE tables are float64)
and has no KV cache, so the forward below is the same model written for a
given dtype and an optional cache; `--check` verifies it against
make_golden.forward on the golden configurations (float64, padded batch).

The implementation is the plain, reasonably efficient one: F.linear (BLAS
sgemm), batched-matmul attention with GQA by grouping query heads (decode) or
repeat_interleave (training, as HF's repeat_kv), an additive causal/padding
mask, a preallocated KV cache, torch.inference_mode for decoding.
torch 1.13 has no F.scaled_dot_product_attention (2.0+); it is used when present.

Prints one JSON object on stdout; progress on stderr. Run with Debian's
interpreter: /usr/bin/python3 packages/engine/bench/torch_engine.py --help
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_golden as mg  # noqa: E402  (the reference model's code)


def log(msg):
    print(f"[torch] {msg}", file=sys.stderr, flush=True)


def rope_tables(c, pos, dtype):
    """cos/sin [B, 1, T, d] for position ids pos [B, T] (angles in float64, as make_golden)."""
    freqs = pos[:, :, None].double() * mg.inv_freq(c)[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos()[:, None].to(dtype), emb.sin()[:, None].to(dtype)


def attention(q, k, v, bias, group):
    """q [B, nh, T, d], k/v [B, nkv, S, d], additive bias broadcastable to [B, nh, T, S]."""
    if hasattr(F, "scaled_dot_product_attention"):
        if group > 1:
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    b, nh, t, d = q.shape
    nkv = k.shape[1]
    if t == 1 or not torch.is_grad_enabled():
        # inference: group query heads per kv head, no K/V copies
        qg = q.reshape(b, nkv, group * t, d)
        s = torch.matmul(qg, k.transpose(2, 3)) * (d ** -0.5)
        s = s.view(b, nkv, group, t, -1) + bias.view(b, 1, 1, t, -1)
        p = torch.softmax(s, dim=-1).view(b, nkv, group * t, -1)
        return torch.matmul(p, v).view(b, nh, t, d)
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    s = torch.matmul(q, k.transpose(2, 3)) * (d ** -0.5) + bias
    return torch.matmul(torch.softmax(s, dim=-1), v)


def forward(c, w, ids, pos, bias, cache=None, slot=0):
    """Final-normed hidden states [B, T, h]. bias: additive mask [B, 1, T, S]
    (S = T without a cache, the cache's used length with one). cache: per layer
    (K, V) tensors [B, nkv, cap, d]; the new keys/values go to slots [slot, slot + T)."""
    nh, nkv, d = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps, group = c["rms_norm_eps"], nh // nkv
    has_bias = c["architectures"][0] == "Qwen2ForCausalLM"
    b, t = ids.shape
    emb_w = w["model.embed_tokens.weight"]
    cos, sin = rope_tables(c, pos, emb_w.dtype)
    x = F.embedding(ids, emb_w)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."

        def lin(n, xx, bias_ok=False):
            return F.linear(xx, w[p + n + ".weight"], w[p + n + ".bias"] if has_bias and bias_ok else None)
        hn = mg.rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin("self_attn.q_proj", hn, True).view(b, t, nh, d).transpose(1, 2)
        k = lin("self_attn.k_proj", hn, True).view(b, t, nkv, d).transpose(1, 2)
        v = lin("self_attn.v_proj", hn, True).view(b, t, nkv, d).transpose(1, 2)
        q = q * cos + mg.rotate_half(q) * sin
        k = k * cos + mg.rotate_half(k) * sin
        if cache is not None:
            ck, cv = cache[i]
            ck[:, :, slot:slot + t] = k
            cv[:, :, slot:slot + t] = v
            k, v = ck[:, :, :slot + t], cv[:, :, :slot + t]
        a = attention(q, k, v, bias, group).transpose(1, 2).reshape(b, t, nh * d)
        x = x + lin("self_attn.o_proj", a)
        hn = mg.rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        x = x + lin("mlp.down_proj", F.silu(lin("mlp.gate_proj", hn)) * lin("mlp.up_proj", hn))
    return mg.rms_norm(x, w["model.norm.weight"], eps)


def lm_weight(c, w):
    return w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]


def masks(mask, dtype):
    """Position ids (HF: cumsum - 1, padding -> 1) and the additive causal + padding bias [B, 1, T, T]."""
    t = mask.shape[1]
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
    allowed = torch.tril(torch.ones(t, t, dtype=torch.bool))[None, None] & (mask[:, None, None, :] != 0)
    bias = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    return pos, bias


def check():
    """This file's forward == make_golden.forward (float64) on the golden configurations."""
    for name, c in mg.CONFIGS.items():
        w = {k: v.double() for k, v in mg.random_weights(c).items()}
        inp, am, _, _, _ = mg.make_inputs(c)
        ref = mg.forward(c, w, inp, am)
        pos, bias = masks(am, torch.float64)
        mine = forward(c, w, inp, pos, bias) @ lm_weight(c, w).T
        valid = am != 0
        err = (ref - mine)[valid].abs().max().item()
        log(f"check {name}: max |logits - make_golden.forward| over real tokens = {err:.3g}")
        if not err < 1e-9:
            raise SystemExit(f"check failed for {name}: {err}")


def blas_library():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(os.path.basename(x) for x in libs)
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="HF config.json contents (JSON string)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-batch", type=int, default=1)
    ap.add_argument("--train-seq", type=int, default=128)
    ap.add_argument("--train-steps", type=int, default=2)
    ap.add_argument("--decode-batch", type=int, default=4)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--decode-steps", type=int, default=16)
    ap.add_argument("--check", action="store_true", help="only verify the forward against make_golden.forward")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.check:
        check()
        return
    c = json.loads(a.config)
    c.setdefault("head_dim", c["hidden_size"] // c["num_attention_heads"])
    V = c["vocab_size"]
    t0 = time.time()
    torch.manual_seed(0)
    w = {k: torch.nn.Parameter(v) for k, v in mg.random_weights(c).items()}
    nparams = sum(p.numel() for p in w.values())
    log(f"weights: {nparams / 1e6:.1f}M parameters ({time.time() - t0:.1f} s)")
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
           "sdpa": hasattr(F, "scaled_dot_product_attention"), "parameters": nparams}

    # ---- training: forward + policy loss at the LM head + backward + clip + AdamW
    B, T = a.train_batch, a.train_seq
    n = B * T
    ids = (torch.arange(n) * 7919 % V).view(B, T)
    targets = (torch.arange(n) * 104729 % V).view(B, T)
    mask = torch.ones(B, T)
    pos, bias = masks(mask, torch.float32)
    wts = torch.full((B, T), 1.0 / n)
    adv = torch.ones(B, T)
    zeros = torch.zeros(B, T)
    loss_opts = {"pgCoef": 1.0, "klCoef": 0.0, "entropyCoeff": 0.0, "clipLow": 0.2, "clipHigh": 0.2,
                 "dualClip": 0.0}
    opt = torch.optim.AdamW(list(w.values()), lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def train_step():
        hidden = forward(c, w, ids, pos, bias)
        logits = F.linear(hidden, lm_weight(c, w))
        logp, ent = mg.token_stats(logits, targets, 1.0)
        total, _ = mg.policy_loss(logp, ent, zeros, zeros, adv, wts, loss_opts)
        total.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    times, cpu = [], []
    for s in range(a.train_steps + 1):
        t0, c0 = time.time(), time.process_time()
        train_step()
        times.append(time.time() - t0)
        cpu.append(time.process_time() - c0)
        log(f"train step {s}{' (warm-up)' if s == 0 else ''}: {times[-1]:.2f} s (cpu {cpu[-1]:.2f} s)")
    steady = times[1:] if len(times) > 1 else times
    out["train"] = {"batch": B, "seq": T, "step_s": times, "step_cpu_s": cpu,
                    "tokens_per_s": n * len(steady) / sum(steady),
                    "tokens_per_cpu_s": n * len(steady) / sum(cpu[1:] if len(cpu) > 1 else cpu)}
    opt = None

    # ---- decode: prefill, then greedy steps with a KV cache
    Bd, P, S = a.decode_batch, a.prompt, a.decode_steps
    cap = P + S
    nkv, d = c["num_key_value_heads"], c["head_dim"]
    with torch.inference_mode():
        wd = {k: v.detach() for k, v in w.items()}
        lm = lm_weight(c, wd)
        prompt = (torch.arange(Bd * P) * 7919 % V).view(Bd, P)

        def run():
            cache = [(torch.zeros(Bd, nkv, cap, d), torch.zeros(Bd, nkv, cap, d)) for _ in range(c["num_hidden_layers"])]
            pmask = torch.ones(Bd, P)
            ppos, pbias = masks(pmask, torch.float32)
            t0 = time.time()
            logits = F.linear(forward(c, wd, prompt, ppos, pbias, cache, 0)[:, -1], lm)
            tp = time.time() - t0
            t0, c0 = time.time(), time.process_time()
            for s in range(S):
                tok = logits.argmax(-1)
                step_pos = torch.full((Bd, 1), P + s, dtype=torch.long)
                step_bias = torch.zeros(Bd, 1, 1, P + s + 1)
                logits = F.linear(forward(c, wd, tok[:, None], step_pos, step_bias, cache, P + s)[:, -1], lm)
            return tp, time.time() - t0, time.process_time() - c0
        run_w = run() if a.decode_steps <= 64 and nparams < 5e7 else None  # warm-up (cheap models only)
        tp, td, tc = run()
        log(f"prefill {tp:.2f} s; decode {S} steps x {Bd} rows: {td:.2f} s (cpu {tc:.2f} s)" +
            (" (after warm-up)" if run_w else ""))
    out["decode"] = {"batch": Bd, "prompt": P, "steps": S, "prefill_s": tp, "decode_s": td, "decode_cpu_s": tc,
                     "tokens_per_s": Bd * S / td, "tokens_per_cpu_s": Bd * S / tc}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
