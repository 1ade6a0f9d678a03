// A face database: a folder with one sub-folder per identity holding one or more images. Its
// encodings are cached in one safetensors file (tensor `encodings` [images, dim]; metadata: the
// encoder's key, and per image its identity, path and SHA-256). A cached row is reused only when
// the encoder key (model, encoding layer and the weights' values) and the image's bytes are the
// same, so a changed image or new weights are encoded again; removed images drop out.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { readSafetensorsFile, writeSafetensorsFile } from '../checkpoint.ts';
import { IMAGE_EXTENSIONS } from '../data/image.ts';
import { f32 } from '../tensor.ts';
import { FaceError, type Encodings } from './verification.ts';

export interface DatabaseImage {
  readonly identity: string;
  /** Relative to the database folder. */
  readonly path: string;
  readonly sha256: string;
}

export interface Database {
  readonly images: readonly DatabaseImage[];
  readonly identities: readonly string[];
  readonly encodings: Encodings;
  /** Rows taken from the cache and rows computed now. */
  readonly reused: number;
  readonly computed: number;
}

const CACHE_KEY = 'cnnc_face_database';
const CACHE_VERSION = 1;
export const DEFAULT_CACHE_NAME = '.cnnc-encodings.safetensors';

interface CacheMeta {
  readonly version: number;
  readonly encoder: string;
  readonly images: readonly DatabaseImage[];
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isImageName(name: string): boolean {
  return !name.startsWith('.') && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** The identity folders and their images (sorted), with each image's hash. Errors name the folder. */
export function scanDatabase(dir: string): DatabaseImage[] {
  if (!existsSync(dir)) throw new FaceError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new FaceError(`${dir}: not a folder (a database holds one sub-folder per identity)`);
  const identities = readdirSync(dir)
    .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
    .sort();
  if (identities.length === 0) throw new FaceError(`${dir}: no identity folders (expected ${dir}/<identity>/<image>.png|jpg)`);
  const images: DatabaseImage[] = [];
  for (const identity of identities) {
    const names = readdirSync(join(dir, identity)).filter(isImageName).sort();
    if (names.length === 0) throw new FaceError(`${join(dir, identity)}: identity folder '${identity}' has no .png, .jpg or .jpeg images`);
    for (const name of names) {
      const path = join(identity, name);
      images.push({ identity, path, sha256: sha256(readFileSync(join(dir, path))) });
    }
  }
  return images;
}

/** Cached rows by image hash, when the cache file exists and was made by the same encoder. */
function readCache(path: string, encoderKey: string, dim: number): Map<string, Float32Array> {
  const rows = new Map<string, Float32Array>();
  if (!existsSync(path)) return rows;
  let file;
  try {
    file = readSafetensorsFile(path);
  } catch {
    return rows; // a damaged cache is rebuilt, not an error
  }
  const raw = file.metadata[CACHE_KEY];
  const t = file.tensors.get('encodings');
  if (raw === undefined || !t || t.dtype !== 'F32') return rows;
  let meta: CacheMeta;
  try {
    meta = JSON.parse(raw) as CacheMeta;
  } catch {
    return rows;
  }
  if (meta.version !== CACHE_VERSION || meta.encoder !== encoderKey || t.shape[1] !== dim || t.shape[0] !== meta.images.length) return rows;
  const data = t.data as Float32Array;
  meta.images.forEach((img, i) => rows.set(`${img.path}\0${img.sha256}`, data.slice(i * dim, (i + 1) * dim)));
  return rows;
}

/**
 * The database's encodings: cached rows where image and encoder are unchanged, the rest encoded
 * by `encode` (images as paths relative to `dir`). The cache file is rewritten when anything changed.
 */
export async function loadDatabase(
  dir: string,
  cachePath: string,
  encoderKey: string,
  dim: number,
  encode: (paths: readonly string[]) => Promise<Encodings>,
): Promise<Database> {
  const images = scanDatabase(dir);
  const cached = readCache(cachePath, encoderKey, dim);
  const missing = images.filter((img) => !cached.has(`${img.path}\0${img.sha256}`));
  const fresh = missing.length > 0 ? await encode(missing.map((m) => join(dir, m.path))) : undefined;
  const data = new Float32Array(images.length * dim);
  let k = 0;
  images.forEach((img, i) => {
    const row = cached.get(`${img.path}\0${img.sha256}`) ?? fresh!.data.subarray(k * dim, (k++ + 1) * dim);
    data.set(row, i * dim);
  });
  const reused = images.length - missing.length;
  if (missing.length > 0 || cached.size !== images.length) {
    const meta: CacheMeta = { version: CACHE_VERSION, encoder: encoderKey, images };
    mkdirSync(dirname(cachePath), { recursive: true }); // --cache elsewhere/new.safetensors
    writeSafetensorsFile(cachePath, { encodings: f32([images.length, dim], data) }, { [CACHE_KEY]: JSON.stringify(meta) });
  }
  return {
    images,
    identities: [...new Set(images.map((i) => i.identity))],
    encodings: { data, count: images.length, dim },
    reused,
    computed: missing.length,
  };
}
