#!/usr/bin/python3
"""Fixture for neural style transfer's feature extractor: torchvision's VGG-19 `features` at random
initialisation (no download), its state_dict filled by the deterministic generator of
scripts/pretrained_fixtures.py (the test regenerates the same 20M weights instead of the
repository storing 80 MB), run in float64 on a generated 32x32 input. Writes
test/fixtures/style/vgg19_features.safetensors: the activations after conv1_1, conv2_1, conv3_1,
conv4_1 and conv5_1 (before their ReLU), each flattened [1, C, H, W] and sampled every STRIDE-th
value to keep the file small. Metadata says the seed, size, stride and the state_dict's key form.

Run: /usr/bin/python3 scripts/style_fixtures.py   (Debian's torch 1.13, torchvision 0.14)
"""

import os
import sys

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pretrained_fixtures import SEED, generated  # noqa: E402
from torch_fixtures import write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'style', 'vgg19_features.safetensors')
SIZE = 32
STRIDE = 5
# Index in torchvision's vgg19().features of each convolution the style cost reads.
LAYERS = {'conv1_1': 0, 'conv2_1': 5, 'conv3_1': 10, 'conv4_1': 19, 'conv5_1': 28}


def main():
    torch.manual_seed(0)
    vgg = tvm.vgg19()
    # The whole model's names (`features.0.weight`): what `torch.save(vgg19().state_dict())` holds.
    state = {k: v for k, v in vgg.state_dict().items() if k.startswith('features.')}
    vgg.load_state_dict({k: torch.from_numpy(generated(k, list(v.shape), SEED)) for k, v in state.items()}, strict=False)
    features = vgg.features.double().eval()
    x = torch.from_numpy(generated('input', [1, 3, SIZE, SIZE], SEED)).double()
    out = {}
    with torch.no_grad():
        for i, layer in enumerate(features):
            x = layer(x)
            for name, index in LAYERS.items():
                if index == i:
                    out[name] = x.reshape(-1)[::STRIDE].float().numpy()
            if i == max(LAYERS.values()):
                break
    meta = {'seed': str(SEED), 'size': str(SIZE), 'stride': str(STRIDE), 'names': 'features.N', 'torch': torch.__version__}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_safetensors(OUT, out, meta)
    print(f'wrote {OUT}: ' + ', '.join(f'{k} {v.size}' for k, v in out.items()))


if __name__ == '__main__':
    main()
