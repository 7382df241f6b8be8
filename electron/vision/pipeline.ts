/**
 * Runs an inference engine over many image files with decoding and preprocessing overlapped with inference: while
 * batch k runs, batch k+1 is already being decoded by sharp on its own thread pool, so the engine rarely waits for
 * images. A file that cannot be read or decoded is reported and skipped; the run goes on. Cancel with an AbortSignal.
 */
import { CancelledError, SortaError, serializeError } from '../shared/errors.js';
import type { InferenceEngine } from './ort-engine.js';
import { preprocessBatch, type PreprocessedBatch, type PreprocessOptions } from './preprocess.js';

export interface PipelineProgress {
  done: number;
  total: number;
  failed: number;
}

export interface PipelineBatch {
  /** Index into `files` of each row. */
  indices: number[];
  /** Each requested output as [rows, dim]; row r belongs to files[indices[r]]. */
  outputs: Record<string, Float32Array>;
}

export interface PipelineOptions {
  batchSize?: number;
  /** Batches prepared ahead of the one running (default 1: decode exactly one batch ahead). */
  prefetch?: number;
  signal?: AbortSignal;
  preprocess?: Omit<PreprocessOptions, 'name'>;
  onProgress?: (progress: PipelineProgress) => void;
  /** Receives each batch's outputs as soon as it is computed (so thousands of feature vectors need not pile up). */
  onBatch: (batch: PipelineBatch) => void | Promise<void>;
}

export interface PipelineError {
  index: number;
  file: string;
  code: string;
  message: string;
}

export interface PipelineResult {
  processed: number;
  errors: PipelineError[];
}

export const DEFAULT_BATCH_SIZE = 8;

export async function runPipeline(
  engine: InferenceEngine,
  files: string[],
  options: PipelineOptions,
): Promise<PipelineResult> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const prefetch = Math.max(1, options.prefetch ?? 1);
  const { signal } = options;
  const batches: number[][] = [];
  for (let i = 0; i < files.length; i += batchSize)
    batches.push(Array.from({ length: Math.min(batchSize, files.length - i) }, (_, k) => i + k));

  const errors: PipelineError[] = [];
  let processed = 0;
  const report = () =>
    options.onProgress?.({ done: processed + errors.length, total: files.length, failed: errors.length });

  // preprocessBatch never rejects for a bad image (those come back in `errors`), so a queued promise that is never
  // awaited after a cancel cannot become an unhandled rejection; `.catch` covers the rest.
  const prepare = (indices: number[]) => {
    const promise = preprocessBatch(
      indices.map((i) => files[i]),
      engine.inputSize,
      options.preprocess,
    );
    promise.catch(() => {});
    return promise;
  };
  const queue: Promise<PreprocessedBatch>[] = [];
  let next = 0;
  const fill = () => {
    while (queue.length < prefetch + 1 && next < batches.length) queue.push(prepare(batches[next++]));
  };

  report();
  for (let b = 0; b < batches.length; b++) {
    if (signal?.aborted) throw new CancelledError();
    fill();
    const prepared = await queue.shift()!;
    // Start decoding the following batch before the (blocking) inference call below.
    fill();
    if (signal?.aborted) throw new CancelledError();
    const indices = prepared.indices.map((row) => batches[b][row]);
    for (const failure of prepared.errors) {
      const { code, message } = serializeError(failure.error);
      const index = batches[b][failure.index];
      errors.push({ index, file: files[index], code, message });
    }
    if (indices.length > 0) {
      let outputs: Record<string, Float32Array>;
      try {
        outputs = await engine.run(prepared.data, indices.length);
      } catch (error) {
        throw error instanceof SortaError
          ? error
          : new SortaError('internal', `inference failed: ${(error as Error).message}`, { cause: error });
      }
      await options.onBatch({ indices, outputs });
      processed += indices.length;
    }
    report();
  }
  return { processed, errors };
}

/** One row of a [rows, dim] output. */
export function row(output: Float32Array, rows: number, r: number): Float32Array {
  const dim = output.length / rows;
  return output.subarray(r * dim, (r + 1) * dim);
}
