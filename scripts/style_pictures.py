#!/usr/bin/python3
"""The two pictures of docs/style-transfer.md, drawn from code so the repository needs no
photographs: a content picture (a house under a sun on green hills) and a style picture (swirling
strokes in blue and yellow). Writes docs/images/style-content.png and docs/images/style-style.png.

Run: /usr/bin/python3 scripts/style_pictures.py   (Debian's numpy and PIL)
"""

import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'docs', 'images')
SIZE = 256


def content():
    img = Image.new('RGB', (SIZE, SIZE))
    d = ImageDraw.Draw(img)
    for y in range(SIZE):  # sky: pale to deep blue
        t = y / SIZE
        d.line([(0, y), (SIZE, y)], fill=(int(120 + 100 * t), int(170 + 60 * t), 235))
    d.ellipse([180, 24, 228, 72], fill=(250, 220, 90))
    d.pieslice([-80, 150, 200, 360], 180, 360, fill=(70, 150, 60))
    d.pieslice([90, 165, 360, 370], 180, 360, fill=(50, 125, 50))
    d.rectangle([0, 215, SIZE, SIZE], fill=(60, 135, 55))
    d.rectangle([70, 140, 160, 215], fill=(200, 80, 60))
    d.polygon([(60, 142), (115, 95), (170, 142)], fill=(110, 60, 45))
    d.rectangle([100, 175, 125, 215], fill=(90, 55, 35))
    d.rectangle([135, 160, 152, 177], fill=(240, 240, 200))
    return img


def style():
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    swirl = np.sin(12 * x + 4 * np.sin(6 * y)) + np.sin(10 * y + 5 * np.cos(5 * x)) + 0.5 * np.sin(40 * (x + y))
    t = (swirl - swirl.min()) / (swirl.max() - swirl.min())
    palette = np.array([[20, 40, 110], [40, 90, 170], [90, 150, 210], [230, 200, 80], [250, 235, 150]], dtype=np.float64)
    pos = t * (len(palette) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(palette) - 2)
    f = (pos - lo)[..., None]
    rgb = palette[lo] * (1 - f) + palette[lo + 1] * f
    return Image.fromarray(rgb.astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    content().save(os.path.join(OUT, 'style-content.png'), optimize=True)
    style().save(os.path.join(OUT, 'style-style.png'), optimize=True)
    print(f'wrote {OUT}/style-content.png, style-style.png')
