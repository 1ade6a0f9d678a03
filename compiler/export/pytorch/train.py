#!/usr/bin/env python3
"""Trains the exported model (model.py) with PyTorch, on one process or many.

    python3 train.py --data safetensors:train.safetensors --epochs 5 --batch 64
    torchrun --nproc_per_node 4 train.py --data folder:images@32x32x3 ...
    torchrun --nnodes 2 --node_rank R --master_addr HOST --nproc_per_node 8 train.py ...

Written by `cnnc export --to pytorch`; the options mean what `cnnc train`'s mean:
  --optimizer sgd | momentum | rmsprop | adam (torch.optim, L2 --weight-decay as cnnc's)
  --schedule constant | step:EVERY:GAMMA | cosine (per optimizer step)
  --batch is the global batch: each of N processes takes batch / N examples of it, DDP averages
  the gradients, so N processes take the same steps as one (models with batchnorm differ: each
  process normalises with its own examples' statistics).
  --seed orders the data (DistributedSampler: the same order for any number of processes).
A model that trains its input (style transfer's generated image) holds it as a parameter under
the input's name, [1, C, H, W], saved in the checkpoint with the weights.
Training starts from weights.safetensors beside this file (cnnc's initialisation, or the weights
given to the export), or --weights. Checkpoints are safetensors under cnnc's names: `cnnc eval
MODEL.cnn --weights checkpoint.safetensors --data ...` reads them.

Data specs: safetensors:PATH and npz:PATH (one array per field, batch axis first, e.g. `images`
N x C x H x W and `labels` N; a uint8 `images` field is scaled to [0, 1]); folder:PATH[@HxWxC] (one
sub-folder per class of PNG/JPEG images, fitted to HxW as cnnc fits them, values in [0, 1];
needs Pillow, whose JPEG decoder may differ from cnnc's in the last bit).
A model input or target reads the field of its own name; a sole input reads `images`, a class
target `labels`; --feed NAME=FIELD overrides.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as exported  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32,
          'I16': np.int16, 'I8': np.int8, 'U8': np.uint8, 'U16': np.uint16, 'U32': np.uint32, 'U64': np.uint64,
          'BOOL': np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    header.pop('__metadata__', None)
    out = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        arr = np.frombuffer(data, dtype=np.dtype(DTYPES[e['dtype']]).newbyteorder('<'), count=(end - begin) // np.dtype(DTYPES[e['dtype']]).itemsize, offset=8 + n + begin)
        out[name] = arr.reshape(e['shape']).copy()
    return out


def write_safetensors(path, tensors, metadata):
    """Atomic: a temporary file beside it, then a rename."""
    header = {'__metadata__': metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        blob = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': NAMES[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    temp = f'{path}.tmp-{os.getpid()}'
    with open(temp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def fit_image(rgba, h, w, c):
    """cnnc's fitImage (runtime/data/image.ts): box-shrink by whole factors, scale to cover,
    centre-crop, bilinear sampling at pixel centres; grey is 0.299 R + 0.587 G + 0.114 B."""
    src = rgba.astype(np.float64)
    k = int(min(src.shape[0] / h, src.shape[1] / w))
    if k >= 2:
        sh, sw = -(-src.shape[0] // k), -(-src.shape[1] // k)
        sums = np.zeros((sh, sw, 4))
        counts = np.zeros((sh, sw, 1))
        ys, xs = np.arange(src.shape[0]) // k, np.arange(src.shape[1]) // k
        np.add.at(sums, (ys[:, None], xs[None, :]), src)
        np.add.at(counts, (ys[:, None], xs[None, :]), 1)
        src = np.floor(sums / counts + 0.5)  # Math.round of non-negative values
    ih, iw = src.shape[:2]
    scale = max(h / ih, w / iw)
    sy = np.clip((np.arange(h) + (ih * scale - h) / 2 + 0.5) / scale - 0.5, 0, ih - 1)
    sx = np.clip((np.arange(w) + (iw * scale - w) / 2 + 0.5) / scale - 0.5, 0, iw - 1)
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    y1, x1 = np.minimum(y0 + 1, ih - 1), np.minimum(x0 + 1, iw - 1)
    fy, fx = (sy - y0)[:, None, None], (sx - x0)[None, :, None]
    top = src[y0][:, x0] * (1 - fx) + src[y0][:, x1] * fx
    bottom = src[y1][:, x0] * (1 - fx) + src[y1][:, x1] * fx
    rgba = (top * (1 - fy) + bottom * fy) / 255
    if c == 1:
        return (0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2])[None].astype(np.float32)
    return rgba[..., :c].transpose(2, 0, 1).astype(np.float32)


def read_folder(path, size):
    """One sub-folder per class (sorted: class 0, 1, ...), PNG/JPEG images fitted as cnnc fits them."""
    from PIL import Image
    h, w, c = size
    classes = sorted(d for d in os.listdir(path) if not d.startswith('.') and os.path.isdir(os.path.join(path, d)))
    images, labels = [], []
    for k, name in enumerate(classes):
        for file in sorted(os.listdir(os.path.join(path, name))):
            if not file.lower().endswith(('.png', '.jpg', '.jpeg')):
                continue
            rgba = np.asarray(Image.open(os.path.join(path, name, file)).convert('RGBA'))
            images.append(fit_image(rgba, h, w, c))
            labels.append(k)
    return {'images': np.stack(images), 'labels': np.array(labels, dtype=np.int64)}


def load_data(spec):
    """The data's fields by name; an unreadable path is one line naming it."""
    try:
        return read_data(spec)
    except OSError as e:
        sys.exit(f'train.py: --data {spec}: {e.strerror or e} ({e.filename or spec})')
    except (ValueError, KeyError, struct.error) as e:
        sys.exit(f'train.py: --data {spec}: not readable as its kind ({e})')


