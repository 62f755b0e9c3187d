/**
 * Structured events the engine emits instead of printing (docs/algorithm.md#the-mask-update "verbose output", made machine-readable).
 * The runner writes them to `metrics.jsonl` and renders them in the CLI.
 */

/** One layer's part of a mask update. */
export interface LayerUpdateReport {
  readonly name: string;
  readonly size: number;
  /** Active weights before the update (`nz_i`). */
  readonly activeBefore: number;
  /** Active weights after growth and masking. */
  readonly activeAfter: number;
  /** Density after the update, `activeAfter / size`. */
  readonly density: number;
  /** Raw redistribution statistic `s_i` (docs/algorithm.md#strategy-variants). */
  readonly stat: number;
  /** Normalised redistribution share `v_i` (NaN-excluded, Σ = 1). */
  readonly share: number;
  /** Prune rate `p_i` used for this layer after the >80 %-dense adjustment. */
  readonly pruneRate: number;
  /** Weights removed by pruning. */
  readonly removed: number;
  /** Float regrowth target from the redistribution loop (after cap and overflow). */
  readonly regrowTarget: number;
  /** Positions enabled by growth (may differ from `floor(regrowTarget)` for stochastic growth). */
  readonly regrown: number;
}

/** Emitted after every prune–redistribute–regrow cycle. */
export interface MaskUpdateEvent {
  readonly type: 'mask-update';
  readonly step: number;
  readonly epoch: number;
  readonly pruneRate: number;
  readonly baselineNonzero: number;
  readonly totalRemoved: number;
  readonly totalRegrown: number;
  readonly totalNonzero: number;
  /** Controller state after the cycle (docs/algorithm.md#the-mask-update). */
  readonly adjustedGrowth: number;
  /** Passes of the overflow loop (docs/algorithm.md#the-mask-update). */
  readonly redistributionPasses: number;
  readonly layers: readonly LayerUpdateReport[];
  /** Problems the engine guarded against (negative budget clamped, loop limit hit...). */
  readonly warnings: readonly string[];
}

/** Emitted after every optimizer step. */
export interface StepEvent {
  readonly type: 'step';
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly learningRate: number;
  readonly pruneRate: number;
}

/** Emitted at the end of every epoch by the trainer's epoch loop. */
export interface EpochEvent {
  readonly type: 'epoch';
  readonly epoch: number;
  readonly step: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** Every event the library emits. */
export type SparseEvent = MaskUpdateEvent | StepEvent | EpochEvent;

/** Receives events (metrics writers, progress renderers, tests). Must not throw. */
export interface EventSink {
  emit(event: SparseEvent): void;
}

/** A sink that drops everything. */
export const nullEventSink: EventSink = Object.freeze({ emit() {} });

/** A sink that keeps every event in memory. */
export function createMemoryEventSink(): EventSink & { readonly events: SparseEvent[] } {
  const events: SparseEvent[] = [];
  return { events, emit: (event) => void events.push(event) };
}

/** Forwards every event to several sinks. */
export function fanOutEventSink(...sinks: EventSink[]): EventSink {
  return { emit: (event) => sinks.forEach((sink) => sink.emit(event)) };
}
