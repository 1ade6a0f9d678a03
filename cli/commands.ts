// Every command's description (arguments, summary, options with their help) and how to load it.
// main.ts answers `--help` and `cnnc --help` from here without loading any command module.

import { defineCommand, type CommandSpec } from './command.ts';

const MODEL = { type: 'string', arg: 'NAME', help: 'model in FILE (default: the first)' } as const;
const SET = { type: 'string', multiple: true, arg: 'k=v', help: 'model parameter, e.g. --set channels=1' } as const;
const BACKEND = { type: 'string', arg: 'B', help: 'auto | webgpu | wasm | cpu (default auto: a hardware GPU, else wasm)' } as const;
export const AUGMENTATIONS = ['mirror', 'crop', 'rotate', 'shear', 'color', 'pca', 'warp'] as const;

/** `--augment` and its magnitude flags (string values as parsed), each with its default. */
export const AUGMENT_FLAGS = {
  augment: { type: 'string', arg: 'LIST', help: `${AUGMENTATIONS.join(',')} (comma-separated)` },
  'rotate-degrees': { type: 'string', arg: 'D', help: 'rotate: uniform angle in [-D, D] degrees (default 10)' },
  'shear-factor': { type: 'string', arg: 'S', help: 'shear: x += s * y with s uniform in [-S, S] (default 0.1)' },
  'crop-scale': { type: 'string', arg: 'S', help: 'crop: a window of a share in [S, 1] of each side, resized back (default 0.875)' },
  'color-shift': { type: 'string', arg: 'C', help: 'color: each channel shifted by a uniform amount in [-C, C] of the 0..1 range (default 0.1)' },
  'pca-std': { type: 'string', arg: 'X', help: "pca: AlexNet's alpha ~ N(0, X^2) per principal colour axis (default 0.1)" },
  'warp-pixels': { type: 'string', arg: 'P', help: 'warp: displacements up to P pixels on a smooth random field (default 2)' },
  'warp-grid': { type: 'string', arg: 'N', help: 'warp: the field is smooth between N x N random nodes (default 4)' },
} as const;

const DATA_SPECS = `data specs: fashion-mnist | fashion-mnist-bundled | idx:IMAGES,LABELS | folder:PATH[@HxWxC] | safetensors:PATH
  | npz:PATH | npy:FIELD=PATH,... | pairs:DIR[@HxWxC] | triplets:DIR[@HxWxC] | yolo:DIR | coco:JSON[,IMAGES]
examples are records of named fields (one tensor per field, batch axis first); each model input
and loss target reads the field of its name unless --feed INPUT=FIELD says otherwise`;

export const CHECK = defineCommand({
  name: 'check',
  args: 'FILE...',
  summary: 'Diagnostics of every model in each file; exit 0 clean, 1 errors, 2 usage or I/O.',
  options: {},
  load: async () => (await import('./check.ts')).runCheck,
});

export const SUMMARY = defineCommand({
  name: 'summary',
  args: 'FILE',
  summary: 'Per layer: output shape, parameters, multiply-accumulates, activation memory; totals.',
  options: { model: MODEL, set: SET, json: { type: 'boolean', help: 'machine-readable JSON instead of the table' } },
  load: async () => (await import('./summary.ts')).runSummary,
});

export const GRAPH = defineCommand({
  name: 'graph',
  args: 'FILE [--expand | --depth N] [-o OUT.svg|OUT.png]',
  summary: 'The network as a diagram (SVG, or PNG): blocks collapsed, shapes, parameters, shared weights, loss terms.',
  options: {
    model: MODEL,
    set: SET,
    expand: { type: 'boolean', help: 'draw every layer instead of one box per block' },
    depth: { type: 'string', arg: 'N', help: 'open blocks N levels deep (default 1: one box per top-level block)' },
    output: { type: 'string', short: 'o', arg: 'OUT.svg|OUT.png', help: 'write here instead of stdout (.png renders through headless Chromium)' },
  },
  load: async () => (await import('./graph.ts')).runGraph,
});

