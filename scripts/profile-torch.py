#!/usr/bin/env python3
"""PyTorch's per-op split of one training step (issue 10): the anchor of scripts/bench-torch.py (same model,
WRN-16-8 at batch 32 or LeNet-5-Caffe at batch 100, masks at 5 %, SGD Nesterov 0.9 + wd 5e-4, mask multiply),
under torch.autograd.profiler. --eval: the forward pass in inference mode (no_grad, eval()) instead.

    OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= /usr/bin/python3 scripts/profile-torch.py --threads=1 [--model=wrn16-8|lenet5]
        [--steps=3] [--shapes] [--eval]

Prints the profiler's self-CPU time per op (averaged over the profiled steps), grouped by input shape with
--shapes, and the median step time without the profiler.
"""
import importlib.util
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def arg(name, default):
    for a in sys.argv[1:]:
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return default


spec = importlib.util.spec_from_file_location("bench_torch", os.path.join(os.path.dirname(__file__), "bench-torch.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def main():
    torch.set_num_threads(int(arg("threads", "1")))
    steps = int(arg("steps", "3"))
    make, shape, batch, lr, _ = bench.MODELS[arg("model", "wrn16-8")]
    evaluate = "--eval" in sys.argv
    torch.manual_seed(1)
    model = make()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    masks = {n: (torch.rand_like(p) < 0.05).float() for n, p in model.named_parameters() if p.dim() in (2, 4)}
    params = dict(model.named_parameters())
    for n, m in masks.items():
        params[n].data.mul_(m)
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))

    def train_step():
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        for n, m in masks.items():
            params[n].data.mul_(m)
        loss.item()

    def eval_step():
        with torch.no_grad():
            F.log_softmax(model(x), dim=1).sum().item()

    if evaluate:
        model.eval()
    step = eval_step if evaluate else train_step
    step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        for _ in range(steps):
            step()
    shapes = "--shapes" in sys.argv
    table = prof.key_averages(group_by_input_shape=shapes).table(sort_by="self_cpu_time_total", row_limit=60)
    print(table)
    total = sum(e.self_cpu_time_total for e in prof.key_averages()) / 1000 / steps
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {'eval forward' if evaluate else 'train step'}: median step {statistics.median(times):.1f} ms "
          f"(no profiler); profiled self-CPU total per step {total:.1f} ms; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
