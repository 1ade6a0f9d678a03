#!/usr/bin/python3
"""PyTorch reference fixtures for the cnnc IR and CPU executor.

Reads test/fixtures/torch/graphs.json (the typed graphs of the fixture models, written by
`node bin/run-ts.js test/ir/export-graphs.ts`), runs each model in PyTorch (float64 on the CPU,
inputs and weights drawn as float32) and writes test/fixtures/torch/<id>.safetensors with:

  feed/<name>     per-batch inputs (images; labels as I64 class indices; loss targets)
  param/<name>    every parameter and running statistic, and trainable inputs, before the step
  loss            the scalar loss (train mode: batch statistics)
  grad/<name>     d loss / d every trainable tensor (frozen layers get none), and d loss / d each
                  model input (feed), which cnnc grad does not report but the tests check
  output/<layer>  each model output
  state/<name>    running statistics after the forward pass (momentum update, unbiased variance)
  sgd/<name>, adam/<name>  trainable tensors after one torch.optim.SGD / Adam step (models with
                  "steps"); learning rates in the file's metadata.
  run/<config>/<name>  trainable tensors after RUN_STEPS steps on the same batch for each config in
                  OPTIMIZER_RUNS (models with "optimizers"): momentum, RMSprop, Adam, weight decay,
                  step and cosine schedules. test/ir/torch-fixtures.test.ts mirrors these configs.

Run: /usr/bin/python3 scripts/torch_fixtures.py   (PyTorch 1.13, CPU). Deterministic (seeded).
Debian has no python safetensors: the format is written with numpy below.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'torch')
LR_SGD = 0.1
LR_ADAM = 0.01

RUN_STEPS = 3
OPTIMIZER_RUNS = {
    'momentum_wd': lambda ps: (torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01), None),
    'rmsprop_wd': lambda ps: (torch.optim.RMSprop(ps, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.01), None),
    'adam_wd_steplr': lambda ps: (lambda o: (o, torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)))(
        torch.optim.Adam(ps, lr=0.01, weight_decay=0.01)),
    'sgd_cosine': lambda ps: (lambda o: (o, torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01)))(
        torch.optim.SGD(ps, lr=0.1)),
}

DTYPES = {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64'}


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        data = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': DTYPES[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def ir_shape(shape, batch):
    """Channels-last without batch -> PyTorch layout with batch (as compiler/lower/layout.ts)."""
    if len(shape) <= 1:
        return [batch] + list(shape)
    return [batch, shape[-1]] + list(shape[:-1])


def torch_pad(before, after):
    """F.pad's argument: last axis first."""
    out = []
    for b, a in reversed(list(zip(before, after))):
        out += [b, a]
    return out