export const GRAD = defineCommand({
  name: 'grad',
  args: 'FILE --weights W --input X [--labels Y] --out G',
  summary: 'Loss and every gradient of one batch, all tensors in safetensors.',
  options: {
    weights: { type: 'string', arg: 'W', help: 'weights (safetensors)' },
    input: { type: 'string', arg: 'X', help: 'input batch (safetensors)' },
    labels: { type: 'string', arg: 'Y', help: 'loss targets (safetensors)' },
    out: { type: 'string', arg: 'G', help: 'where to write the loss and gradients' },
    backend: { type: 'string', arg: 'B', help: 'cpu | wasm | webgpu (default cpu)' },
    model: MODEL,
    set: SET,
    seed: { type: 'string', value: 'natural', arg: 'N', help: 'dropout seed, an integer in [0, 2^24) (default 0)' },
  },
  load: async () => (await import('./grad.ts')).runGrad,
});

export const TRAIN = defineCommand({
  name: 'train',
  args: 'FILE --data SPEC [options]',
  summary: 'Training any model with a loss: a progress bar, a checkpoint each epoch, --resume; Ctrl-C saves.',
  options: {
    model: MODEL,
    set: SET,
    data: { type: 'string', arg: 'SPEC', help: 'the training data (see below)' },
    feed: { type: 'string', multiple: true, arg: 'INPUT=FIELD', help: "bind a model input or loss target to a data field (default: the field of the same name)" },
    epochs: { type: 'string', value: 'positive-integer', arg: 'N', help: '(default 5)' },
    batch: { type: 'string', value: 'positive-integer', arg: 'N', help: '(default 64)' },
    lr: { type: 'string', value: 'positive-number', arg: 'X', help: 'learning rate (default 0.01)' },
    optimizer: { type: 'string', arg: 'NAME', help: 'sgd | momentum | rmsprop | adam (default momentum)' },
    momentum: { type: 'string', value: 'fraction', arg: 'X', help: '(default 0.9)' },
    'weight-decay': { type: 'string', value: 'non-negative-number', arg: 'X', help: 'L2 weight decay (default 0)' },
    schedule: { type: 'string', arg: 'S', help: 'constant | step:EVERY:GAMMA | cosine (default constant)' },
    ...AUGMENT_FLAGS,
    workers: { type: 'string', value: 'natural', arg: 'N', help: 'threads preparing batches beside training (default 1 with --augment, else 0)' },
    limit: { type: 'string', value: 'positive-integer', arg: 'N', help: 'train on a seeded sample of N examples, each class in proportion' },
    val: { type: 'string', value: 'fraction', arg: 'FRACTION', help: 'hold out this fraction of each class (seeded) and evaluate on it after each epoch' },
    weights: { type: 'string', arg: 'FILE', help: 'start from pretrained weights (by name; a replaced head is reported and skipped)' },
    'freeze-until': { type: 'string', arg: 'LAYER', help: 'freeze every layer up to and including LAYER' },
    'cache-trunk': { type: 'string', arg: 'DIR', help: "with --freeze-until: compute the frozen layers' activations once (kept in DIR) and train only the rest on them" },
    out: { type: 'string', arg: 'FILE', help: 'checkpoint, written after each epoch (default out/<model>.safetensors)' },
    resume: { type: 'string', arg: 'FILE', help: 'continue exactly from a checkpoint' },
    'save-every': { type: 'string', value: 'positive-integer', arg: 'STEPS', help: 'also write the checkpoint every STEPS steps, mid-epoch (resume continues exactly)' },
    backend: BACKEND,
    seed: { type: 'string', value: 'natural', arg: 'N', help: '(default 0)' },
    mining: { type: 'string', arg: 'S', help: 'triplet models: semi-hard | batch-hard | random (default semi-hard)' },
    identities: { type: 'string', arg: 'P', help: 'triplet and pair models: identities per batch (default 8)' },
    'per-identity': { type: 'string', arg: 'K', help: 'triplet and pair models: images per identity in a batch (default 4)' },
  },
  notes: `${DATA_SPECS}\nA model with a triplet loss (or a Siamese pair model with binary_cross_entropy) trains from\nclass folders, one per identity: P x K batches, triplets mined in each batch (docs/faces.md).`,
  load: async () => (await import('./train.ts')).runTrain,
});

