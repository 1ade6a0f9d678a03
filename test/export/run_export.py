#!/usr/bin/python3
"""Runs exported models (cnnc export --to pytorch) for test/export/pytorch.test.ts.

    run_export.py grads DIR BATCH.safetensors OUT.safetensors [DIR BATCH OUT]...
    run_export.py forward DIR INPUTS.safetensors OUT.safetensors [DIR INPUTS OUT]...

grads: loads DIR/model.py and DIR/weights.safetensors, reads the model's inputs and targets by
name from BATCH, runs values() and loss() in train mode in float64 and writes `loss`,
`output/<name>` and `grad/<parameter>`, and the same in float32 as `loss32`, `output32/...`,
`grad32/...`. forward: eval-mode outputs in float64 as `output/<name>`.
"""

import importlib.util
import os
import sys

import numpy as np
import torch


def load(directory):
    """DIR's train.py and, through it, DIR's model.py (each folder has its own)."""
    sys.path.insert(0, directory)
    sys.modules.pop('model', None)
    spec = importlib.util.spec_from_file_location(f'train_{len(sys.path)}', os.path.join(directory, 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    sys.path.remove(directory)
    return train


def grads(directory, batch_path, out_path):
    train = load(directory)
    exported = train.exported
    weights = train.read_safetensors(os.path.join(directory, 'weights.safetensors'))
    batch = train.read_safetensors(batch_path)
    out = {}
    # float64 is the reference; float32 says how far rounding alone moves each gradient.
    for dtype, prefix in ((torch.float64, ''), (torch.float32, '32')):
        net = exported.MODEL().to(dtype)
        net.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in weights.items()})
        net.train()
        inputs = [torch.from_numpy(batch[n]).to(dtype) for n in exported.INPUTS]
        targets = {n: torch.from_numpy(batch[n]).to(torch.int64 if d == 'int64' else dtype) for n, (_, d) in exported.TARGETS.items()}
        values = net.values(*inputs)
        loss = net.loss(values, targets)
        loss.backward()
        out[f'loss{prefix}'] = np.array(loss.item(), dtype=np.float32)
        for name in exported.OUTPUTS:
            out[f'output{prefix}/{name}'] = values[name].detach().float().numpy()
        for name, p in net.named_parameters():
            if p.grad is not None:
                out[f'grad{prefix}/{name}'] = p.grad.float().numpy()
    train.write_safetensors(out_path, out, {})


def forward(directory, inputs_path, out_path):
    train = load(directory)
    exported = train.exported
    net = exported.MODEL().double()
    net.load_state_dict({k: torch.from_numpy(v).double() for k, v in train.read_safetensors(os.path.join(directory, 'weights.safetensors')).items()})
    net.eval()
    inputs = train.read_safetensors(inputs_path)
    with torch.no_grad():
        values = net.values(*[torch.from_numpy(inputs[n]).double() for n in exported.INPUTS])
    train.write_safetensors(out_path, {f'output/{n}': values[n].float().numpy() for n in exported.OUTPUTS}, {})


mode, args = {'grads': grads, 'forward': forward}[sys.argv[1]], sys.argv[2:]
for i in range(0, len(args), 3):
    mode(*args[i:i + 3])
