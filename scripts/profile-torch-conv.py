#!/usr/bin/env python3
"""PyTorch's (oneDNN) convolution passes at WRN-16-8's shapes, batch 32, as the anchor of
packages/backend-native/scripts/profile-conv-passes.cc (issue 10): median ms per pass, forward, input gradient,
filter gradient (aten.convolution_backward with one output each), on the given thread count.
Run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset:  /usr/bin/python3 scripts/profile-torch-conv.py --threads=1 [--reps=5]"""
import argparse
import time

import torch

SHAPES = [  # name, h, ci, co, k, stride, pad, count per step
    ("stem 3x3 3->16 32x32", 32, 3, 16, 3, 1, 1, 1),
    ("3x3 16->128 32x32", 32, 16, 128, 3, 1, 1, 1),
    ("1x1 16->128 32x32", 32, 16, 128, 1, 1, 0, 1),
    ("3x3 128->128 32x32", 32, 128, 128, 3, 1, 1, 3),
    ("3x3 s2 128->256 32->16", 32, 128, 256, 3, 2, 1, 1),
    ("1x1 s2 128->256 32->16", 32, 128, 256, 1, 2, 0, 1),
    ("3x3 256->256 16x16", 16, 256, 256, 3, 1, 1, 3),
    ("3x3 s2 256->512 16->8", 16, 256, 512, 3, 2, 1, 1),
    ("1x1 s2 256->512 16->8", 16, 256, 512, 1, 2, 0, 1),
    ("3x3 512->512 8x8", 8, 512, 512, 3, 1, 1, 3),
]


def median_ms(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n = 32
    tot = [0.0, 0.0, 0.0]
    print(f"torch {torch.__version__}, {a.threads} thread(s); shape | fwd ms | dgrad ms | wgrad ms | GFLOP/s fwd/dgrad/wgrad")
    with torch.no_grad():
        for name, h, ci, co, k, s, pad, count in SHAPES:
            x = torch.randn(n, ci, h, h)
            w = torch.randn(co, ci, k, k)
            y = torch.nn.functional.conv2d(x, w, stride=s, padding=pad)
            dy = torch.randn_like(y)
            oh = y.shape[2]
            flop = 2.0 * n * oh * oh * k * k * ci * co

            def back(mask):
                return lambda: torch.ops.aten.convolution_backward(
                    dy, x, w, None, [s, s], [pad, pad], [1, 1], False, [0, 0], 1, mask)

            ms = [median_ms(lambda: torch.nn.functional.conv2d(x, w, stride=s, padding=pad), a.reps),
                  median_ms(back([True, False, False]), a.reps), median_ms(back([False, True, False]), a.reps)]
            for i in range(3):
                tot[i] += ms[i] * count
            print(f"{name} | {ms[0]:.2f} | {ms[1]:.2f} | {ms[2]:.2f} | " + "/".join(f"{flop / m / 1e6:.0f}" for m in ms), flush=True)
    print(f"total per step: fwd {tot[0]:.0f} ms, dgrad {tot[1]:.0f} ms, wgrad {tot[2]:.0f} ms")


if __name__ == "__main__":
    main()
