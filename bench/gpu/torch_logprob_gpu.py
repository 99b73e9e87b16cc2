"""PyTorch CUDA peer for the fused log-prob/entropy benchmark (bf16 logits).

log_softmax (fp32 compute, as a careful trainer would) + gather + entropy,
forward and forward+backward, timed with CUDA events. Prints one JSON object.
Usage: python3 torch_logprob_gpu.py N V REPS
"""
import json
import sys

import torch


def main():
    n, v, reps = (int(x) for x in sys.argv[1:4])
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(0)
    logits = (torch.randn(n, v, generator=g, device=dev) * 3).to(torch.bfloat16)
    targets = torch.randint(0, v, (n,), generator=g, device=dev)

    def fwd(x):
        lp = torch.log_softmax(x.float(), dim=-1)
        logp = lp.gather(1, targets[:, None])[:, 0]
        ent = -(lp.exp() * lp).sum(-1)
        return logp, ent

    def timed(fn):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn()
            e.record()
            torch.cuda.synchronize()
            times.append(s.elapsed_time(e))
        times.sort()
        return times[len(times) // 2]

    with torch.no_grad():
        fwd_ms = timed(lambda: fwd(logits))

    def fwd_bwd():
        x = logits.detach().requires_grad_(True)
        logp, ent = fwd(x)
        (logp.sum() + ent.sum()).backward()

    fb_ms = timed(fwd_bwd)
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "n": n, "v": v,
                      "dtype": "bf16", "forward_ms": fwd_ms, "forward_backward_ms": fb_ms,
                      "forward_ms_per_million_tokens": fwd_ms * 1e6 / n}))


if __name__ == "__main__":
    main()
