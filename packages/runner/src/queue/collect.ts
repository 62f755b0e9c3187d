import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerJob, WorkerMessage } from '../compare/worker-pool.js';
import { writeFileAtomicSync } from '@sparse-learning/checkpoint';
import { RESULT_FILES, type QueueJobResult } from './grid.js';

/**
 * The submitter's record of a queued grid: every run is recorded exactly once — the first completion or
 * final failure wins; a second report of the same run (a job that somehow completed twice, or completed after
 * it was reported failed) is ignored and counted in {@link ResultCollector.duplicates}. Recording a finished
 * run writes its small files (`results.json`, `metrics.jsonl`, `config.json`, `run.log`, only those names)
 * into the submitter's run directory atomically, so the comparison directory is complete without shared disk.
 */
export class ResultCollector {
  private readonly recorded = new Set<number>();
  /** Reports ignored because their run was already recorded. */
  duplicates = 0;

  constructor(
    private readonly jobs: readonly WorkerJob[],
    private readonly onMessage: (message: WorkerMessage, job: WorkerJob) => void,
  ) {}

  /** Runs recorded so far. */
  get size(): number {
    return this.recorded.size;
  }

  /** True when every run of the grid is recorded. */
  get complete(): boolean {
    return this.recorded.size === this.jobs.length;
  }

  /** True when run `index` is recorded (done or failed). */
  has(index: number): boolean {
    return this.recorded.has(index);
  }

  private claim(index: number): WorkerJob | null {
    const job = this.jobs[index];
    if (!job || job.id !== index) return null;
    if (this.recorded.has(index)) {
      this.duplicates++;
      return null;
    }
    this.recorded.add(index);
    return job;
  }

  /** Records a finished run: writes its files home, then reports `done`. Returns false for a duplicate. */
  completed(index: number, value: QueueJobResult): boolean {
    const job = this.claim(index);
    if (!job) return false;
    mkdirSync(job.outDir, { recursive: true });
    for (const name of RESULT_FILES) {
      const text = value.files?.[name];
      if (typeof text === 'string') writeFileAtomicSync(join(job.outDir, name), text);
    }
    this.onMessage({ type: 'done', id: index, results: value.results }, job);
    return true;
  }

  /** Records a run that failed for good (bad input, or out of retries). Returns false for a duplicate. */
  failed(index: number, error: { code: string; message: string }): boolean {
    const job = this.claim(index);
    if (!job) return false;
    this.onMessage({ type: 'failed', id: index, error }, job);
    return true;
  }
}
