#!/usr/bin/env python3
"""PyTorch anchor for `npm run bench` (issue 10): the step time of the same models, batch sizes and masking.

Run by scripts/bench.mjs when `/usr/bin/python3` (or SPARSE_LEARNING_BENCH_PYTHON) imports torch (Debian:
`apt-get install python3-torch`); never needed by the tests. One training step is what the official Sparse
Momentum code does per batch: forward, `F.nll_loss(F.log_softmax(...))`, backward, SGD (Nesterov 0.9, weight
decay 5e-4) `optimizer.step()`, then `Masking.apply_mask()` (`weight.data *= mask`) for the masked runs.

    python3 scripts/bench-torch.py --threads=2 --steps=30 [--models=lenet300,lenet300-dense,lenet5,wrn16-8]

Prints one line `TORCH_RESULT {json}`: per model the median / fastest step in ms, the median CPU time of the
process per step (all threads; less sensitive to other jobs on a shared machine) and the number of steps.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def arg(name, default):
    for a in sys.argv[1:]:
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return default


class LeNet300100(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 300), nn.Linear(300, 100), nn.Linear(100, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), dim=1)


class LeNet5Caffe(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
        self.fc3, self.fc4 = nn.Linear(800, 500), nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc4(F.relu(self.fc3(x.view(-1, 800)))), dim=1)


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride, drop):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(inp), nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(out), nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.drop, self.equal = drop, inp == out
        self.short = None if self.equal else nn.Conv2d(inp, out, 1, stride, 0, bias=False)

    def forward(self, x):
        o = F.relu(self.bn1(x))
        h = F.relu(self.bn2(self.conv1(o)))
        h = self.conv2(F.dropout(h, p=self.drop, training=self.training))
        return (x if self.equal else self.short(o)) + h


class WideResNet(nn.Module):
    def __init__(self, depth=16, k=8, drop=0.3):
        super().__init__()
        n, ch = (depth - 4) // 6, [16, 16 * k, 32 * k, 64 * k]
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        blocks = []
        for g, stride in enumerate([1, 2, 2]):
            for i in range(n):
                blocks.append(BasicBlock(ch[g] if i == 0 else ch[g + 1], ch[g + 1], stride if i == 0 else 1, drop))
        self.blocks = nn.Sequential(*blocks)
        self.bn1, self.fc = nn.BatchNorm2d(ch[3]), nn.Linear(ch[3], 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.blocks(self.conv1(x))))
        return F.log_softmax(self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1)), dim=1)


MODELS = {
    # key: (constructor, input shape (NCHW without batch), batch, learning rate, masked)
    "lenet300": (LeNet300100, (1, 28, 28), 100, 0.01, True),
    "lenet300-dense": (LeNet300100, (1, 28, 28), 100, 0.01, False),
    "lenet5": (LeNet5Caffe, (1, 28, 28), 100, 0.01, True),
    "wrn16-8": (WideResNet, (3, 32, 32), 32, 0.1, True),
}


def bench(key, steps, warm):
    make, shape, batch, lr, masked = MODELS[key]
    torch.manual_seed(1)
    model = make()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    # Sparse Momentum's masks: every conv/linear weight at 5 % density (uniform per layer).
    masks = {}
    if masked:
        for name, p in model.named_parameters():
            if p.dim() in (2, 4):
                masks[name] = (torch.rand_like(p) < 0.05).float()
                p.data.mul_(masks[name])
    params = dict(model.named_parameters())
    batches = [(torch.randn(batch, *shape), torch.randint(0, 10, (batch,))) for _ in range(2)]
    times, cpu = [], []
    for i in range(warm + steps):
        x, y = batches[i % 2]
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        for name, m in masks.items():
            params[name].data.mul_(m)
        loss.item()
        if i >= warm:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    return {"medianMs": statistics.median(times), "minMs": min(times), "cpuMs": statistics.median(cpu), "steps": len(times)}


def main():
    threads = int(arg("threads", "0")) or torch.get_num_threads()
    torch.set_num_threads(threads)
    steps = int(arg("steps", "30"))
    keys = arg("models", ",".join(MODELS)).split(",")
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "models": {}}
    for key in keys:
        if key not in MODELS:
            out["models"][key] = {"error": f"unknown model {key}; known: {', '.join(MODELS)}"}
            continue
        n = max(3, steps // 10) if key == "wrn16-8" else steps
        out["models"][key] = bench(key, n, 1 if key == "wrn16-8" else 3)
    print("TORCH_RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