def read_data(spec):
    kind, _, rest = spec.partition(':')
    if kind == 'safetensors':
        fields = read_safetensors(rest)
    elif kind == 'npz':
        fields = dict(np.load(rest))
    elif kind == 'folder':
        path, _, size = rest.partition('@')
        fields = read_folder(path, tuple(int(s) for s in size.split('x')) if size else (32, 32, 3))
    else:
        sys.exit(f'train.py: unknown data spec {spec!r}: expected safetensors:PATH, npz:PATH or folder:PATH[@HxWxC]')
    # As cnnc's readers: a uint8 `images` field is pixels, scaled to [0, 1]; other integer fields are values (class indices, masks).
    if 'images' in fields and fields['images'].dtype == np.uint8:
        fields['images'] = fields['images'].astype(np.float32) / 255.0
    return fields


def bind(fields, overrides):
    """Model inputs and loss targets, in that order, as tensors from the data's fields."""
    wanted = list(exported.INPUTS) + list(exported.TARGETS)
    out = []
    for name in wanted:
        field = overrides.get(name, name)
        if field not in fields and name in exported.INPUTS and len(exported.INPUTS) == 1:
            field = 'images'
        if field not in fields and name in exported.TARGETS and exported.TARGETS[name][1] == 'int64':
            field = 'labels'
        if field not in fields:
            sys.exit(f'train.py: the data has no field for {name!r} (fields: {", ".join(fields)}); use --feed {name}=FIELD')
        a = fields[field]
        shape = exported.INPUTS[name] if name in exported.INPUTS else exported.TARGETS[name][0]
        if name in exported.INPUTS and a.ndim == len(shape):  # one channel without its axis
            a = a[:, None]
        if tuple(a.shape[1:]) != tuple(shape):
            sys.exit(f'train.py: field {field!r} has examples of shape {list(a.shape[1:])}, {name!r} needs {list(shape)}')
        dtype = torch.int64 if name in exported.TARGETS and exported.TARGETS[name][1] == 'int64' else torch.float32
        out.append(torch.as_tensor(np.ascontiguousarray(a)).to(dtype))
    return out


def make_optimizer(args, params):
    if args.optimizer == 'sgd':
        return torch.optim.SGD(params, lr=args.lr, weight_decay=args.weight_decay)
    if args.optimizer == 'momentum':
        return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if args.optimizer == 'rmsprop':
        return torch.optim.RMSprop(params, lr=args.lr, alpha=0.99, eps=1e-8, weight_decay=args.weight_decay)
    if args.optimizer == 'adam':
        return torch.optim.Adam(params, lr=args.lr, eps=1e-8, weight_decay=args.weight_decay)
    sys.exit(f'train.py: --optimizer expects sgd, momentum, rmsprop or adam, got {args.optimizer!r}')


def make_schedule(spec, optimizer, total_steps):
    if spec == 'constant':
        return None
    if spec == 'cosine':
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=0.0)
    kind, _, rest = spec.partition(':')
    if kind == 'step' and rest:
        every, gamma = rest.split(':')
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(every), gamma=float(gamma))
    sys.exit(f'train.py: --schedule expects constant, step:EVERY:GAMMA or cosine, got {spec!r}')


