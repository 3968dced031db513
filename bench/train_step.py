"""Peer of `transfusion-native bench --vs-python`: the same training step in PyTorch from Python.

Same architecture (the CBR family as Raghu et al. describe it and as native/core/models/cbr.cc builds it: same-padded
KxK convs without bias, BatchNorm, ReLU, 3x3/2 padded max pools, global average pool, linear head; ResNet-50 and
Inception-v3 from torchvision), same batch, image size, optimiser (SGD, momentum 0.9, weight decay 1e-4), loss (BCE
with logits; Inception's auxiliary head weighted 0.4), thread count, device, precision (bf16 autocast) and memory
format; with --cuda-graph the step is captured as a CUDA graph after 3 warm-up steps on a side stream and replayed
(PyTorch's whole-network capture recipe), as the addon's `cudaGraph` does. Timing: the timed steps run back to back and
the device is waited for once at their end (the addon reads its losses back at progress points, not every step).
Also counts the forward FLOPs of one image (2 x multiply-adds of every conv and linear layer, by forward hooks).
Prints one JSON line: {"images_per_second", "flops_per_image", "torch", "device"}.
On CPU run it with Debian's interpreter (/usr/bin/python3: python3-torch, the same LibTorch 1.13 as the addon).
"""
import argparse
import json
import time

import torch
import torch.nn as nn

CBR = {  # name: (kernel, channels, pooled blocks)
    "cbr-larget": (7, (32, 64, 128, 256, 512), 4),
    "cbr-largew": (7, (64, 128, 256, 512), 4),
    "cbr-small": (7, (32, 64, 128, 256), 4),
    "cbr-tiny": (5, (32, 64, 128, 256), 4),
    "cbr-tiny-appendix": (5, (64, 128, 256, 512), 4),
}


def cbr(name):
    kernel, channels, pooled = CBR[name]
    layers, cin = [], 3
    for i, cout in enumerate(channels):
        layers += [nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        if i < pooled:
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1))


def build(name, size):
    if name in CBR:
        return cbr(name)
    import torchvision

    if name == "resnet50":
        return torchvision.models.resnet50(num_classes=1)
    if name == "inception_v3":
        # The auxiliary classifier needs 299 px; below that it is left out, as the addon does.
        return torchvision.models.inception_v3(num_classes=1, aux_logits=size >= 299, init_weights=False)
    if name == "densenet121":
        return torchvision.models.densenet121(num_classes=1)
    raise SystemExit(f"unknown model {name}")


def forward_flops(model, size, device):
    """2 x multiply-adds of every conv and linear layer for one image, counted by forward hooks."""
    total = [0]

    def conv(m, _inp, out):
        total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, _inp, out):
        total[0] += 2 * out.numel() * m.in_features

    hooks = [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(linear) for m in model.modules() if isinstance(m, nn.Linear)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=device))
    for h in hooks:
        h.remove()
    model.train()
    return total[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="cbr-small")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--cuda-graph", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model = build(a.model, a.size).to(device)
    flops = forward_flops(model, a.size, device)
    memory = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    images = torch.randn(a.batch, 3, a.size, a.size, device=device).contiguous(memory_format=memory)
    labels = (torch.rand(a.batch, 1, device=device) > 0.5).float()
    order = torch.arange(a.batch, device=device)

    def forward_backward(x, y):
        opt.zero_grad(set_to_none=True)
        # Without autocast's weight-cast cache: a captured graph must not keep casts made at capture time.
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == "bf16", cache_enabled=not a.cuda_graph):
            out = model(x)
            if isinstance(out, tuple) and out[1] is not None:  # Inception-v3 in training: (logits, aux logits)
                loss = loss_fn(out[0].float(), y) + 0.4 * loss_fn(out[1].float(), y)
            else:
                loss = loss_fn((out[0] if isinstance(out, tuple) else out).float(), y)
        loss.backward()
        opt.step()
        return loss.detach()

    def eager():
        return forward_backward(images.index_select(0, order), labels.index_select(0, order))  # the addon gathers too

    step = eager
    warmup = a.warmup
    if a.cuda_graph:
        if device.type != "cuda":
            raise SystemExit("--cuda-graph needs --device cuda")
        static_x, static_y = images.index_select(0, order), labels.index_select(0, order)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                forward_backward(static_x, static_y)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = forward_backward(static_x, static_y)

        def replay():
            static_x.copy_(images.index_select(0, order))
            static_y.copy_(labels.index_select(0, order))
            graph.replay()
            return static_loss.clone()

        step = replay
        warmup = max(0, warmup - 4)

    def wait(loss):
        return float(loss)  # waits for the device

    for _ in range(warmup):
        step()
    wait(step())
    t = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    wait(loss)
    elapsed = time.perf_counter() - t
    print(json.dumps({"images_per_second": a.steps * a.batch / elapsed, "flops_per_image": flops, "torch": torch.__version__,
                      "device": str(device)}))


if __name__ == "__main__":
    main()