const INFERENCE_OPTIONS = {
  model: MODEL,
  set: SET,
  weights: { type: 'string', multiple: true, arg: 'W', help: 'trained weights; several make an ensemble' },
  backend: BACKEND,
  batch: { type: 'string', value: 'positive-integer', arg: 'N', help: 'examples per run (default 64)' },
  'ten-crop': { type: 'boolean', help: 'average the four corners, the centre and their mirrors' },
} as const;

export const EVAL = defineCommand({
  name: 'eval',
  args: 'FILE --weights W --data SPEC',
  summary: "Loss, each term and the loss's metrics (a confusion matrix for classifiers) on held-out data; verification figures for encoders.",
  options: {
    ...INFERENCE_OPTIONS,
    data: { type: 'string', arg: 'SPEC', help: 'the data (its test split where it has one)' },
    feed: { type: 'string', multiple: true, arg: 'INPUT=FIELD', help: 'bind a model input or loss target to a data field' },
    val: { type: 'string', value: 'fraction', arg: 'FRACTION', help: 'evaluate the part `cnnc train --val FRACTION --seed N` held out' },
    seed: { type: 'string', value: 'natural', arg: 'N', help: 'the seed of the --val split and the --limit sample (default 0)' },
    limit: { type: 'string', value: 'positive-integer', arg: 'N', help: 'evaluate a seeded sample of N examples, each class in proportion' },
    layer: { type: 'string', arg: 'NAME', help: 'encoders: the encoding layer or tower (see cnnc embed --help)' },
  },
  notes: `${DATA_SPECS}\nOn an encoder (no loss, or a triplet or Siamese pair model) with class-folder data: verification\nover every pair of the images (accuracy at the best threshold, ROC AUC, TAR at FAR 1e-2 and\n1e-3); the threshold is stored in the weights file for verify and recognize.`,
  load: async () => (await import('./infer.ts')).runEval,
});

export const PREDICT = defineCommand({
  name: 'predict',
  args: 'FILE --weights W (IMAGE... | --data SPEC)',
  summary: "The top-k classes of PNG or JPEG images; any model's outputs to safetensors or JSON.",
  options: {
    ...INFERENCE_OPTIONS,
    top: { type: 'string', value: 'positive-integer', arg: 'K', help: 'classes to show per image (default 5)' },
    'class-names': { type: 'string', arg: 'LIST', help: "comma-separated class names, or fashion-mnist (default: the names stored in the checkpoint)" },
    data: { type: 'string', arg: 'SPEC', help: "run on a data set's inputs (any model) instead of image files" },
    feed: { type: 'string', multiple: true, arg: 'INPUT=FIELD', help: 'bind a model input to a data field' },
    out: { type: 'string', arg: 'FILE', help: 'write every output, named by layer, to FILE.safetensors or FILE.json (default: classifiers print the top classes, other models print JSON)' },
    draw: { type: 'string', arg: 'DIR', help: 'landmark models: draw each image with its predicted (x, y) points (fractions of the input) into DIR' },
  },
  load: async () => (await import('./infer.ts')).runPredict,
});

const ENCODER_OPTIONS = {
  model: MODEL,
  set: SET,
  weights: { type: 'string', arg: 'W', help: 'encoder weights (safetensors; a checkpoint of the triplet or Siamese model works too)' },
  layer: { type: 'string', arg: 'NAME', help: "the encoding: a layer or tower name (default the model's output read from one image input, else the last layer of the first input)" },
  backend: BACKEND,
  batch: { type: 'string', arg: 'N', help: 'images per run (default 32)' },
} as const;
const THRESHOLD = { type: 'string', arg: 'T', help: "distance at or below which two faces are the same identity (default: the one cnnc eval stored in W, else 0.7)" } as const;

export const EMBED = defineCommand({
  name: 'embed',
  args: 'FILE --weights W IMAGE|DIR... -o OUT.safetensors',
  summary: "The encoder's output for each image, with the file names, in safetensors.",
  options: { ...ENCODER_OPTIONS, output: { type: 'string', short: 'o', arg: 'OUT', help: 'where to write: tensor encodings [images, dim], metadata files (JSON list)' } },
  load: async () => (await import('./embed.ts')).runEmbed,
});

