// Checkpoints and weight files on disk.
// Writes go to a temporary file in the same folder, are fsynced, then renamed over the target:
// rename is atomic within a file system, so a crash leaves either the old file or the new one, never half of one.

import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readSafetensorsWithMetadata, writeSafetensors, SafetensorsError, type SafetensorsMetadata } from './safetensors.ts';
import type { HostTensor } from './tensor.ts';
import { UserError } from '../grammar/user-error.ts';

export class CheckpointError extends UserError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'CheckpointError';
    this.path = path;
  }
}

export interface AtomicWriteHooks {
  /** Bytes per write call (default 8 MiB). */
  chunkBytes?: number;
  /** Called after each chunk is written to the temporary file (tests use it to kill a save mid-write). */
  afterChunk?: (written: number, total: number) => void;
  /** Called after the data is fsynced, before the rename (tests use it to abort a save at the last moment). */
  beforeRename?: (tempPath: string) => void;
}

const TEMP_MARK = '.tmp-';

/** The temporary name for a write to `path`: hidden, same folder, tagged with our pid so stale ones can be found. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `bytes` to `path` atomically: temp file in the same folder, fsync, rename, fsync the folder. */
export function writeFileAtomic(path: string, bytes: Uint8Array, hooks: AtomicWriteHooks = {}): void {
  const temp = tempPathFor(path);
  const chunk = hooks.chunkBytes ?? 8 << 20;
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o644);
  } catch (e) {
    // Node's text names the hidden temporary file; the user knows only the folder they gave.
    const missing = (e as { code?: unknown }).code === 'ENOENT';
    throw new CheckpointError(path, `cannot create a temporary file beside it: ${missing ? `the folder ${dirname(path)} does not exist` : (e as Error).message}`);
  }
  try {
    try {
      for (let at = 0; at < bytes.length; ) {
        at += writeSync(fd, bytes, at, Math.min(chunk, bytes.length - at));
        hooks.afterChunk?.(at, bytes.length);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    hooks.beforeRename?.(temp);
    renameSync(temp, path);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    if (e instanceof CheckpointError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw err.code ? new CheckpointError(path, `write failed: ${err.message}`) : e;
  }
  syncFolder(dirname(path));
}

/** fsync on a folder makes the rename itself durable; some platforms refuse it, which is harmless. */
function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here (e.g. Windows)
  }
}

/** Removes temporary files left beside `path` by writers that died (their pid no longer runs). Returns what it removed. */
export function removeStaleTemps(path: string): string[] {
  const folder = dirname(path);
  const prefix = `.${basename(path)}${TEMP_MARK}`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    // Ours may be in progress; a live pid may be another writer. Unparsable names are not ours to judge.
    if (!Number.isInteger(pid) || pid === process.pid || processIsAlive(pid)) continue;
    try {
      unlinkSync(join(folder, name));
      removed.push(join(folder, name));
    } catch {
      // raced with someone else's cleanup
    }
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new CheckpointError(path, `no such ${what}`);
    if (err.code === 'EISDIR') throw new CheckpointError(path, `is a folder, not a ${what}`);
    throw new CheckpointError(path, `cannot read ${what}: ${err.message}`);
  }
}

/** Reads a safetensors file from disk. Errors name the file. */
export function readSafetensorsFile(path: string): { tensors: Map<string, HostTensor>; metadata: SafetensorsMetadata } {
  return readSafetensorsWithMetadata(readBytes(path, 'safetensors file'), path);
}

/** Writes a safetensors file atomically. */
export function writeSafetensorsFile(
  path: string,
  tensors: Map<string, HostTensor> | Record<string, HostTensor>,
  metadata?: SafetensorsMetadata,
  hooks?: AtomicWriteHooks,
): void {
  writeFileAtomic(path, writeSafetensors(tensors, metadata), hooks);
}

// --- checkpoints ---

/** JSON values allowed in a checkpoint's free-form fields. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where training stands, enough to resume on the same next batch. */
export interface TrainingPosition {
  epoch: number;
  /** Optimizer steps taken so far (across epochs). */
  step: number;
  /** Batches already consumed in the current epoch. */
  batchInEpoch: number;
  /** Serialized state of the data-order PRNG (see runtime/data/random.ts). */
  rng: string;
}

export interface Checkpoint {
  /** Model weights by PyTorch-style name (`conv1.weight`). */
  weights: Map<string, HostTensor>;
  /** Optimizer state by name (`conv1.weight.m`, `conv1.weight.v`, ...). */
  optimizer: Map<string, HostTensor>;
  position: TrainingPosition;
  /** Anything else worth keeping (model name, optimizer hyperparameters, loss history). */
  info: Record<string, Json>;
}

/** Checkpoint files keep weights under their own names (so they also load as plain weight files) and optimizer state under this prefix. */
export const OPTIMIZER_PREFIX = 'optimizer/';
const META_KEY = 'cnnc_checkpoint';
const FORMAT_VERSION = 1;

export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const all = new Map<string, HostTensor>();
  for (const [name, t] of ckpt.weights) {
    if (name.startsWith(OPTIMIZER_PREFIX)) throw new TypeError(`weight name '${name}' may not start with '${OPTIMIZER_PREFIX}'`);
    all.set(name, t);
  }
  for (const [name, t] of ckpt.optimizer) all.set(OPTIMIZER_PREFIX + name, t);
  const meta = { version: FORMAT_VERSION, position: ckpt.position, info: ckpt.info };
  return writeSafetensors(all, { format: 'pt', [META_KEY]: JSON.stringify(meta) });
}

