#!/usr/bin/python3
"""Saves torchvision's VGG-19 feature extractor as safetensors for `cnnc stylize`, names unchanged
(`features.0.weight`, ...): stdlib/style_transfer.names maps them onto the model.

  /usr/bin/python3 scripts/vgg19_to_safetensors.py vgg19.safetensors
      ImageNet weights (torchvision downloads IMAGENET1K_V1, 548 MB, once, into ~/.cache/torch)
  /usr/bin/python3 scripts/vgg19_to_safetensors.py --random [--width 16] [--seed 0] OUT
      random initialisation, no download; --width narrows every stage (64 is VGG-19's first
      stage; later ones double) as `--set filters=W` does in the model

Only `features.*` is written (80 MB at full width); the classifier is not used by style transfer.
Needs torch and torchvision (Debian: python3-torch python3-torchvision).
"""

import argparse
import os
import sys

import torch
import torchvision.models as tvm
from torchvision.models.vgg import VGG, make_layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fixtures import write_safetensors  # noqa: E402

# torchvision's configuration 'E' (VGG-19): widths, 'M' for max pooling.
VGG19 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M']


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out')
    parser.add_argument('--random', action='store_true', help='random initialisation instead of the ImageNet weights')
    parser.add_argument('--width', type=int, default=64, help='first stage width (with --random)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.random:
        cfg = [v if v == 'M' else v * args.width // 64 for v in VGG19]
        net = VGG(make_layers(cfg), num_classes=10)
    else:
        if args.width != 64:
            parser.error('--width needs --random: the ImageNet weights are full width')
        net = tvm.vgg19(weights='IMAGENET1K_V1')
    tensors = {k: v.numpy() for k, v in net.state_dict().items() if k.startswith('features.')}
    origin = 'random init' if args.random else 'torchvision IMAGENET1K_V1'
    write_safetensors(args.out, tensors, {'format': 'pt', 'origin': f'{origin}, width {args.width}, seed {args.seed}'})
    count = sum(v.size for v in tensors.values())
    print(f'wrote {args.out}: {len(tensors)} tensors, {count:,} parameters ({origin})')


if __name__ == '__main__':
    main()
