#!/usr/bin/python3
"""PyTorch reference fixtures for cnnc's detection code (test/fixtures/detection/*.json).

  yolo_loss.json  the YOLOv2 loss as YAD2K's yolo_loss defines it, and its gradient, on a random
                  output and a target with a few assigned boxes (some predictions overlap a true
                  box by IoU > 0.6, so the no-object mask is exercised).
  box_iou.json    torchvision.ops.box_iou on random corner boxes.
  nms.json        torchvision.ops.batched_nms (per class) and nms (class-agnostic) on random
                  boxes, scores and classes, at several IoU thresholds.

The loss is written here from the formulas (YAD2K, keras_yolo.py), not from cnnc's lowering:
  output y [N, A*(5+C), S, S] holds per anchor [tx, ty, tw, th, to, class logits] ... in cnnc's
  channel order [to, tx, ty, tw, th, c1..cC] (objectness first, as the course writes pc first).
  target t has the same layout: [detector mask, x - col, y - row, log(w / anchor w),
  log(h / anchor h), one-hot class], box units are grid cells.
  pred xy = sigmoid(txy) + cell, wh = exp(twh) * anchor; confidence = sigmoid(to);
  class probabilities = softmax(class logits).
  no-object weight = 1 * (1 - [best IoU with any true box > 0.6]) * (1 - mask)
  loss = 0.5 * sum(5 * mask * (1 - conf)^2 + no-object weight * conf^2
                   + 1 * mask * (onehot - probs)^2
                   + 1 * mask * ((sigmoid(txy), twh) - target box)^2)
  divided by the batch size (cnnc averages every loss term over the batch; YAD2K sums).
The IoU mask is a comparison, so no gradient flows through it (as in Keras).

Run: /usr/bin/python3 scripts/detection_fixtures.py   (PyTorch 1.13, torchvision 0.14, CPU).
"""

import json
import os

import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'detection')


def yolo_loss(y, t, anchors, classes):
    n, ch, s_h, s_w = y.shape
    a = len(anchors)
    y = y.view(n, a, 5 + classes, s_h, s_w)
    t = t.view(n, a, 5 + classes, s_h, s_w)
    anchors = torch.tensor(anchors, dtype=y.dtype).view(1, a, 2, 1, 1)
    col = torch.arange(s_w, dtype=y.dtype).view(1, 1, 1, s_w)
    row = torch.arange(s_h, dtype=y.dtype).view(1, 1, s_h, 1)
    conf = torch.sigmoid(y[:, :, 0])
    txy = torch.sigmoid(y[:, :, 1:3])
    twh = y[:, :, 3:5]
    probs = torch.softmax(y[:, :, 5:], dim=2)
    mask = t[:, :, 0]

    # Predicted and true boxes in grid units, centre form.
    px = txy[:, :, 0] + col
    py = txy[:, :, 1] + row
    pw = torch.exp(twh[:, :, 0]) * anchors[:, :, 0]
    ph = torch.exp(twh[:, :, 1]) * anchors[:, :, 1]
    tx = t[:, :, 1] + col
    ty = t[:, :, 2] + row
    tw = torch.exp(t[:, :, 3]) * anchors[:, :, 0]
    th = torch.exp(t[:, :, 4]) * anchors[:, :, 1]

    best = torch.zeros(n, a, s_h, s_w, dtype=y.dtype)
    with torch.no_grad():
        for i in range(n):
            true_idx = mask[i].nonzero(as_tuple=False)
            for (ta, tr, tc) in true_idx.tolist():
                bx, by, bw, bh = tx[i, ta, tr, tc], ty[i, ta, tr, tc], tw[i, ta, tr, tc], th[i, ta, tr, tc]
                ix = (torch.min(px[i] + pw[i] / 2, bx + bw / 2) - torch.max(px[i] - pw[i] / 2, bx - bw / 2)).clamp(min=0)
                iy = (torch.min(py[i] + ph[i] / 2, by + bh / 2) - torch.max(py[i] - ph[i] / 2, by - bh / 2)).clamp(min=0)
                inter = ix * iy
                iou = inter / (pw[i] * ph[i] + bw * bh - inter)
                best[i] = torch.max(best[i], iou)
    detected = (best > 0.6).to(y.dtype)
    no_object = (1 - detected) * (1 - mask)
    conf_loss = 5 * mask * (1 - conf) ** 2 + 1 * no_object * conf ** 2
    class_loss = 1 * mask.unsqueeze(2) * (t[:, :, 5:] - probs) ** 2
    coord_loss = 1 * mask.unsqueeze(2) * (torch.cat([txy, twh], dim=2) - t[:, :, 1:5]) ** 2
    total = 0.5 * (conf_loss.sum() + class_loss.sum() + coord_loss.sum())
    return total / n, int(((detected > 0) & (mask == 0)).sum())