export const VERIFY = defineCommand({
  name: 'verify',
  args: 'FILE --weights W A.png B.png [--threshold T]',
  summary: 'Distance between two faces and the decision: same identity or not.',
  options: { ...ENCODER_OPTIONS, threshold: THRESHOLD },
  load: async () => (await import('./verify.ts')).runVerify,
});

export const RECOGNIZE = defineCommand({
  name: 'recognize',
  args: 'FILE --weights W --db DIR IMAGE|DIR...',
  summary: 'The nearest identity in a database folder (one sub-folder per identity), or "not in the database".',
  options: {
    ...ENCODER_OPTIONS,
    db: { type: 'string', arg: 'DIR', help: 'one sub-folder of images per identity' },
    threshold: THRESHOLD,
    cache: { type: 'string', arg: 'FILE', help: "the database's encodings cache (default DIR/.cnnc-encodings.safetensors)" },
  },
  load: async () => (await import('./recognize.ts')).runRecognize,
});

export const BUILD = defineCommand({
  name: 'build',
  args: 'FILE -o DIR',
  summary: 'A bundle: a readable TypeScript module, its WGSL kernels and wasm modules, a manifest.',
  options: {
    model: MODEL,
    set: SET,
    batch: { type: 'string', value: 'positive-integer', arg: 'N', help: 'examples per step (default 32)' },
    optimizer: { type: 'string', arg: 'O', help: 'sgd | momentum | rmsprop | adam (default momentum)' },
    lr: { type: 'string', value: 'positive-number', arg: 'X', help: 'learning rate (default 0.01)' },
    target: { type: 'string', arg: 'T', help: 'software (register tiles, the default) | gpu (tiles staged through workgroup memory)' },
    runtime: { type: 'string', arg: 'S', help: "where the module imports cnnc's runtime from (default cnnc/runtime)" },
    out: { type: 'string', short: 'o', arg: 'DIR', help: 'output folder' },
  },
  load: async () => (await import('./build.ts')).runBuild,
});

export const FMT = defineCommand({
  name: 'fmt',
  args: 'FILE|DIR...',
  summary: 'Formats .cnn files (prints the result unless --check or --write).',
  options: {
    check: { type: 'boolean', help: 'exit 1 if a file is not formatted' },
    write: { type: 'boolean', help: 'rewrite the files in place' },
  },
  load: async () => (await import('./fmt.ts')).runFmt,
});

export const LSP = defineCommand({
  name: 'lsp',
  args: '[--stdio]',
  summary: 'The language server over stdio.',
  options: {
    stdio: { type: 'boolean', help: 'talk over stdin and stdout (the only transport; accepted for editors that pass it)' },
    debounce: { type: 'string', value: 'natural', arg: 'MS', help: 'milliseconds to wait after an edit before checking' },
    budget: { type: 'string', value: 'positive-integer', arg: 'MS', help: 'milliseconds one check may run before it stops with a diagnostic (default 1000)' },
  },
  load: async () => (await import('./lsp.ts')).runLsp,
});

export const EXPORT = defineCommand({
  name: 'export',
  args: 'FILE --to onnx|pytorch -o OUT',
  summary: 'The model for other engines: an ONNX graph, or a PyTorch module with a torchrun/DDP training script.',
  options: {
    to: { type: 'string', arg: 'FORMAT', help: 'onnx (inference graph, opset 17) | pytorch (a folder: model.py, train.py, weights)' },
    output: { type: 'string', short: 'o', arg: 'OUT', help: 'MODEL.onnx, or the folder for pytorch' },
    weights: { type: 'string', arg: 'W', help: 'weights to export (safetensors or Keras .h5; torchvision and Keras names load through the model\'s name maps); default: initialised from --seed' },
    seed: { type: 'string', arg: 'N', help: 'initialisation seed when no --weights (default 0)' },
    model: MODEL,
    set: SET,
  },
  notes: 'docs/scale-out.md: from cnnc train to torchrun on several machines.',
  load: async () => (await import('./export.ts')).runExport,
});

export const PLAYGROUND = defineCommand({
  name: 'playground',
  args: '[--port N] [--out DIR]',
  summary: 'A page with an editor checked as you type, the live diagram, and training on Fashion-MNIST in the browser.',
  options: {
    port: { type: 'string', arg: 'N', help: 'serve on 127.0.0.1:N (default 8080; 0 picks a free port)' },
    out: { type: 'string', arg: 'DIR', help: 'write the page as static files to DIR instead of serving it' },
  },
  load: async () => (await import('./playground.ts')).runPlayground,
});


