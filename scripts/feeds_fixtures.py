"""Writes the NumPy files the .npy/.npz reader is tested against (test/data/feeds.test.ts).

Run with Debian's python3: /usr/bin/python3 scripts/feeds_fixtures.py
Values follow simple formulas the test recomputes: x[n, h, w, c] = n + h / 10 + w / 100 + c / 1000.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'feeds')
os.makedirs(OUT, exist_ok=True)

n, h, w, c = np.meshgrid(np.arange(3), np.arange(4), np.arange(5), np.arange(2), indexing='ij')
x = (n + h / 10 + w / 100 + c / 1000).astype(np.float32)  # (3, 4, 5, 2), channels last
y = np.array([[1], [0], [1]], dtype=np.int64)  # Keras keeps labels as (N, 1)
half = np.array([0.5, -2.0, 65504.0], dtype=np.float16)
flags = np.array([True, False, True])
wide = np.arange(6, dtype=np.float64).reshape(3, 2) * 0.25

np.savez_compressed(os.path.join(OUT, 'sample.npz'), x=x, y=y, half=half, flags=flags, wide=wide)
np.save(os.path.join(OUT, 'big-endian.npy'), np.arange(3, dtype='>f4'))
np.save(os.path.join(OUT, 'fortran.npy'), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(os.path.join(OUT, 'strings.npy'), np.array(['cat', 'dog']))  # '<U3': no tensor
np.save(os.path.join(OUT, 'structured.npy'), np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(os.path.join(OUT, 'labels.npy'), np.array([2, 0, 1, 1], dtype=np.int64))  # small: Node reads it into a shared pool
