"""Peer for bench/train-step.js: the same CBR-Small training step in PyTorch from Python.

Same architecture (7x7 same-padded convs without bias, BatchNorm, ReLU, 3x3/2 padded max pools, global average
pool, linear head), same batch, image size, optimiser (SGD, momentum 0.9, weight decay 1e-4), loss (BCE with logits)
and thread count. Prints one JSON line: {"images_per_second": ...}.
Run with Debian's interpreter: /usr/bin/python3 (python3-torch, the same LibTorch as the addon).
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def cbr_small():
    layers, cin = [], 3
    for cout in (32, 64, 128, 256):
        layers += [nn.Conv2d(cin, cout, 7, padding=3, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=False),
                   nn.MaxPool2d(3, stride=2, padding=1)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = cbr_small().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    images = torch.randn(a.batch, 3, a.size, a.size)
    labels = (torch.rand(a.batch, 1) > 0.5).float()
    order = torch.arange(a.batch)

    def step():
        x, y = images.index_select(0, order), labels.index_select(0, order)  # the addon gathers its batch too
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    elapsed = 0.0
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        elapsed += time.perf_counter() - t
    print(json.dumps({"images_per_second": a.steps * a.batch / elapsed, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
