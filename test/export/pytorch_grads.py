#!/usr/bin/python3
"""Loss, outputs and gradients of an exported model (cnnc export --to pytorch) for one batch.

    pytorch_grads.py DIR BATCH.safetensors OUT.safetensors [DIR BATCH OUT]...

Loads DIR/model.py and DIR/weights.safetensors, reads the model's inputs and targets by name from
BATCH, runs values() and loss() in train mode in float64 and writes `loss`, `output/<name>` and
`grad/<parameter>`, and the same in float32 as `loss32`, `output32/...`, `grad32/...`. test/export/pytorch.test.ts compares them with cnnc's CPU reference.
"""

import importlib.util
import os
import sys

import numpy as np
import torch

def run(directory, batch_path, out_path):
    sys.path.insert(0, directory)
    sys.modules.pop('model', None)  # each folder has its own model.py
    spec = importlib.util.spec_from_file_location(f'train_{len(sys.path)}', os.path.join(directory, 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    sys.path.remove(directory)
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


args = sys.argv[1:]
for i in range(0, len(args), 3):
    run(*args[i:i + 3])
