// The training progress bar: epoch, a bar, loss, each loss term and the metrics that fit the loss
// (accuracy, binary accuracy, MSE/MAE...), examples/s and ETA on one line that redraws in a
// terminal; in a log (not a TTY) one line per tenth of an epoch instead. Also the epoch line and
// `cnnc eval`'s summary, which show the same quantities in words.

import { formatMetric } from './metrics.ts';
import type { TrainingSession } from './session.ts';

export interface ProgressState {
  readonly epoch: number;
  readonly epochs: number;
  /** Batches done in this epoch. */
  readonly batch: number;
  readonly batches: number;
  /** Running mean over this epoch. */
  readonly loss: number;
  /** Running loss terms and metrics over this epoch, formatted (`acc 45.0%`). */
  readonly details: readonly string[];
  readonly imagesPerSecond: number;
  /** Seconds until the whole run ends. */
  readonly etaSeconds: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function formatProgress(p: ProgressState, width = 24): string {
  const filled = p.batches === 0 ? width : Math.round((p.batch / p.batches) * width);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (p.batch === p.batches ? '=' : '>') : ''}${' '.repeat(width - filled)}`;
  const parts = [
    `epoch ${p.epoch}/${p.epochs}`,
    `[${bar}]`,
    `${p.batch}/${p.batches}`,
    `loss ${p.loss.toFixed(4)}`,
    ...p.details,
    `${p.imagesPerSecond >= 100 ? Math.round(p.imagesPerSecond).toLocaleString('en-US') : p.imagesPerSecond.toFixed(1)} img/s`,
    `ETA ${formatDuration(p.etaSeconds)}`,
  ];
  return parts.join('  ');
}

export class ProgressBar {
  private lastTenth = -1;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  private get interactive(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(p: ProgressState): void {
    const line = formatProgress(p);
    if (this.interactive) {
      const now = Date.now();
      if (now - this.lastDraw < 80 && p.batch !== p.batches) return;
      this.lastDraw = now;
      this.stream.write(`\r${line}\x1b[K`);
      return;
    }
    const tenth = Math.floor((p.batch / Math.max(1, p.batches)) * 10);
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the current epoch's line, then prints `message` on its own line. */
  finishEpoch(message: string): void {
    if (this.interactive) this.stream.write('\n');
    this.lastTenth = -1;
    this.stream.write(`${message}\n`);
  }
}

/** Loss, terms and metrics averaged over examples, in the session's order. */
export interface MeasuredValues {
  readonly loss: number;
  readonly terms: readonly number[];
  readonly metrics: readonly number[];
}

type Described = Pick<TrainingSession, 'terms' | 'metrics'>;

/** Short forms for the bar: each term of a weighted sum (`binary_cross_entropy(face) 0.6931`) and each metric (`acc 45.0%`). */
export function progressDetails(session: Described, m: MeasuredValues): string[] {
  const terms = session.terms.length > 1 ? session.terms.map((t, i) => `${t.label} ${m.terms[i]!.toFixed(4)}`) : [];
  return [...terms, ...session.metrics.map((s, i) => `${s.short} ${formatMetric(s, m.metrics[i]!)}`)];
}

/** In words, for epoch lines and eval: `loss 0.3012 (binary_cross_entropy(face) 0.2 + ...), binary accuracy 91.2%`. */
export function describeMeasured(session: Described, m: MeasuredValues, lossWord = 'loss'): string {
  const terms = session.terms.length > 1 ? ` (${session.terms.map((t, i) => `${t.weight === 1 ? '' : `${t.weight} * `}${t.label} ${m.terms[i]!.toFixed(4)}`).join(' + ')})` : '';
  const metrics = session.metrics.map((s, i) => `, ${s.name} ${formatMetric(s, m.metrics[i]!, 2)}`).join('');
  return `${lossWord} ${m.loss.toFixed(4)}${terms}${metrics}`;
}