export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  let file;
  try {
    file = readSafetensorsWithMetadata(bytes, path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(path, e.message.slice(path.length + 2));
    throw e;
  }
  const raw = file.metadata[META_KEY];
  if (raw === undefined) throw new CheckpointError(path, `not a cnnc checkpoint: __metadata__ has no '${META_KEY}' entry (a plain weights file?)`);
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch (e) {
    throw new CheckpointError(path, `__metadata__.${META_KEY} is not valid JSON: ${(e as Error).message}`);
  }
  const m = meta as { version?: unknown; position?: Partial<Record<keyof TrainingPosition, unknown>>; info?: unknown };
  if (m.version !== FORMAT_VERSION) throw new CheckpointError(path, `unsupported checkpoint version ${JSON.stringify(m.version)} (this cnnc reads version ${FORMAT_VERSION})`);
  const p = m.position ?? {};
  for (const key of ['epoch', 'step', 'batchInEpoch'] as const) {
    if (!Number.isSafeInteger(p[key]) || (p[key] as number) < 0) {
      throw new CheckpointError(path, `training position field '${key}' is ${JSON.stringify(p[key])}, expected a non-negative integer`);
    }
  }
  if (typeof p.rng !== 'string') throw new CheckpointError(path, `training position field 'rng' is ${JSON.stringify(p.rng)}, expected a string`);
  const weights = new Map<string, HostTensor>();
  const optimizer = new Map<string, HostTensor>();
  for (const [name, t] of file.tensors) {
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizer.set(name.slice(OPTIMIZER_PREFIX.length), t);
    else weights.set(name, t);
  }
  const info = typeof m.info === 'object' && m.info !== null && !Array.isArray(m.info) ? (m.info as Record<string, Json>) : {};
  return {
    weights,
    optimizer,
    position: { epoch: p.epoch as number, step: p.step as number, batchInEpoch: p.batchInEpoch as number, rng: p.rng },
    info,
  };
}

/** Saves a checkpoint atomically (the previous file at `path` survives any crash during the save). */
export function saveCheckpoint(path: string, ckpt: Checkpoint, hooks?: AtomicWriteHooks): void {
  removeStaleTemps(path);
  writeFileAtomic(path, encodeCheckpoint(ckpt), hooks);
}

export function loadCheckpoint(path: string): Checkpoint {
  return decodeCheckpoint(readBytes(path, 'checkpoint'), path);
}

// --- validation of loaded weights ---

/**
 * Refuses tensors that are not F32 or hold NaN or infinity. A NaN weight loads silently and then
 * hides (ReLU maps it to 0, the divergence guard never sees it) and the next checkpoint carries it.
 */
export function checkLoadableTensors(tensors: ReadonlyMap<string, HostTensor>, path: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'F32') throw new CheckpointError(path, `tensor '${name}' is ${t.dtype}; cnnc loads F32 weights (convert with tensor.float() before saving)`);
    const data = t.data as Float32Array;
    let bad = 0;
    let first = -1;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        if (first < 0) first = i;
        bad++;
      }
    }
    if (bad > 0) {
      throw new CheckpointError(path, `tensor '${name}' holds ${bad} non-finite value(s) (${data[first]} at index ${first}); it was saved from a run that diverged: use an earlier checkpoint`);
    }
  }
}

/** A weights file (safetensors) for eval, predict or --weights: F32 and finite, every tensor. */
export function readWeightsFile(path: string): Map<string, HostTensor> {
  const { tensors } = readSafetensorsFile(path);
  checkLoadableTensors(tensors, path);
  return tensors;
}

/**
 * Resuming continues a run exactly, so the checkpoint must hold every tensor the session has
 * (weights and optimizer state), each with the session's shape, and nothing else: a missing
 * tensor would be re-initialised and an extra one means the file belongs to another model.
 */
export function checkResumable(ckpt: Checkpoint, expected: ReadonlyMap<string, readonly number[]>, path: string, model: string): void {
  const held = new Map([...ckpt.weights, ...ckpt.optimizer]);
  checkLoadableTensors(held, path);
  const missing = [...expected.keys()].filter((n) => !held.has(n));
  const extra = [...held.keys()].filter((n) => !expected.has(n));
  const reshaped = [...expected].filter(([n, shape]) => {
    const t = held.get(n);
    return t !== undefined && (t.shape.length !== shape.length ? t.data.length !== shape.reduce((a, b) => a * b, 1) : t.shape.some((d, i) => d !== shape[i]));
  });
  const problems = [
    ...missing.map((n) => `missing ${n}`),
    ...extra.map((n) => `unexpected ${n}`),
    ...reshaped.map(([n, shape]) => `${n} is [${held.get(n)!.shape.join(', ')}], the model has [${shape.join(', ')}]`),
  ];
  if (problems.length === 0) return;
  const saved = typeof ckpt.info.model === 'string' && ckpt.info.model !== model ? ` (it was saved from model ${ckpt.info.model})` : '';
  throw new CheckpointError(
    path,
    `cannot resume model ${model} from this checkpoint${saved}: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? ` (and ${problems.length - 4} more)` : ''}; resume needs the same model and optimizer, or start from its weights with --weights`,
  );
}
