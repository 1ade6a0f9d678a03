"""The PyTorch peer of `npm run bench -- cpu`: trains a bench model (bench/models.ts, given as JSON
on the first line of stdin) on the CPU with a fixed thread count, then serves timing requests so
the benchmark can interleave it with cnnc's back ends.

Protocol (one line each way): `train N` or `forward N` -> the wall-clock and CPU seconds (all
threads) N steps took, after each step's loss is a Python float; `quit` ends. Run with /usr/bin/python3 (Debian python3-torch).
"""

import json
import sys
import time

import torch
import torch.nn.functional as F


def same_pads(size, kernel, stride):
    """TensorFlow's 'same' padding (before, after) on one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class BenchNet(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.layers = model["layers"]
        h, w, c = model["inputShape"]
        shapes = {"input": (c, h, w)}
        previous = "input"
        self.mods = torch.nn.ModuleDict()
        self.pads = {}
        for layer in self.layers:
            src = layer.get("from", [previous])
            c, h, w = shapes[src[0]]
            kind, name = layer["kind"], layer["name"]
            if kind == "conv":
                k, s = layer["kernel"], layer["stride"]
                if layer["padding"] == "same":
                    (t, b), (l, r) = same_pads(h, k, s), same_pads(w, k, s)
                else:
                    t = b = l = r = 0
                self.pads[name] = (l, r, t, b)
                self.mods[name] = torch.nn.Conv2d(c, layer["filters"], k, s, bias=layer["bias"])
                h, w, c = (h + t + b - k) // s + 1, (w + l + r - k) // s + 1, layer["filters"]
            elif kind == "maxpool":
                h, w = (h - layer["size"]) // layer["stride"] + 1, (w - layer["size"]) // layer["stride"] + 1
            elif kind == "batchnorm":
                self.mods[name] = torch.nn.BatchNorm2d(c, eps=layer["epsilon"], momentum=layer["momentum"])
            elif kind == "flatten":
                c, h, w = c * h * w, 1, 1
            elif kind == "global_avgpool":
                h, w = 1, 1
            elif kind == "dense":
                self.mods[name] = torch.nn.Linear(c * h * w, layer["units"], bias=layer["bias"])
                c, h, w = layer["units"], 1, 1
            shapes[name] = (c, h, w)
            previous = name

    def forward(self, x):
        values = {"input": x}
        previous = "input"
        for layer in self.layers:
            src = [values[s] for s in layer.get("from", [previous])]
            kind, name = layer["kind"], layer["name"]
            y = src[0]
            if kind == "conv":
                if any(self.pads[name]):
                    y = F.pad(y, self.pads[name])
                y = self.mods[name](y)
            elif kind == "maxpool":
                y = F.max_pool2d(y, layer["size"], layer["stride"])
            elif kind == "batchnorm":
                y = self.mods[name](y)
            elif kind == "relu":
                y = F.relu(y)
            elif kind == "flatten":
                y = torch.flatten(y, 1)
            elif kind == "global_avgpool":
                y = y.mean(dim=(2, 3))
            elif kind == "dense":
                y = self.mods[name](torch.flatten(y, 1))
            elif kind == "add":
                y = src[0] + src[1]
            # The softmax of the last layer is part of the cross-entropy loss below.
            if layer.get("activation") == "relu":
                y = F.relu(y)
            values[name] = y
            previous = name
        return y


def main():
    spec = json.loads(sys.stdin.readline())
    model, threads = spec["model"], spec["threads"]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = BenchNet(model)
    h, w, c = model["inputShape"]
    n = model["batch"]
    images = torch.randn(n, c, h, w)
    labels = torch.randint(0, model["classes"], (n,))
    sgd = torch.optim.SGD(net.parameters(), lr=model["optimizer"]["learningRate"])

    def train_step():
        sgd.zero_grad()
        loss = F.cross_entropy(net(images), labels)
        loss.backward()
        sgd.step()
        return loss.item()

    def forward_step():
        with torch.no_grad():
            return float(net(images)[0, 0])

    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        step = train_step if words[0] == "train" else forward_step
        if words[0] == "train":
            net.train()
        else:
            net.eval()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(int(words[1])):
            step()
        print(time.perf_counter() - start, time.process_time() - cpu, flush=True)


if __name__ == "__main__":
    main()
