"""PyTorch peer of the paper's step (run_paper_step.sh): transformers `generate` of `rows`
responses of exactly `response` tokens (EOS suppressed: min_new_tokens) after one shared
`prompt`-token prompt at temperature 0.6, then a plain GRPO update over them (bf16 autocast over
fp32 master weights, micro-batches of `micro` responses, group-normalized advantages on random
rewards, KL to a frozen bf16 reference, fused AdamW). Qwen2.5-1.5B shapes, random weights.
A slice of rlvr's rows at the same lengths: compare tokens/s, not seconds.
Usage: python3 torch_grpo_step.py [rows=32] [prompt=200] [response=1024] [micro=4]
"""
import json
import sys
import time

import torch

from torch_model_gpu import make_model, sync_time


@torch.no_grad()
def rollout(m, rows, prompt, response):
    g = torch.Generator(device="cuda").manual_seed(3)
    p = torch.randint(0, 151936, (1, prompt), generator=g, device="cuda").expand(rows, prompt)
    t0 = sync_time()
    out = m.generate(input_ids=p, attention_mask=torch.ones_like(p), do_sample=True, temperature=0.6, top_p=1.0,
                     top_k=0, max_new_tokens=response, min_new_tokens=response, pad_token_id=0)
    t1 = sync_time()
    return out, t1 - t0


def update(policy, ref, seqs, prompt, micro):
    rows = seqs.shape[0]
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-6, weight_decay=0.01, fused=True)
    rewards = torch.randint(0, 2, (rows,), device="cuda").float()
    adv = ((rewards - rewards.mean()) / (rewards.std() + 1e-6))[:, None]
    t0 = sync_time()
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        ref_lp = []
        for i in range(0, rows, micro):
            lg = ref(input_ids=seqs[i:i + micro]).logits[:, prompt - 1:-1].float() / 0.6
            ref_lp.append(torch.log_softmax(lg, -1).gather(-1, seqs[i:i + micro, prompt:, None])[..., 0])
    t1 = sync_time()
    n_tok = seqs[:, prompt:].numel()
    for i in range(0, rows, micro):
        s = seqs[i:i + micro]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            lg = policy(input_ids=s).logits[:, prompt - 1:-1]
        lp_all = torch.log_softmax(lg.float() / 0.6, -1)
        lp = lp_all.gather(-1, s[:, prompt:, None])[..., 0]
        ent = -(lp_all.exp() * lp_all).sum(-1)
        ratio = torch.exp(lp - lp.detach())
        d = ref_lp[i // micro] - lp
        kl = torch.exp(d) - d - 1.0
        loss = ((-(adv[i:i + micro] * ratio) + 0.001 * kl - 0.001 * ent).sum()) / n_tok
        loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0, foreach=True)
    opt.step()
    opt.zero_grad(set_to_none=True)
    t2 = sync_time()
    return t1 - t0, t2 - t1


def main():
    a = [int(x) for x in sys.argv[1:5]]
    rows, prompt, response, micro = a + [32, 200, 1024, 4][len(a):]
    import transformers

    res = {"bench": "torch-grpo-step", "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "transformers": transformers.__version__, "rows": rows, "prompt": prompt, "response": response, "micro": micro}
    try:
        gen = make_model(torch.bfloat16).eval()
        seqs, t_roll = rollout(gen, rows, prompt, response)
        del gen
        torch.cuda.empty_cache()
        res["rollout_s"] = t_roll
        res["rollout_tokens_per_s"] = rows * response / t_roll
        ref = make_model(torch.bfloat16).eval()
        policy = make_model(torch.float32).train()
        params = sum(p.numel() for p in policy.parameters())
        t_ref, t_upd = update(policy, ref, seqs, prompt, micro)
        trained = rows * (prompt + response)
        res.update({"ref_logp_s": t_ref, "update_s": t_upd, "update_tokens": trained, "params": params,
                    "update_mfu": 6 * params * trained / t_upd / 989e12,
                    "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30})
    except Exception as e:  # report what was measured before the failure
        res["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