class Model:
    def __init__(self, spec, rng):
        self.spec = spec
        self.graph = spec['graph']
        self.batch = spec['batch']
        self.rng = rng
        self.layers = {l['name']: l for l in self.graph['layers']}
        self.params = {}  # name -> float64 tensor (leaf)
        self.trainable = []
        for layer in self.graph['layers']:
            for p in layer['params']:
                self.params[p['name']] = self.init_param(p)
                if p['trainable']:
                    self.trainable.append(p['name'])
        self.feeds = {}
        for inp in self.graph['inputs']:
            x = self.f32(rng.standard_normal(ir_shape(inp['shape'], self.batch)))
            if inp['trainable']:
                self.params[inp['name']] = x
                self.trainable.append(inp['name'])
            else:
                self.feeds[inp['name']] = x

    @staticmethod
    def f32(a):
        return torch.tensor(np.asarray(a, dtype=np.float32), dtype=torch.float64)

    def init_param(self, p):
        shape, role, rng = p['shape'], p['role'], self.rng
        if role == 'weight':
            fan_in = int(np.prod(shape[1:]))
            return self.f32(rng.uniform(-1, 1, shape) * np.sqrt(3.0 / fan_in))
        if role in ('bias', 'beta'):
            return self.f32(rng.uniform(-0.5, 0.5, shape))
        if role == 'gamma':
            return self.f32(rng.uniform(0.5, 1.5, shape))
        if role == 'running_mean':
            return self.f32(rng.standard_normal(shape) * 0.1)
        if role == 'running_var':
            return self.f32(rng.uniform(0.5, 1.5, shape))
        raise ValueError(role)

    def owned(self, layer, role):
        owner = self.layers.get(layer['paramOwner'], layer)
        for p in owner['params']:
            if p['role'] == role:
                return p['name']
        raise KeyError(f"{layer['name']} has no {role}")

    def targets(self):
        """Per-batch targets of the loss terms, drawn once."""
        out = {}
        for term in self.graph['loss']:
            t = term['target']
            if t is None or t['name'] in out:
                continue
            shape = ir_shape(t['shape'], self.batch)
            if term['fn'] == 'cross_entropy':
                classes = None
                arg = self.layers[term['args'][0]]
                classes = arg['shape'][0]
                out[t['name']] = torch.tensor(self.rng.integers(0, classes, shape), dtype=torch.int64)
            elif term['fn'] == 'localization':
                n, f = shape
                y = np.zeros(shape, dtype=np.float32)
                y[:, 0] = (np.arange(n) % 2 == 0)
                y[:, 1:5] = self.rng.uniform(0, 1, (n, 4))
                y[np.arange(n), 5 + self.rng.integers(0, f - 5, n)] = 1
                out[t['name']] = self.f32(y)
            else:
                out[t['name']] = self.f32(self.rng.standard_normal(shape))
        return out

    def forward(self, params, feeds, state):
        """Runs the graph in train mode; `state` holds running statistics, updated in place."""
        values = {}
        for inp in self.graph['inputs']:
            values[inp['name']] = params[inp['name']] if inp['trainable'] else feeds[inp['name']]
        for layer in self.graph['layers']:
            xs = [values[n] for n in layer['inputs']]
            values[layer['name']] = self.layer(layer, xs, params, state)
        return values

    def layer(self, layer, xs, params, state):
        a = layer['attrs']
        op = a['op']
        x = xs[0]
        if op == 'conv':
            conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[a['rank']]
            x = F.pad(x, torch_pad(a['padBefore'], a['padAfter']))
            b = params[self.owned(layer, 'bias')] if a['bias'] else None
            return conv(x, params[self.owned(layer, 'weight')], b, stride=a['stride'], dilation=a['dilation'])
        if op == 'conv_transpose':
            assert a['padBefore'] == a['padAfter'], 'transposed convolutions pad symmetrically'
            conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[a['rank']]
            b = params[self.owned(layer, 'bias')] if a['bias'] else None
            return conv(x, params[self.owned(layer, 'weight')], b, stride=a['stride'], padding=a['padBefore'],
                        output_padding=a['outputPadding'], dilation=a['dilation'])
        if op in ('maxpool', 'avgpool'):
            assert a['padBefore'] == a['padAfter'], 'fixtures use symmetric pool padding'
            r = a['rank']
            if op == 'maxpool':
                fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[r]
                return fn(x, a['kernel'], a['stride'], a['padBefore'], ceil_mode=a['ceil'])
            fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[r]
            return fn(x, a['kernel'], a['stride'], a['padBefore'], ceil_mode=a['ceil'], count_include_pad=False)
        if op == 'global_avgpool':
            return x.mean(dim=tuple(range(2, x.dim())))
        if op == 'global_maxpool':
            return x.amax(dim=tuple(range(2, x.dim())))
        if op == 'dense':
            b = params[self.owned(layer, 'bias')] if a['bias'] else None
            return F.linear(x, params[self.owned(layer, 'weight')], b)
        if op == 'batchnorm':
            rm, rv = self.owned(layer, 'running_mean'), self.owned(layer, 'running_var')
            training = not layer['frozen']
            return F.batch_norm(x, state[rm], state[rv], params[self.owned(layer, 'gamma')], params[self.owned(layer, 'beta')],
                                training=training, momentum=a['momentum'], eps=a['eps'])
        if op == 'relu':
            return F.relu(x)
        if op == 'leaky_relu':
            return F.leaky_relu(x, a['alpha'])
        if op == 'tanh':
            return torch.tanh(x)
        if op == 'sigmoid':
            return torch.sigmoid(x)
        if op == 'softmax':
            return F.softmax(x, dim=1)
        if op == 'linear':
            return x
        if op == 'flatten':
            return x.flatten(1)
        if op == 'add':
            out = xs[0]
            for y in xs[1:]:
                out = out + y
            return out
        if op == 'concat':
            return torch.cat(xs, dim=1)
        if op == 'l2_normalize':
            return F.normalize(x, dim=1, eps=1e-12)
        if op == 'reshape':
            return x.reshape(ir_shape(layer['shape'], x.shape[0]))
        if op == 'zero_pad':
            return F.pad(x, torch_pad(a['padBefore'], a['padAfter']))
        if op == 'space_to_depth':
            b = a['block']
            n, c, h, w = x.shape
            y = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
            return y.reshape(n, b * b * c, h // b, w // b)
        if op == 'upsample':
            return F.interpolate(x, scale_factor=tuple(float(s) for s in a['scale']), mode='nearest')
        raise ValueError(f'no PyTorch lowering for {op}')

    def loss(self, values, targets):
        total = 0
        for term in self.graph['loss']:
            fn, args = term['fn'], term['args']
            tgt = targets.get(term['target']['name']) if term['target'] else None
            if fn == 'cross_entropy':
                layer = self.layers[args[0]]
                if layer['attrs']['op'] == 'softmax':
                    v = F.cross_entropy(values[layer['inputs'][0]], tgt)
                else:
                    v = F.nll_loss(torch.log(values[args[0]]), tgt)
            elif fn == 'mse':
                ref = values[args[1]] if len(args) > 1 else tgt
                v = F.mse_loss(values[args[0]], ref)
            elif fn == 'triplet':
                a, p, n = (values[k] for k in args)
                d = ((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + term['options'].get('alpha', 0.2)
                v = F.relu(d).mean()
            elif fn == 'content':
                g = values[args[0]]
                c = values[args[1]] if len(args) > 1 else tgt
                v = ((c - g) ** 2).sum() / (4 * np.prod(g.shape[1:])) / g.shape[0]
            elif fn == 'style':
                def gram(t):
                    f = t.reshape(t.shape[0], t.shape[1], -1)
                    return f @ f.transpose(1, 2)
                g = values[args[0]]
                gs = gram(values[args[1]]) if len(args) > 1 else tgt
                c, hw = g.shape[1], int(np.prod(g.shape[2:]))
                v = ((gs - gram(g)) ** 2).sum() / (4 * c * c * hw * hw) / g.shape[0]
            elif fn == 'localization':
                y = values[args[0]]
                pc = tgt[:, 0]
                obj = F.binary_cross_entropy_with_logits(y[:, 0], pc, reduction='none')
                box = ((y[:, 1:5] - tgt[:, 1:5]) ** 2).sum(1)
                cls = F.cross_entropy(y[:, 5:], tgt[:, 5:], reduction='none')
                v = (obj + pc * (box + cls)).mean()
            else:
                raise ValueError(f'no PyTorch loss for {fn}')
            total = total + term['weight'] * v
        return total


def run(spec, seed):
    rng = np.random.default_rng(seed)
    m = Model(spec, rng)
    targets = m.targets()
    roles = {p['name']: p['role'] for l in m.graph['layers'] for p in l['params']}
    running = [n for n, r in roles.items() if r in ('running_mean', 'running_var')]
    out = {}
    for k, v in m.feeds.items():
        out[f'feed/{k}'] = v.float().numpy()
    for k, v in targets.items():
        out[f'feed/{k}'] = v.numpy() if v.dtype == torch.int64 else v.float().numpy()
    for k, v in m.params.items():
        out[f'param/{k}'] = v.float().numpy()

    def step(optimizer_kind):
        params = {k: v.clone().requires_grad_(k in m.trainable) for k, v in m.params.items()}
        state = {k: params[k].detach().clone() for k in running}
        feeds = {k: v.clone().requires_grad_(True) for k, v in m.feeds.items()}
        values = m.forward(params, feeds, state)
        loss = m.loss(values, targets)
        opt = None
        if optimizer_kind == 'sgd':
            opt = torch.optim.SGD([params[k] for k in m.trainable], lr=LR_SGD)
        elif optimizer_kind == 'adam':
            opt = torch.optim.Adam([params[k] for k in m.trainable], lr=LR_ADAM)
        loss.backward()
        if opt is not None:
            opt.step()
        return params, state, values, loss, feeds

    params, state, values, loss, feeds = step(None)
    for k, v in feeds.items():
        out[f'grad/{k}'] = v.grad.float().numpy() if v.grad is not None else np.zeros(v.shape, dtype=np.float32)
    out['loss'] = np.array(loss.item(), dtype=np.float32)
    for k in m.trainable:
        out[f'grad/{k}'] = params[k].grad.float().numpy()
    for k in running:
        out[f'state/{k}'] = state[k].float().numpy()
    for name in m.graph['outputs']:
        out[f'output/{name}'] = values[name].detach().float().numpy()
    if spec.get('steps'):
        for kind in ('sgd', 'adam'):
            p, _, _, _, _ = step(kind)
            for k in m.trainable:
                out[f'{kind}/{k}'] = p[k].detach().float().numpy()
    if spec.get('optimizers'):
        for config, make in OPTIMIZER_RUNS.items():
            params = {k: v.clone().requires_grad_(k in m.trainable) for k, v in m.params.items()}
            opt, sched = make([params[k] for k in m.trainable])
            for _ in range(RUN_STEPS):
                opt.zero_grad()
                state = {k: params[k].detach().clone() for k in running}
                m.loss(m.forward(params, m.feeds, state), targets).backward()
                opt.step()
                if sched is not None:
                    sched.step()
                for k in running:
                    params[k] = state[k]
            for k in m.trainable:
                out[f'run/{config}/{k}'] = params[k].detach().float().numpy()
    meta = {'model': spec['model'], 'batch': str(spec['batch']), 'lr_sgd': str(LR_SGD), 'lr_adam': str(LR_ADAM),
            'torch': torch.__version__}
    return out, meta


def main():
    torch.set_default_dtype(torch.float64)
    with open(os.path.join(FIXTURES, 'graphs.json')) as f:
        specs = json.load(f)
    only = set(sys.argv[1:])
    for i, spec in enumerate(specs):
        if only and spec['id'] not in only:
            continue
        tensors, meta = run(spec, 1000 + i)
        path = os.path.join(FIXTURES, spec['id'] + '.safetensors')
        write_safetensors(path, tensors, meta)
        print(f"{spec['id']}: loss {float(tensors['loss']):.6f}, {len(tensors)} tensors, {os.path.getsize(path)} bytes")


if __name__ == '__main__':
    main()
