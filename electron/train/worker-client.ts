/**
 * Runs a TrainJob in its own worker thread, so neither the Electron main thread nor the CLI's event loop ever blocks
 * on training. Cancel through the AbortSignal: the worker stops at its next step and frees its tensors; if it has
 * not answered within CANCEL_GRACE_MS (one long step on a slow CPU), the thread is terminated, which frees
 * everything it held. Either way no model is produced.
 */
import { CancelledError, SortaError } from '../shared/errors.js';
import { startSiblingWorker } from '../shared/worker-url.js';
import type { FromTrainWorker, TrainEvent, TrainJob, TrainJobResult, ToTrainWorker } from './messages.js';

export const CANCEL_GRACE_MS = 700;

export function runTrainingInWorker(
  job: TrainJob,
  hooks: { onEvent?: (event: TrainEvent) => void; signal?: AbortSignal } = {},
): Promise<TrainJobResult> {
  const { signal } = hooks;
  if (signal?.aborted) return Promise.reject(new CancelledError('training cancelled'));
  return new Promise((resolve, reject) => {
    const worker = startSiblingWorker(import.meta.url, 'train-worker');
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'cancel' } satisfies ToTrainWorker);
      graceTimer = setTimeout(
        () => finish(() => reject(new CancelledError('training cancelled'))),
        CANCEL_GRACE_MS,
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: FromTrainWorker) => {
      switch (message.type) {
        case 'event':
          if (!settled) hooks.onEvent?.(message.event);
          break;
        case 'done':
          finish(() => resolve(message.result));
          break;
        case 'cancelled':
          finish(() => reject(new CancelledError('training cancelled')));
          break;
        case 'failed':
          finish(() => reject(new SortaError(message.error.code, message.error.message)));
          break;
      }
    });
    worker.on('error', (error) =>
      finish(() =>
        reject(new SortaError('internal', `the training worker failed: ${error.message}`, { cause: error })),
      ),
    );
    worker.on('exit', (code) =>
      finish(() =>
        reject(new SortaError('internal', `the training worker exited unexpectedly (code ${code})`)),
      ),
    );
    worker.postMessage({ type: 'start', job } satisfies ToTrainWorker);
  });
}