export const STYLIZE = defineCommand({
  name: 'stylize',
  args: 'FILE --content C.png --style S.png --weights W -o OUT.png',
  summary: "Neural style transfer: optimises the model's trainable input (Adam on its pixels).",
  options: {
    content: { type: 'string', arg: 'IMAGE', help: 'the content picture (PNG or JPEG), for the input named *content*' },
    style: { type: 'string', arg: 'IMAGE', help: 'the style picture, for the input named *style*' },
    weights: { type: 'string', arg: 'W', help: 'the frozen network (safetensors; torchvision names load through the model\'s name map)' },
    output: { type: 'string', short: 'o', arg: 'OUT.png', help: 'the stylised picture' },
    size: { type: 'string', arg: 'HxW', help: "picture size: sets the model's height and width parameters" },
    steps: { type: 'string', arg: 'N', help: 'Adam steps (default 200)' },
    lr: { type: 'string', arg: 'X', help: 'learning rate in grey levels of 0..255 (default 2.0)' },
    alpha: { type: 'string', arg: 'X', help: "weight of J_content (default: the model's, 10 in the stdlib)" },
    beta: { type: 'string', arg: 'X', help: "weight of J_style (default: the model's, 40 in the stdlib)" },
    init: { type: 'string', arg: 'I', help: 'content (the content picture mixed with --noise of uniform noise) | noise (default content)' },
    noise: { type: 'string', arg: 'R', help: 'share of noise in the content start, 0..1 (default 0.2)' },
    seed: { type: 'string', arg: 'N', help: 'noise seed (default 0): the same seed gives the same picture' },
    'save-every': { type: 'string', arg: 'N', help: 'also write OUT-<step>.png every N steps' },
    pixels: { type: 'string', arg: 'E', help: 'how the model reads pixels: imagenet ((p/255 - mean)/std, torchvision) | caffe (p - mean) | unit (p/255) (default imagenet)' },
    backend: BACKEND,
    model: MODEL,
    set: SET,
  },
  notes: 'J = alpha J_content + beta J_style (+ any other terms of the model\'s loss); J_content and J_style are each group\'s terms averaged by their weights in the model.',
  load: async () => (await import('./stylize.ts')).runStylize,
});

export const AUGMENT = defineCommand({
  name: 'augment',
  args: '--data SPEC --augment LIST -o OUT.png',
  summary: 'A grid of augmented examples: each row an original, then augmented copies.',
  options: {
    data: { type: 'string', arg: 'SPEC', help: 'the images (see below)' },
    ...AUGMENT_FLAGS,
    examples: { type: 'string', arg: 'N', help: 'rows: the first N examples (default 4)' },
    copies: { type: 'string', arg: 'K', help: 'augmented copies per example (default 7)' },
    seed: { type: 'string', arg: 'N', help: '(default 0)' },
    output: { type: 'string', short: 'o', arg: 'OUT.png', help: 'the grid' },
  },
  notes: DATA_SPECS,
  load: async () => (await import('./augment.ts')).runAugment,
});

export const VISUALIZE = defineCommand({
  name: 'visualize',
  args: 'FILE --weights W --data SPEC --layer NAME -o DIR',
  summary: "The nine data-set patches that most activate each unit of a layer; a first layer's filters.",
  options: {
    weights: { type: 'string', arg: 'W', help: 'trained weights (safetensors)' },
    data: { type: 'string', arg: 'SPEC', help: 'the images to search (see below)' },
    layer: { type: 'string', arg: 'NAME', help: 'a layer with an H x W x C output (cnnc summary lists them)' },
    output: { type: 'string', short: 'o', arg: 'DIR', help: 'where unit_<k>.png, units.png, filters.png and top9.json go' },
    units: { type: 'string', arg: 'N', help: 'the first N units (channels) of the layer (default 8)' },
    limit: { type: 'string', arg: 'N', help: 'search the first N examples only' },
    batch: { type: 'string', arg: 'N', help: 'examples per run (default 64)' },
    backend: BACKEND,
    model: MODEL,
    set: SET,
  },
  notes: `Each patch is the input window the unit sees at its strongest position (its receptive field; grey outside the image); one patch per example.\n${DATA_SPECS}`,
  load: async () => (await import('./visualize.ts')).runVisualize,
});