def accuracy_counts(net, batch):
    """(correct, count) of the first cross-entropy output, or None when the loss has none."""
    if 'cross_entropy' not in exported.LOSSES:
        return None
    inputs, targets = batch[:len(exported.INPUTS)], batch[len(exported.INPUTS):]
    out = net(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    label = targets[list(exported.TARGETS).index(next(k for k, (s, d) in exported.TARGETS.items() if d == 'int64'))]
    return int((out.argmax(1) == label).sum()), len(label)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--test', help='held-out data to report accuracy and loss on after training')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--steps', type=int, help='stop after this many optimizer steps')
    p.add_argument('--batch', type=int, default=64, help='global batch (split over the processes)')
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--optimizer', default='momentum')
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--weight-decay', type=float, default=0.0)
    p.add_argument('--schedule', default='constant')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--weights', default=os.path.join(HERE, 'weights.safetensors'))
    p.add_argument('--out', default='checkpoint.safetensors')
    p.add_argument('--feed', action='append', default=[], metavar='NAME=FIELD')
    p.add_argument('--device', choices=('cpu', 'cuda'), default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='cuda: one GPU per process (LOCAL_RANK under torchrun), NCCL between them; cpu: gloo')
    args = p.parse_args()
    if not exported.LOSSES:
        sys.exit(f'train.py: {exported.MODEL.__name__} declares no loss, so there is nothing to train (model.py serves inference and weights)')

    distributed = 'WORLD_SIZE' in os.environ
    rank, world = 0, 1
    device = torch.device(args.device)
    if distributed:
        dist.init_process_group('nccl' if args.device == 'cuda' else 'gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
        if args.device == 'cuda':
            device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
            torch.cuda.set_device(device)
    if args.batch % world:
        sys.exit(f'train.py: --batch {args.batch} does not split over {world} processes')
    torch.manual_seed(args.seed)

    net = exported.MODEL()
    state = {k: torch.from_numpy(v) for k, v in read_safetensors(args.weights).items() if not k.startswith('optimizer/')}
    missing, _ = net.load_state_dict(state, strict=False)
    if missing:
        sys.exit(f'train.py: {args.weights} has no {", ".join(missing[:5])}')
    net.to(device)
    model = DistributedDataParallel(WithLoss(net), find_unused_parameters=exported.PARAMETERS_OUTSIDE_LOSS) if distributed else WithLoss(net)

    overrides = dict(f.split('=', 1) for f in args.feed)
    data = TensorDataset(*bind(load_data(args.data), overrides))
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = DataLoader(data, batch_size=args.batch // world, sampler=sampler, drop_last=True)
    steps_per_epoch = len(loader)
    total = steps_per_epoch * args.epochs if args.steps is None else min(args.steps, steps_per_epoch * args.epochs)
    optimizer = make_optimizer(args, [q for q in net.parameters() if q.requires_grad])
    schedule = make_schedule(args.schedule, optimizer, steps_per_epoch * args.epochs)

    step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for batch in loader:
            if step >= total:
                break
            optimizer.zero_grad()
            loss = model(*[b.to(device) for b in batch])
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            step += 1
            mean = loss.detach().clone()
            if distributed:
                dist.all_reduce(mean)
                mean /= world
            if rank == 0:
                print(f'step {step} epoch {epoch + 1} loss {mean.item():.6f} lr {optimizer.param_groups[0]["lr"]:.6g}', flush=True)
        if step >= total:
            break

    if rank == 0:
        tensors = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
        write_safetensors(args.out, tensors, {'format': 'pt', 'trained_by': 'train.py', 'steps': str(step)})
        print(f'wrote {args.out}', flush=True)
        if args.test:
            evaluate(net, TensorDataset(*bind(load_data(args.test), overrides)), device)
    if distributed:
        dist.destroy_process_group()


class WithLoss(torch.nn.Module):
    """The model and its loss as one module: DDP synchronises gradients of what its forward computes."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, *batch):
        n = len(exported.INPUTS)
        return self.net.loss(self.net.values(*batch[:n]), dict(zip(exported.TARGETS, batch[n:])))


def evaluate(net, data, device):
    net.eval()
    correct = count = 0
    with torch.no_grad():
        for batch in DataLoader(data, batch_size=256):
            c = accuracy_counts(net, [b.to(device) for b in batch])
            if c is None:
                return
            correct += c[0]
            count += c[1]
    print(f'test accuracy {100.0 * correct / count:.2f}% ({correct} of {count})', flush=True)


if __name__ == '__main__':
    main()
