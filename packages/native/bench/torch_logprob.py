"""PyTorch CPU peer for the fused log-prob/entropy benchmark.

Times log_softmax + gather + entropy (forward) and the same with autograd
backward, on the same shapes as the rlvr benchmark. Prints one JSON object.
Run with Debian's python3 (python3-torch): /usr/bin/python3 torch_logprob.py N V THREADS REPS
"""
import json
import sys
import time

import torch


def main():
    n, v, threads, reps = (int(x) for x in sys.argv[1:5])
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(n, v, generator=g) * 3
    targets = torch.randint(0, v, (n,), generator=g)

    def fwd(x):
        logp_all = torch.log_softmax(x, dim=-1)
        logp = logp_all.gather(1, targets[:, None])[:, 0]
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        return logp, entropy

    def timed(fn):
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        return best * 1e3

    with torch.no_grad():
        fwd_ms = timed(lambda: fwd(logits))

    def fwd_bwd():
        x = logits.detach().requires_grad_(True)
        logp, entropy = fwd(x)
        (logp.sum() + entropy.sum()).backward()

    fwd_bwd_ms = timed(fwd_bwd)
    print(json.dumps({"torch": torch.__version__, "threads": threads, "n": n, "v": v,
                      "forward_ms": fwd_ms, "forward_backward_ms": fwd_bwd_ms}))


if __name__ == "__main__":
    main()
