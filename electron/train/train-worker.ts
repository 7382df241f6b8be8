/**
 * The training worker thread: runs one TrainJob (weights, features, head training) off the main thread, posting
 * progress events, and stops at the next step when told to cancel (then frees its tensors and posts `cancelled`).
 */
import { parentPort } from 'node:worker_threads';
import { CancelledError, serializeError } from '../shared/errors.js';
import { runTrainingJob } from './job.js';
import type { FromTrainWorker, ToTrainWorker } from './messages.js';

const port = parentPort;
if (!port) throw new Error('train-worker must run in a worker thread');
const controller = new AbortController();
let started = false;

const post = (message: FromTrainWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (message: ToTrainWorker) => {
  switch (message.type) {
    case 'cancel':
      controller.abort();
      break;
    case 'start':
      if (started) return;
      started = true;
      void runTrainingJob(message.job, {
        signal: controller.signal,
        onEvent: (event) => post({ type: 'event', event }),
      }).then(
        (result) => {
          if (controller.signal.aborted) return post({ type: 'cancelled' });
          const buffers = [...result.head.values()].map((t) => t.data.buffer as ArrayBuffer);
          post({ type: 'done', result }, [...new Set(buffers)]);
        },
        (error: unknown) => {
          if (error instanceof CancelledError || controller.signal.aborted) post({ type: 'cancelled' });
          else post({ type: 'failed', error: serializeError(error) });
        },
      );
      break;
  }
});
