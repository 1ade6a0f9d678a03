#!/usr/bin/python3
"""Eval-mode outputs of exported models (cnnc export --to pytorch), in float64.

    pytorch_forward.py DIR INPUTS.safetensors OUT.safetensors [DIR INPUTS OUT]...

Writes `output/<name>` for each model output; test/export/pytorch.test.ts compares them with
cnnc's CPU reference.
"""

import importlib.util
import os
import sys

import torch


def run(directory, inputs_path, out_path):
    sys.path.insert(0, directory)
    sys.modules.pop('model', None)  # each folder has its own model.py
    spec = importlib.util.spec_from_file_location(f'train_{len(sys.path)}', os.path.join(directory, 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    sys.path.remove(directory)
    exported = train.exported
    net = exported.MODEL().double()
    net.load_state_dict({k: torch.from_numpy(v).double() for k, v in train.read_safetensors(os.path.join(directory, 'weights.safetensors')).items()})
    net.eval()
    inputs = train.read_safetensors(inputs_path)
    with torch.no_grad():
        values = net.values(*[torch.from_numpy(inputs[n]).double() for n in exported.INPUTS])
    train.write_safetensors(out_path, {f'output/{n}': values[n].float().numpy() for n in exported.OUTPUTS}, {})


args = sys.argv[1:]
for i in range(0, len(args), 3):
    run(*args[i:i + 3])
