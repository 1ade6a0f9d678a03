#!/usr/bin/python3
"""Reference parameter counts for the cnnc standard library (issue 3).

Writes test/stdlib/reference-params.json: for every stdlib model, the total, trainable and
non-trainable parameter counts of the public implementation it matches.

Counting follows Keras: batchnorm running mean and variance are parameters, non-trainable.
PyTorch's `parameters()` leaves buffers out, so each entry also records `torchParameters`
(the sum over `parameters()` alone) and the total adds every buffer except
`num_batches_tracked`.

Sources:
  - torchvision 0.14 (Debian python3-torchvision), built with weights=None: AlexNet, VGG-16/19,
    ResNet-18/34/50/101/152, GoogLeNet with its auxiliary heads, VGG-19 features.
  - The course's Keras models (YOLOv2, the SIGNS ResNet-50, the FaceNet encoder): rebuilt here
    in torch layer for layer (conv with bias unless a batchnorm follows in the original, Keras
    batchnorm = 4 values per channel) and checked against the figures the course prints.
  - Other course models (LeNet-5, sliding windows, the heads) and the 1D/3D networks: built
    here in torch from their definitions, documented in docs/stdlib.md.

Run: /usr/bin/python3 scripts/reference_params.py  (no weights are downloaded; CPU only).
"""

import json
import os
import sys

import torch
from torch import nn
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'stdlib', 'reference-params.json')

# Figures the course prints (model.summary() / count_params()), used where the issue gives them.
COURSE = {
    'yolov2': {'total': 50_983_561, 'trainable': 50_962_889, 'nonTrainable': 20_672},
    'resnet50_signs': {'total': 23_600_006, 'trainable': 23_546_886, 'nonTrainable': 53_120},
    'facenet_encoder': {'total': 3_743_280},
    'lenet5': {'total': 62_006},
}


def count(module: nn.Module) -> dict:
    params = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith('num_batches_tracked'))
    return {'total': params + buffers, 'trainable': trainable, 'nonTrainable': params + buffers - trainable, 'torchParameters': params}


def frozen(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.requires_grad_(False)
    return module


# ---- course models rebuilt in torch (Keras layer for layer) -----------------------------------

def conv_bn(cin, cout, k, stride=1, bias=True):
    """Keras Conv2D (bias on by default) + BatchNormalization."""
    return [nn.Conv2d(cin, cout, k, stride, bias=bias), nn.BatchNorm2d(cout)]


def yolov2(anchors=5, classes=80):
    """YAD2K's YOLOv2 (the course's yolo.h5): Darknet-19 body, passthrough, 19x19x425 head."""
    layers = []
    spec = [(32, 3), 'M', (64, 3), 'M', (128, 3), (64, 1), (128, 3), 'M', (256, 3), (128, 1), (256, 3), 'M',
            (512, 3), (256, 1), (512, 3), (256, 1), (512, 3), 'M', (1024, 3), (512, 1), (1024, 3), (512, 1), (1024, 3),
            (1024, 3), (1024, 3)]
    cin = 3
    for s in spec:
        if s == 'M':
            layers.append(nn.MaxPool2d(2))
            continue
        layers += conv_bn(cin, s[0], s[1], bias=False)
        cin = s[0]
    passthrough = conv_bn(512, 64, 1, bias=False)
    head = conv_bn(1280, 1024, 3, bias=False) + [nn.Conv2d(1024, anchors * (5 + classes), 1)]
    return nn.Sequential(*layers, *passthrough, *head)


def shapes_yolo(classes=4, anchors=3):
    """cnnc's ShapesYolo: five Darknet stages (conv without bias + batchnorm), four 2x2 pools, 1x1 head."""
    layers = []
    cin = 3
    for i, cout in enumerate([16, 32, 64, 64, 128]):
        layers += conv_bn(cin, cout, 3, bias=False)
        if i < 4:
            layers.append(nn.MaxPool2d(2))
        cin = cout
    return nn.Sequential(*layers, nn.Conv2d(cin, anchors * (5 + classes), 1))


def resnet50_signs(classes=6):
    """The course's Keras ResNet-50 for 64x64x3 SIGNS: conv biases on, stride on the first 1x1."""
    layers = conv_bn(3, 64, 7, 2)

    def bottleneck(cin, f1, f2, f3, project):
        body = conv_bn(cin, f1, 1) + conv_bn(f1, f2, 3) + conv_bn(f2, f3, 1)
        return body + (conv_bn(cin, f3, 1) if project else [])

    cin = 64
    for filters, blocks in [((64, 64, 256), 3), ((128, 128, 512), 4), ((256, 256, 1024), 6), ((512, 512, 2048), 3)]:
        for b in range(blocks):
            layers += bottleneck(cin, *filters, project=b == 0)
            cin = filters[2]
    return nn.Sequential(*layers, nn.Linear(2048, classes))


def facenet_encoder():
    """The course's FaceRecoModel (inception_blocks_v2.py, OpenFace nn4.small2): 96x96x3 -> 128."""
    layers = conv_bn(3, 64, 7, 2) + conv_bn(64, 64, 1) + conv_bn(64, 192, 3)

    def reduce_conv(cin, reduce, out, k):
        return conv_bn(cin, reduce, 1) + conv_bn(reduce, out, k)

    # 1a (inception_3a): 3x3, 5x5, pool, 1x1 branches on 192 channels.
    layers += reduce_conv(192, 96, 128, 3) + reduce_conv(192, 16, 32, 5) + conv_bn(192, 32, 1) + conv_bn(192, 64, 1)
    layers += reduce_conv(256, 96, 128, 3) + reduce_conv(256, 32, 64, 5) + conv_bn(256, 64, 1) + conv_bn(256, 64, 1)
    layers += reduce_conv(320, 128, 256, 3) + reduce_conv(320, 32, 64, 5)
    layers += reduce_conv(640, 96, 192, 3) + reduce_conv(640, 32, 64, 5) + conv_bn(640, 128, 1) + conv_bn(640, 256, 1)
    layers += reduce_conv(640, 160, 256, 3) + reduce_conv(640, 64, 128, 5)
    layers += reduce_conv(1024, 96, 384, 3) + conv_bn(1024, 96, 1) + conv_bn(1024, 256, 1)
    layers += reduce_conv(736, 96, 384, 3) + conv_bn(736, 96, 1) + conv_bn(736, 256, 1)
    return nn.Sequential(*layers, nn.Linear(736, 128))


def lenet5_course(channels=3, classes=10):
    return nn.Sequential(nn.Conv2d(channels, 6, 5), nn.Conv2d(6, 16, 5), nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, classes))


