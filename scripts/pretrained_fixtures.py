#!/usr/bin/python3
"""Fixtures for loading torchvision state_dicts into the stdlib models by their own names.

For each model below, builds torchvision's network at random initialisation (no download), fills
its state_dict from the deterministic generator `generated` (so the test regenerates the same
tensors instead of the repository storing megabytes of weights), runs it in float64 in eval
mode on a generated input and writes test/fixtures/pretrained/torchvision.json:

  generator   the generator's description (test/weights/generated.ts implements the same)
  models[]    {id, file, model, set, batch, state: [[name, shape], ...] (torchvision's state_dict
              keys in order, num_batches_tracked left out), logits: [batch][classes]}

Inputs are small (the `size` parameter of the stdlib models): torchvision's adaptive pools that
are the identity at 224 become nn.Identity and the first dense layer after them takes the
smaller flattened size; every tensor keeps its torchvision name.

Run: /usr/bin/python3 scripts/pretrained_fixtures.py   (Debian's torch 1.13, torchvision 0.14)
"""

import json
import os

import numpy as np
import torch
import torchvision.models as tvm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'pretrained', 'torchvision.json')
M32 = 0xFFFFFFFF
SEED = 2024
CLASSES = 10
BATCH = 2

GENERATOR = (
    'u(name, k) = lowbias32((fnv1a32(utf8(name)) ^ seed) + k * 0x9e3779b9 mod 2^32) >> 8, / 2^24; '
    'running_var and 1-D weight: 0.5 + u; running_mean and bias: (u - 0.5) * 0.2; '
    'weights of rank >= 2: (2u - 1) * sqrt(3 / fan_in); the input: 2u - 1; computed in float64, stored as float32'
)


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode('utf-8'):
        h = ((h ^ b) * 0x01000193) & M32
    return h


def lowbias32(x):
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(M32)
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & np.uint64(M32)
    return x ^ (x >> np.uint64(16))


def uniform(name, count, seed):
    k = np.arange(count, dtype=np.uint64)
    x = (np.uint64(fnv1a32(name) ^ seed) + k * np.uint64(0x9E3779B9)) & np.uint64(M32)
    return (lowbias32(x) >> np.uint64(8)).astype(np.float64) / 2.0 ** 24


def generated(name, shape, seed=SEED):
    count = int(np.prod(shape)) if len(shape) else 1
    u = uniform(name, count, seed)
    if name == 'input':
        v = 2 * u - 1
    elif name.endswith('running_var') or (name.endswith('weight') and len(shape) == 1):
        v = 0.5 + u
    elif name.endswith('running_mean') or name.endswith('bias'):
        v = (u - 0.5) * 0.2
    else:
        fan_in = int(np.prod(shape[1:]))
        v = (2 * u - 1) * np.sqrt(3 / fan_in)
    return v.astype(np.float32).reshape(shape)


def alexnet():
    m = tvm.alexnet(num_classes=CLASSES)
    m.avgpool = torch.nn.Identity()
    m.classifier[1] = torch.nn.Linear(256, 4096)
    return m


def vgg(build):
    def make():
        m = build(num_classes=CLASSES)
        m.avgpool = torch.nn.Identity()
        m.classifier[0] = torch.nn.Linear(512, 4096)
        return m
    return make


def googlenet():
    m = tvm.googlenet(num_classes=CLASSES, aux_logits=True, transform_input=False, init_weights=False)
    # 128x128 puts 8x8 maps under the auxiliary heads: cnnc's 5x5/3 pool gives 2x2x128.
    m.aux1.fc1 = torch.nn.Linear(512, 1024)
    m.aux2.fc1 = torch.nn.Linear(512, 1024)
    return m


def resnet(build):
    return lambda: build(num_classes=CLASSES)


# id, stdlib file, model, input size, torchvision builder
MODELS = [
    ('alexnet', 'alexnet', 'AlexNet', 63, alexnet),
    ('vgg16', 'vgg', 'VGG16', 32, vgg(tvm.vgg16)),
    ('vgg19', 'vgg', 'VGG19', 32, vgg(tvm.vgg19)),
    ('resnet18', 'resnet', 'ResNet18', 32, resnet(tvm.resnet18)),
    ('resnet34', 'resnet', 'ResNet34', 32, resnet(tvm.resnet34)),
    ('resnet50', 'resnet', 'ResNet50', 32, resnet(tvm.resnet50)),
    ('resnet101', 'resnet', 'ResNet101', 32, resnet(tvm.resnet101)),
    ('resnet152', 'resnet', 'ResNet152', 32, resnet(tvm.resnet152)),
    ('googlenet', 'inception', 'GoogLeNet', 128, googlenet),
]


def main():
    torch.manual_seed(0)
    models = []
    for ident, file, name, size, build in MODELS:
        net = build()
        state = {k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
        net.load_state_dict({k: torch.from_numpy(generated(k, list(v.shape))) for k, v in state.items()}, strict=False)
        net = net.double().eval()
        x = torch.from_numpy(generated('input', [BATCH, 3, size, size])).double()
        with torch.no_grad():
            logits = net(x)
        models.append({
            'id': ident,
            'file': f'stdlib/{file}.cnn',
            'model': name,
            'set': {'classes': CLASSES, 'size': size},
            'batch': BATCH,
            'state': [[k, list(v.shape)] for k, v in state.items()],
            'logits': [[float(np.float32(v)) for v in row] for row in logits.numpy()],
        })
        print(f'{ident}: {len(state)} tensors, logits[0][:3] {logits[0, :3].tolist()}')
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'torch': torch.__version__, 'seed': SEED, 'generator': GENERATOR, 'models': models}, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {OUT}: {os.path.getsize(OUT)} bytes')


if __name__ == '__main__':
    main()
