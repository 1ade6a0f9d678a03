// The verification threshold kept in a weights file's metadata: `cnnc eval` on an encoder fits it
// on held-out pairs and stores it; verify and recognize read it when no --threshold is given.

import { readSafetensorsFile, writeSafetensorsFile } from '../checkpoint.ts';
import type { SafetensorsMetadata } from '../safetensors.ts';
import type { VerificationReport } from './verification.ts';

export const THRESHOLD_KEY = 'cnnc_verification';

/** The course's threshold for unit-length 128-d encodings, used when none was fitted. */
export const COURSE_THRESHOLD = 0.7;

export interface StoredVerification {
  /** Euclidean distance at or below which two encodings are the same identity. */
  readonly threshold: number;
  readonly layer: string;
  readonly accuracy: number;
  readonly auc: number;
  readonly data: string;
}

export function readStoredVerification(metadata: SafetensorsMetadata): StoredVerification | undefined {
  const raw = metadata[THRESHOLD_KEY];
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as StoredVerification;
    return Number.isFinite(v.threshold) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Rewrites the weights file atomically with the fitted threshold added to its metadata. */
export function storeVerification(path: string, report: VerificationReport, layer: string, data: string): void {
  const file = readSafetensorsFile(path);
  const stored: StoredVerification = { threshold: report.threshold, layer, accuracy: report.accuracy, auc: report.auc, data };
  writeSafetensorsFile(path, file.tensors, { ...file.metadata, [THRESHOLD_KEY]: JSON.stringify(stored) });
}

/** The threshold to decide with: --threshold, else the one stored for this encoding layer, else the course's 0.7. */
export function pickThreshold(option: number | undefined, metadata: SafetensorsMetadata, layer: string): { threshold: number; source: string } {
  if (option !== undefined) return { threshold: option, source: '--threshold' };
  const stored = readStoredVerification(metadata);
  if (stored && stored.layer === layer) return { threshold: stored.threshold, source: `fitted by cnnc eval on ${stored.data}` };
  const why = stored ? `the stored one is for layer ${stored.layer}; ` : '';
  return { threshold: COURSE_THRESHOLD, source: `the course's default; ${why}fit one with cnnc eval` };
}