def loss_fixture():
    g = torch.Generator().manual_seed(15)
    n, s, classes = 2, 4, 3
    anchors = [[1.0, 1.5], [2.5, 1.2], [0.6, 0.7]]
    a = len(anchors)
    per = 5 + classes
    y = (torch.rand(n, a * per, s, s, generator=g, dtype=torch.float64) * 2 - 1)
    t = torch.zeros(n, a * per, s, s, dtype=torch.float64)
    # Boxes: (image, anchor, row, col, x offset, y offset, w, h, class); w, h in grid units.
    boxes = [(0, 0, 1, 2, 0.3, 0.6, 1.1, 1.4, 0), (0, 1, 3, 0, 0.5, 0.5, 2.0, 1.0, 2),
             (1, 2, 0, 0, 0.8, 0.2, 0.5, 0.9, 1), (1, 0, 2, 2, 0.1, 0.9, 1.3, 1.6, 2),
             (1, 1, 2, 3, 0.4, 0.4, 3.0, 1.5, 0)]
    for (i, ai, r, c, ox, oy, w, h, k) in boxes:
        base = ai * per
        t[i, base, r, c] = 1
        t[i, base + 1, r, c] = ox
        t[i, base + 2, r, c] = oy
        t[i, base + 3, r, c] = np.log(w / anchors[ai][0])
        t[i, base + 4, r, c] = np.log(h / anchors[ai][1])
        t[i, base + 5 + k, r, c] = 1
        # The prediction of another anchor of the same cell nearly matches the box: its IoU is
        # above 0.6, so it is not penalised as no-object.
        na = (ai + 1) % a
        nb = na * per
        y[i, nb + 1, r, c] = float(np.log(ox / (1 - ox)))
        y[i, nb + 2, r, c] = float(np.log(oy / (1 - oy)))
        y[i, nb + 3, r, c] = float(np.log(w * 1.05 / anchors[na][0]))
        y[i, nb + 4, r, c] = float(np.log(h * 0.97 / anchors[na][1]))
    y.requires_grad_(True)
    loss, ignored = yolo_loss(y, t, anchors, classes)
    loss.backward()
    return {
        'shape': list(y.shape), 'anchors': anchors, 'classes': classes,
        'output': y.detach().flatten().tolist(), 'target': t.flatten().tolist(),
        'loss': float(loss), 'grad': y.grad.flatten().tolist(), 'ignored': ignored,
    }


def random_boxes(g, count, size=100.0):
    xy = torch.rand(count, 2, generator=g, dtype=torch.float64) * size
    wh = torch.rand(count, 2, generator=g, dtype=torch.float64) * size * 0.4 + 1
    return torch.cat([xy, xy + wh], dim=1)


def iou_fixture():
    g = torch.Generator().manual_seed(3)
    a = random_boxes(g, 12)
    b = random_boxes(g, 9)
    # Some exact duplicates and a contained box.
    b[0] = a[0]
    b[1] = torch.tensor([a[1, 0] + 1, a[1, 1] + 1, a[1, 2] - 1, a[1, 3] - 1], dtype=torch.float64)
    return {'a': a.tolist(), 'b': b.tolist(), 'iou': torchvision.ops.box_iou(a, b).tolist()}


def nms_fixture():
    g = torch.Generator().manual_seed(7)
    cases = []
    for count, classes, thr in [(40, 3, 0.5), (60, 4, 0.3), (60, 1, 0.45), (50, 2, 0.5)]:
        boxes = random_boxes(g, count, 60.0)
        scores = torch.rand(count, generator=g, dtype=torch.float64)
        labels = torch.randint(0, classes, (count,), generator=g)
        keep = torchvision.ops.batched_nms(boxes, scores, labels, thr)
        agnostic = torchvision.ops.nms(boxes, scores, thr)
        cases.append({'boxes': boxes.tolist(), 'scores': scores.tolist(), 'classes': labels.tolist(), 'iou': thr,
                      'keep': keep.tolist(), 'keepAgnostic': agnostic.tolist()})
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in [('yolo_loss', loss_fixture()), ('box_iou', iou_fixture()), ('nms', nms_fixture())]:
        with open(os.path.join(OUT, name + '.json'), 'w') as f:
            json.dump(data, f, separators=(',', ':'))
            f.write('\n')
        print('wrote', name)


if __name__ == '__main__':
    main()
