import type { EpochMetrics } from '../run/metrics.js';

/** Where the CLI writes: a stream-like sink plus whether it is a terminal. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** `1h02m`, `3m20s`, `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

function pct(value: number | null, digits = 2): string {
  return value === null || !Number.isFinite(value) ? '—' : `${(100 * value).toFixed(digits)}%`;
}

/** One plain line per epoch (used on and off a terminal). */
export function epochLine(metrics: EpochMetrics, epochs: number, prefix = ''): string {
  return (
    `${prefix}epoch ${metrics.epoch}/${epochs}  loss ${metrics.trainLoss.toFixed(4)}  val ${pct(metrics.validationAccuracy)}` +
    `  test ${pct(metrics.testAccuracy)}  lr ${metrics.learningRate.toPrecision(3)}  prune ${metrics.pruneRate.toFixed(4)}` +
    `  density ${metrics.density.toFixed(4)}${metrics.maskUpdates ? `  updates ${metrics.maskUpdates}` : ''}  ${metrics.epochSeconds.toFixed(1)}s`
  );
}

/**
 * Renders training progress: on a terminal a redrawn bar with steps, loss and ETA (at most ~10 redraws per
 * second) plus one line per epoch; otherwise only the plain epoch lines, so logs stay readable.
 */
export class ProgressRenderer {
  private totalSteps = 0;
  private startedAt = 0;
  private firstStep = 0;
  private lastDraw = 0;
  private barVisible = false;
  private readonly now: () => number;

  constructor(
    private readonly out: OutputStream,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  /** Starts the bar; `firstStep` is where a resumed run starts (the ETA counts only this session's steps). */
  start(totalSteps: number, firstStep = 0): void {
    this.totalSteps = totalSteps;
    this.firstStep = firstStep;
    this.startedAt = this.now();
    this.lastDraw = 0;
  }

  step(step: number, epoch: number, epochs: number, loss: number): void {
    if (!this.interactive) return;
    const now = this.now();
    if (step < this.totalSteps && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = this.totalSteps > 0 ? Math.min(1, step / this.totalSteps) : 0;
    const elapsed = (now - this.startedAt) / 1000;
    const done = step - this.firstStep;
    const eta = done > 0 ? (elapsed / done) * (this.totalSteps - step) : Number.NaN;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${bar} ${(100 * fraction).toFixed(0).padStart(3)}%  step ${step}/${this.totalSteps}  epoch ${epoch}/${epochs}  loss ${loss.toFixed(4)}  ETA ${formatDuration(eta)}`;
    const columns = this.out.columns ?? 120;
    this.out.write(`\r\x1b[2K${line.slice(0, Math.max(20, columns - 1))}`);
    this.barVisible = true;
  }

  /** Prints a line above the bar (the bar is redrawn by the next step). */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  clear(): void {
    if (this.barVisible) {
      this.out.write('\r\x1b[2K');
      this.barVisible = false;
    }
  }
}
