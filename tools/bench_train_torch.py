#!/usr/bin/python3
"""PyTorch side of `sushi bench train`: builds the same layer list (JSON written by sushi) and times fp32
training steps (forward, backward, SGD Nesterov) on random data. Prints one JSON object:
{"images_per_s": X}. Usage: bench_train_torch.py LAYERS.json BATCH THREADS STEPS"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def act(x, a):
    if a == "relu":
        return F.relu(x)
    if a == "h_swish":
        return F.hardswish(x)
    if a == "h_sigmoid":
        return F.hardsigmoid(x)
    return x


class Net(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers
        self.convs = nn.ModuleDict()
        self.bns = nn.ModuleDict()
        for i, l in enumerate(layers):
            if l["weights"]:
                groups = l["in_c"] if l["kind"] == "depthwise" else 1
                self.convs[str(i)] = nn.Conv2d(l["in_c"], l["out_c"], l["kernel"], l["stride"], l["pad"],
                                               groups=groups, bias=l["bias"])
            if l["bn"]:
                self.bns[str(i)] = nn.BatchNorm2d(l["out_c"])

    def forward(self, x):
        outs = []
        for i, l in enumerate(self.layers):
            a = x if l["input"] < 0 else outs[l["input"]]
            k = l["kind"]
            if l["weights"]:
                y = self.convs[str(i)](a)
            elif k == "global_pool":
                y = a.mean((2, 3), keepdim=True)
            elif k == "se_scale":
                y = a * outs[l["input2"]]
            elif k == "add":
                y = a + (x if l["input2"] < 0 else outs[l["input2"]])
            else:
                raise SystemExit("unsupported layer kind " + k)
            if l["bn"]:
                y = self.bns[str(i)](y)
            outs.append(act(y, l["act"]))
        return outs[-1].flatten(1)


def main():
    layers = json.load(open(sys.argv[1]))
    batch, threads, steps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Net(layers["layers"])
    r = layers["resolution"]
    x = torch.rand(batch, layers["input_channels"], r, r)
    y = torch.randint(0, layers["classes"], (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=3e-5)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()

    step()
    t0 = time.process_time() if threads == 1 else time.perf_counter()
    w0 = time.perf_counter()
    for _ in range(steps):
        step()
    wall = time.perf_counter() - w0
    print(json.dumps({"images_per_s": batch * steps / wall, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