def lenet5_1998(classes=10):
    """LeNet-5 as commonly reconstructed: full C3 connections, C5 as a 5x5 conv, plain output layer."""
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5), nn.Conv2d(16, 120, 5), nn.Linear(120, 84), nn.Linear(84, classes))


def sliding_windows():
    """The course's 14x14x3 classifier with its FC layers as 5x5 and 1x1 convolutions (any input size)."""
    return nn.Sequential(nn.Conv2d(3, 16, 5), nn.Conv2d(16, 400, 5), nn.Conv2d(400, 400, 1), nn.Conv2d(400, 4, 1))


def small_backbone():
    return [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(32, 64, 3), nn.Linear(64 * 8 * 8, 128)]


def localization(classes=3):
    return nn.Sequential(*small_backbone(), nn.Linear(128, 5 + classes))


def landmarks(points=64):
    return nn.Sequential(*small_backbone(), nn.Linear(128, 1), nn.Linear(128, 2 * points))


def heartbeat(classes=5):
    """Kachuee et al. 2018, ECG heartbeat classification: 187 samples, 5 residual blocks of 1D convs."""
    layers = [nn.Conv1d(1, 32, 5)]
    for _ in range(5):
        layers += [nn.Conv1d(32, 32, 5), nn.Conv1d(32, 32, 5)]
    return nn.Sequential(*layers, nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(32, classes))


def unet_small(channels=3, width=16):
    """Ronneberger et al. 2015, two levels: double 3x3 convs, 2x2 transposed convs up, 1x1 head."""
    def double(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.Conv2d(cout, cout, 3, padding=1)]
    w = width
    return nn.ModuleList([*double(channels, w), *double(w, 2 * w), *double(2 * w, 4 * w),
                          nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), *double(4 * w, 2 * w),
                          nn.ConvTranspose2d(2 * w, w, 2, stride=2), *double(2 * w, w), nn.Conv2d(w, 1, 1)])


def ct_volume():
    """keras.io "3D image classification from CT scans" (Zunair): 4 conv3d + batchnorm stages, GAP, dense."""
    layers = []
    cin = 1
    for cout in [64, 64, 128, 256]:
        layers += [nn.Conv3d(cin, cout, 3), nn.BatchNorm3d(cout)]
        cin = cout
    return nn.Sequential(*layers, nn.Linear(256, 512), nn.Linear(512, 1))


def inception_naive():
    """The lecture's naive module on 28x28x192: 1x1 (64), 3x3 (128), 5x5 (32) convolutions with bias."""
    return nn.ModuleList([nn.Conv2d(192, 64, 1), nn.Conv2d(192, 128, 3), nn.Conv2d(192, 32, 5)])


def inception_reduced():
    """torchvision's Inception(192, 64, 96, 128, 16, 32, 32) with the paper's 5x5 in the third branch."""
    m = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).inception3a
    m.branch3[1] = type(m.branch3[1])(16, 32, kernel_size=5, padding=2)
    return m


def googlenet():
    return torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False)


def check_course(key: str, ours: dict) -> None:
    for field, value in COURSE[key].items():
        if ours[field] != value:
            sys.exit(f'{key}: the torch rebuild gives {field} = {ours[field]:,}, the course prints {value:,}')


