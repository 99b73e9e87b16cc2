"""PyTorch peer for rlvr_cuda_ops_model_bench: the same Qwen2.5-1.5B-shaped
workload on the same device, so the JSON can state a ratio.

- train: batch x seq tokens, forward (bf16 autocast over fp32 master weights,
  SDPA attention) -> fp32 log-softmax of the target tokens -> a GRPO-like
  loss (advantage-weighted log-prob + KL-ish + entropy terms, like the fused
  loss rlvr runs), backward, fused AdamW with global grad-norm clipping;
- decode: prefill decode_batch x prompt, then steps of one-token forward with
  the KV cache + multinomial sampling at temperature 1 (bf16 weights and cache:
  how one would serve it in PyTorch); tokens/s = decode_batch * steps / time.
Timed with wall clock after torch.cuda.synchronize(). Prints one JSON object.
Usage: python3 torch_model_gpu.py [batch=8] [seq=1024] [reps=3] [decode_batch=256] [prompt=512] [steps=64]
"""
import json
import sys
import time

import torch


def config():
    from transformers import Qwen2Config

    return Qwen2Config(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                       num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=4096,
                       rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True)


def make_model(dtype):
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(0)
    with torch.device("cuda"):
        m = Qwen2ForCausalLM(config())
    m.config._attn_implementation = "sdpa"
    return m.to(dtype)


def sync_time():
    torch.cuda.synchronize()
    return time.perf_counter()


def train(batch, seq, reps):
    m = make_model(torch.float32)
    m.train()
    params = sum(p.numel() for p in m.parameters())
    opt = torch.optim.AdamW(m.parameters(), lr=1e-6, weight_decay=0.01, fused=True)
    g = torch.Generator(device="cuda").manual_seed(1)
    ids = torch.randint(0, 151936, (batch, seq), generator=g, device="cuda")
    targets = torch.randint(0, 151936, (batch, seq), generator=g, device="cuda")
    adv = torch.randn(batch, 1, generator=g, device="cuda").expand(batch, seq)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = m(input_ids=ids).logits
        lp = torch.log_softmax(logits.float(), dim=-1)
        logp = lp.gather(-1, targets[..., None])[..., 0]
        ent = -(lp.exp() * lp).sum(-1)
        ratio = torch.exp(logp - logp.detach())
        kl = torch.exp(-12.0 - logp) - (-12.0 - logp) - 1.0
        loss = (-(adv * ratio) + 0.001 * kl - 0.001 * ent).mean()
        loss.backward()
        t1 = sync_time()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0, foreach=True)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return t1

    step()
    fb = os = 0.0
    for _ in range(reps):
        t0 = sync_time()
        t1 = step()
        t2 = sync_time()
        fb += t1 - t0
        os += t2 - t1
    tok_s = batch * seq * reps / (fb + os)
    out = {"batch": batch, "seq": seq, "tokens": batch * seq, "reps": reps, "params": params,
           "forward_backward_ms": 1e3 * fb / reps, "optimizer_step_ms": 1e3 * os / reps,
           "step_ms": 1e3 * (fb + os) / reps, "tokens_per_s": tok_s, "mfu": 6 * params * tok_s / 989e12,
           "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30,
           "note": "bf16 autocast, fp32 master weights, SDPA, fused AdamW, clip 1.0; logits materialized in fp32"}
    del m, opt
    torch.cuda.empty_cache()
    return out


@torch.no_grad()
def decode(dbatch, prompt, steps):
    m = make_model(torch.bfloat16)
    m.eval()
    g = torch.Generator(device="cuda").manual_seed(2)
    ids = torch.randint(0, 151936, (dbatch, prompt), generator=g, device="cuda")
    t0 = sync_time()
    out = m(input_ids=ids, use_cache=True, logits_to_keep=1)
    pkv = out.past_key_values
    t1 = sync_time()

    def sample(logits):
        p = torch.softmax(logits[:, -1].float(), dim=-1)
        return torch.multinomial(p, 1, generator=g)

    tok = sample(out.logits)
    for _ in range(2):
        out = m(input_ids=tok, past_key_values=pkv, use_cache=True)
        pkv = out.past_key_values
        tok = sample(out.logits)
    t2 = sync_time()
    for _ in range(steps):
        out = m(input_ids=tok, past_key_values=pkv, use_cache=True)
        pkv = out.past_key_values
        tok = sample(out.logits)
        tok.cpu()  # the token goes to the host each step, as in rlvr's loop
    t3 = sync_time()
    return {"batch": dbatch, "prompt": prompt, "steps": steps, "prefill_ms": 1e3 * (t1 - t0),
            "prefill_tokens_per_s": dbatch * prompt / (t1 - t0), "step_ms": 1e3 * (t3 - t2) / steps,
            "tokens_per_s": dbatch * steps / (t3 - t2),
            "note": "bf16 weights and KV cache (transformers DynamicCache), SDPA, multinomial sampling, eager"}


def main():
    a = [int(x) for x in sys.argv[1:7]]
    batch, seq, reps, dbatch, prompt, steps = a + [8, 1024, 3, 256, 512, 64][len(a):]
    import transformers

    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "transformers": transformers.__version__}
    for name, fn, args in (("train", train, (batch, seq, reps)), ("decode", decode, (dbatch, prompt, steps))):
        try:
            res[name] = fn(*args)
        except Exception as e:  # report and go on: the other half is still worth having
            res[name] = {"error": f"{type(e).__name__}: {e}"}
        torch.cuda.empty_cache()
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
