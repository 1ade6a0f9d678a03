// Keras weight files (.h5, HDF5) read through h5wasm (the HDF5 library compiled to WebAssembly).
// Keras writes, for `model.save` under `model_weights/` and for `save_weights` at the root, an
// attribute `layer_names` and per layer group an attribute `weight_names` (`conv2d_1/kernel:0`),
// each naming a dataset under the layer's group. Tensors come out under `<layer>.<kind>` in
// PyTorch's names and layouts: kernel -> weight (conv HWIO -> OIHW, dense [in, out] -> [out, in]),
// gamma -> weight, beta -> bias, moving_mean -> running_mean, moving_variance -> running_var.

import { readFileSync } from 'node:fs';
import type { HostTensor } from '../tensor.ts';
import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';

export class KerasH5Error extends UserError {
  override readonly kind: UserErrorKind = 'data';
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'KerasH5Error';
  }
}

const KINDS: Readonly<Record<string, string>> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** Keras' kernel layout to PyTorch's: the last two axes (in, out) move to the front as (out, in). */
export function kernelToTorch(data: Float32Array, shape: readonly number[]): HostTensor<'F32'> {
  const r = shape.length;
  const perm = [r - 1, r - 2, ...Array.from({ length: r - 2 }, (_, i) => i)];
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const index = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += index[k]! * inStrides[perm[k]!]!;
    out[o] = data[src]!;
    for (let k = r - 1; k >= 0; k--) {
      if (++index[k]! < outShape[k]!) break;
      index[k] = 0;
    }
  }
  return { dtype: 'F32', shape: outShape, data: out };
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5's superblock signature sits at 0, 512, 1024, 2048, ...: checked first, so a wrong file is one clear line. */
function requireHdf5Signature(path: string): void {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KerasH5Error(path, err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`);
  }
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return;
  }
  throw new KerasH5Error(path, 'not an HDF5 file (no HDF5 signature)');
}

function names(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  return list.map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)));
}

/** Every weight of a Keras .h5 file under `<layer>.<kind>`, in PyTorch's layouts. */
export async function readKerasH5(path: string): Promise<Map<string, HostTensor>> {
  requireHdf5Signature(path);
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  let file;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (e) {
    throw new KerasH5Error(path, `cannot open as HDF5: ${(e as Error).message}`);
  }
  try {
    const root = file.get('model_weights') ?? file;
    if (!(root instanceof h5wasm.Group)) throw new KerasH5Error(path, "'model_weights' is not a group");
    const layers = names(root.attrs.layer_names?.value);
    if (layers.length === 0) throw new KerasH5Error(path, "no 'layer_names' attribute: not a Keras weights file");
    const out = new Map<string, HostTensor>();
    for (const layer of layers) {
      const group = root.get(layer);
      if (!(group instanceof h5wasm.Group)) throw new KerasH5Error(path, `layer '${layer}' listed in layer_names has no group`);
      for (const weight of names(group.attrs.weight_names?.value)) {
        const dataset = group.get(weight);
        if (!(dataset instanceof h5wasm.Dataset)) throw new KerasH5Error(path, `layer '${layer}': no dataset '${weight}'`);
        const kind = weight.split('/').pop()!.replace(/:\d+$/, '');
        const torchKind = KINDS[kind];
        if (!torchKind) throw new KerasH5Error(path, `layer '${layer}': weight '${weight}' is a '${kind}', which cnnc does not read (it reads ${Object.keys(KINDS).join(', ')})`);
        const shape = dataset.shape ?? [];
        const value = dataset.value;
        if (!(value instanceof Float32Array) && !(value instanceof Float64Array)) throw new KerasH5Error(path, `layer '${layer}': '${weight}' is not floating point`);
        const data = value instanceof Float32Array ? value : Float32Array.from(value);
        const name = `${layer}.${torchKind}`;
        out.set(name, kind === 'kernel' && shape.length >= 2 ? kernelToTorch(data, shape) : { dtype: 'F32', shape: [...shape], data });
      }
    }
    return out;
  } finally {
    file.close();
  }
}