def main() -> None:
    tv = torchvision.models
    tv_source = f'torchvision {torchvision.__version__}'
    entries = [
        ('lenet5', 'lenet5.cnn', 'LeNet5', lenet5_course(), 'course (62,006), rebuilt in torch'),
        ('lenet5_1998', 'lenet5.cnn', 'LeNet5Original', lenet5_1998(), 'LeCun et al. 1998 as commonly reconstructed, built in torch'),
        ('alexnet', 'alexnet.cnn', 'AlexNet', tv.alexnet(weights=None), f'{tv_source} alexnet'),
        ('vgg16', 'vgg.cnn', 'VGG16', tv.vgg16(weights=None), f'{tv_source} vgg16'),
        ('vgg19', 'vgg.cnn', 'VGG19', tv.vgg19(weights=None), f'{tv_source} vgg19'),
        ('resnet18', 'resnet.cnn', 'ResNet18', tv.resnet18(weights=None), f'{tv_source} resnet18'),
        ('resnet34', 'resnet.cnn', 'ResNet34', tv.resnet34(weights=None), f'{tv_source} resnet34'),
        ('resnet50', 'resnet.cnn', 'ResNet50', tv.resnet50(weights=None), f'{tv_source} resnet50'),
        ('resnet101', 'resnet.cnn', 'ResNet101', tv.resnet101(weights=None), f'{tv_source} resnet101'),
        ('resnet152', 'resnet.cnn', 'ResNet152', tv.resnet152(weights=None), f'{tv_source} resnet152'),
        ('resnet50_signs', 'resnet.cnn', 'ResNet50Signs', resnet50_signs(), 'course Keras model summary, rebuilt in torch'),
        ('googlenet', 'inception.cnn', 'GoogLeNet', googlenet(), f'{tv_source} googlenet(aux_logits=True)'),
        ('inception_naive', 'inception.cnn', 'InceptionNaive', inception_naive(), 'lecture module, built in torch'),
        ('inception_reduced', 'inception.cnn', 'InceptionReduced', inception_reduced(), f'{tv_source} googlenet().inception3a with a 5x5 third branch'),
        ('yolov2', 'yolo.cnn', 'YOLOv2', yolov2(), 'course model summary (YAD2K yolo.h5), rebuilt in torch'),
        ('shapes_yolo', 'yolo.cnn', 'ShapesYolo', shapes_yolo(), 'built in torch'),
        ('localization', 'localization.cnn', 'ClassificationWithLocalization', localization(), 'course lecture head, built in torch'),
        ('landmarks', 'localization.cnn', 'Landmarks', landmarks(), 'course lecture head, built in torch'),
        ('sliding_windows14', 'sliding_windows.cnn', 'SlidingWindows14', sliding_windows(), 'course lecture, built in torch'),
        ('sliding_windows16', 'sliding_windows.cnn', 'SlidingWindows16', sliding_windows(), 'course lecture, built in torch'),
        ('sliding_windows28', 'sliding_windows.cnn', 'SlidingWindows28', sliding_windows(), 'course lecture, built in torch'),
        ('facenet_encoder', 'facenet.cnn', 'FaceNetEncoder', facenet_encoder(), 'course FaceRecoModel count_params(), rebuilt in torch'),
        ('facenet_triplet', 'facenet.cnn', 'FaceNetTriplet', facenet_encoder(), 'one shared course encoder, rebuilt in torch'),
        ('style_transfer', 'style_transfer.cnn', 'StyleTransfer', frozen(tv.vgg19(weights=None).features), f'{tv_source} vgg19().features, frozen'),
        ('heartbeat', 'signals.cnn', 'Heartbeat', heartbeat(), 'Kachuee et al. 2018, built in torch'),
        ('unet_small', 'segmentation.cnn', 'UNetSmall', unet_small(), 'Ronneberger et al. 2015 at two levels, built in torch'),
        ('ct_volume', 'volumes.cnn', 'CTVolume', ct_volume(), 'keras.io 3D CT classification example, built in torch'),
    ]
    models = {}
    for key, file, model, module, source in entries:
        figures = count(module)
        if key in COURSE:
            check_course(key, figures)
        models[key] = {'file': f'stdlib/{file}', 'model': model, 'source': source, **figures}
    # The binary face-verification head: sigmoid(sum_k w_k |f(xi)_k - f(xj)_k| + b) over the shared encoder.
    binary = count(facenet_encoder())
    binary = {k: v + 129 for k, v in binary.items() if k != 'nonTrainable'} | {'nonTrainable': binary['nonTrainable']}
    models['facenet_binary'] = {'file': 'stdlib/facenet.cnn', 'model': 'FaceVerification', 'source': 'course encoder + weighted |f(xi) - f(xj)| logistic unit, rebuilt in torch', **binary}
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/reference_params.py', 'torch': torch.__version__, 'torchvision': torchvision.__version__, 'models': models}, f, indent=2)
        f.write('\n')
    for key, m in models.items():
        print(f"{key:20} {m['total']:>12,} {m['trainable']:>12,} {m['nonTrainable']:>10,}  {m['source']}")


if __name__ == '__main__':
    main()
