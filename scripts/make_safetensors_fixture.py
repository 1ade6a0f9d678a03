#!/usr/bin/python3
"""Writes test/data/fixtures/numpy.safetensors, an independent check of cnnc's safetensors reader.

The file is laid out as huggingface/safetensors' Python writer does (tensors ordered by element
size then name, header padded with spaces to 8 bytes), using numpy for the bytes and torch for
bfloat16. Values follow simple formulas that test/data/safetensors.test.ts recomputes.
Run: /usr/bin/python3 scripts/make_safetensors_fixture.py
"""
import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'data', 'fixtures', 'numpy.safetensors')


def tensors():
    a = np.arange(24, dtype=np.float64)
    return {
        # name: (safetensors dtype, shape, raw little-endian bytes)
        'conv1.weight': ('F32', [2, 3, 2, 2], ((a - 12) * 0.25).astype('<f4').tobytes()),
        'conv1.bias': ('F32', [2], np.array([0.5, -1.5], dtype='<f4').tobytes()),
        'double': ('F64', [3], np.array([1 / 3, -2.5, 1e300], dtype='<f8').tobytes()),
        'half': ('F16', [4], np.array([1.0, -0.5, 65504.0, 0.1], dtype='<f2').tobytes()),
        'brain': ('BF16', [3], torch.tensor([1.0, -3.0, 0.1], dtype=torch.bfloat16).view(torch.int16).numpy().astype('<i2').tobytes()),
        'step': ('I64', [], np.array(123456789012, dtype='<i8').tobytes()),
        'labels': ('I32', [5], np.array([0, 9, -1, 2147483647, 7], dtype='<i4').tobytes()),
        'pixels': ('U8', [2, 2], np.array([[0, 255], [128, 7]], dtype=np.uint8).tobytes()),
        'signed': ('I8', [2], np.array([-128, 127], dtype=np.int8).tobytes()),
        'mask': ('BOOL', [3], np.array([True, False, True], dtype=np.bool_).tobytes()),
        'empty': ('F32', [0, 3], b''),
    }


SIZES = {'F64': 8, 'I64': 8, 'F32': 4, 'I32': 4, 'F16': 2, 'BF16': 2, 'U8': 1, 'I8': 1, 'BOOL': 1}


def main():
    items = sorted(tensors().items(), key=lambda kv: (-SIZES[kv[1][0]], kv[0]))
    header = {'__metadata__': {'format': 'pt', 'writer': 'numpy'}}
    offset = 0
    for name, (dtype, shape, raw) in items:
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(OUT, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for _, (_, _, raw) in items:
            f.write(raw)
    print(f'wrote {OUT} ({8 + len(text) + offset} bytes)')


if __name__ == '__main__':
    main()
