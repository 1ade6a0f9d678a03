// The bundled Fashion-MNIST (data/, the t10k set: examples [0, 8000) train, [8000, 10000) test,
// as `--data fashion-mnist-bundled` splits it), fetched and unzipped in the page.

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const TRAIN_COUNT = 8000;
/** The page's data files, fetched from `data/` beside it (copies of the repository's data/). */
export const FASHION_FILES = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;

export interface Fashion {
  /** 28x28 images, values in [0, 1], one after another. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

async function gunzip(url: string): Promise<DataView> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`cannot fetch ${url}: ${response.status}`);
  const bytes = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  return new DataView(bytes);
}

/** IDX: a big-endian magic (0x0803 images, 0x0801 labels), the dimensions, then unsigned bytes. */
function idxBody(view: DataView, dims: number): Uint8Array {
  return new Uint8Array(view.buffer, 4 + 4 * dims);
}

export async function loadFashion(base: string): Promise<Fashion> {
  const [images, labels] = await Promise.all(FASHION_FILES.map((f) => gunzip(`${base}${f}`)));
  if (images.getUint32(0) !== 0x803 || labels.getUint32(0) !== 0x801) throw new Error('the bundled Fashion-MNIST files are not IDX images and labels');
  const count = images.getUint32(4);
  const pixels = idxBody(images, 3);
  const floats = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) floats[i] = pixels[i]! / 255;
  return { images: floats, labels: idxBody(labels, 1).slice(0, count), count };
}

/** Images `indices` as a batch of `side` x `side` (28 as stored, or 32 centred with zero borders). */
export function imageBatch(data: Fashion, indices: readonly number[], side: number): Float32Array {
  const out = new Float32Array(indices.length * side * side);
  const border = (side - 28) / 2;
  indices.forEach((idx, n) => {
    for (let y = 0; y < 28; y++) {
      const src = idx * 784 + y * 28;
      out.set(data.images.subarray(src, src + 28), n * side * side + (y + border) * side + border);
    }
  });
  return out;
}