/** In the order `cnnc --help` lists them. */
export const DETECT = defineCommand({
  name: 'detect',
  args: 'FILE --weights W IMAGE... -o DIR',
  summary: 'Boxes found by a detector (yolo loss) or a sliding-window classifier: labelled PNGs and COCO results JSON.',
  options: {
    model: MODEL,
    set: SET,
    weights: { type: 'string', arg: 'W', help: 'trained weights (safetensors)' },
    output: { type: 'string', short: 'o', arg: 'DIR', help: 'where to write one PNG per image and results.json' },
    score: { type: 'string', arg: 'X', help: 'keep boxes scoring at least X (objectness x class probability; default 0.6)' },
    iou: { type: 'string', arg: 'X', help: 'non-max suppression IoU threshold (default 0.5)' },
    max: { type: 'string', arg: 'N', help: 'at most N boxes per image (default 10)' },
    'class-agnostic': { type: 'boolean', help: 'suppress overlapping boxes across classes too (default: per class)' },
    letterbox: { type: 'boolean', help: 'fit images with one scale and grey bars instead of resizing each axis' },
    'class-names': { type: 'string', arg: 'LIST', help: 'comma-separated class names (default: from the checkpoint, else class numbers)' },
    background: { type: 'string', arg: 'K', help: 'sliding windows: the class that means no object (default 0; -1: none)' },
    coco: { type: 'string', arg: 'JSON', help: 'COCO annotations of these images: results take their image ids (by file name), category ids and names' },
    backend: BACKEND,
  },
  notes: 'A model with a yolo loss gives boxes per grid cell and anchor. A classifier of small windows run\nconvolutionally on a larger image (SlidingWindows28) prints its grid of class scores; windows whose best\nclass other than the background scores at least --score become boxes. COCO category_id is that of the\nCOCO annotations the model was trained on, else the class number + 1; image_id is the number in the file\nname where it has one (COCO style), else its position; --coco takes both from the images\' annotations.',
  load: async () => (await import('./detect.ts')).runDetect,
});

export const ANCHORS = defineCommand({
  name: 'anchors',
  args: '--data SPEC -k K',
  summary: 'Anchor shapes for a yolo loss by k-means over the training boxes, distance 1 - IoU.',
  options: {
    data: { type: 'string', arg: 'SPEC', help: 'detection data: yolo:DIR or coco:JSON[,IMAGES]' },
    k: { type: 'string', short: 'k', arg: 'K', help: 'number of anchors (default 5)' },
    grid: { type: 'string', arg: 'S', help: 'grid cells across the image, the unit of the anchors (default 13)' },
    seed: { type: 'string', arg: 'N', help: 'k-means++ seed (default 1)' },
  },
  load: async () => (await import('./anchors.ts')).runAnchors,
});

export const SCENES = defineCommand({
  name: 'scenes',
  args: '-o DIR [--train N] [--test N]',
  summary: 'Synthetic detection scenes (shapes, colours, clutter) as a YOLO-text train/test split.',
  options: {
    output: { type: 'string', short: 'o', arg: 'DIR', help: 'where to write classes.txt, train/ and test/' },
    train: { type: 'string', arg: 'N', help: 'training images (default 1000)' },
    test: { type: 'string', arg: 'N', help: 'held-out images (default 200)' },
    size: { type: 'string', arg: 'PX', help: 'image side in pixels (default 96)' },
    seed: { type: 'string', arg: 'N', help: '(default 1)' },
  },
  load: async () => (await import('./scenes.ts')).runScenes,
});

export const COMMANDS: readonly CommandSpec[] = [CHECK, SUMMARY, GRAPH, TRAIN, EVAL, PREDICT, DETECT, ANCHORS, SCENES, EMBED, VERIFY, RECOGNIZE, GRAD, BUILD, EXPORT, FMT, LSP, STYLIZE, VISUALIZE, AUGMENT, PLAYGROUND];
