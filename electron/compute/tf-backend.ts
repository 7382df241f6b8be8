/**
 * Chooses the TensorFlow.js backend for training (and TF.js inference): tfjs-node-gpu (the local GPU), tfjs-node,
 * wasm, cpu — in that order, or the one named by SORTA_BACKEND. Each skipped backend keeps the reason it failed, so
 * `sorta doctor` can say why the GPU is not used.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { SortaError } from '../shared/errors.js';

export type TfBackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export const TF_BACKEND_ORDER: readonly TfBackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export type Tf = typeof import('@tensorflow/tfjs');

export interface TfBackendAttempt {
  backend: TfBackendName;
  ok: boolean;
  reason?: string;
}

export interface TfRuntime {
  tf: Tf;
  backend: TfBackendName;
  /** True when tfjs-node-gpu loaded and TensorFlow sees a GPU. */
  gpu: boolean;
  attempts: TfBackendAttempt[];
}

const require = createRequire(import.meta.url);
let runtime: Promise<TfRuntime> | undefined;

/** Loads TF.js once per process with the best backend that works here. */
export function loadTf(): Promise<TfRuntime> {
  runtime ??= chooseBackend();
  return runtime;
}

function requestedBackends(): readonly TfBackendName[] {
  const requested = process.env.SORTA_BACKEND?.trim();
  if (!requested) return TF_BACKEND_ORDER;
  if (!(TF_BACKEND_ORDER as readonly string[]).includes(requested)) {
    throw new SortaError(
      'usage',
      `SORTA_BACKEND=${requested} is not a backend; use one of ${TF_BACKEND_ORDER.join(', ')}`,
    );
  }
  return [requested as TfBackendName];
}

async function chooseBackend(): Promise<TfRuntime> {
  const attempts: TfBackendAttempt[] = [];
  for (const backend of requestedBackends()) {
    try {
      const loaded = await tryBackend(backend);
      attempts.push({ backend, ok: true });
      return { ...loaded, backend, attempts };
    } catch (error) {
      attempts.push({ backend, ok: false, reason: firstLine(error) });
    }
  }
  const reasons = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  throw new SortaError('unsupported', `no TensorFlow.js backend could be loaded (${reasons})`);
}

async function tryBackend(backend: TfBackendName): Promise<{ tf: Tf; gpu: boolean }> {
  switch (backend) {
    case 'tfjs-node-gpu': {
      // tfjs-node-gpu is an optionalDependency: absent where libtensorflow could not be downloaded.
      const tf = require('@tensorflow/tfjs-node-gpu') as Tf;
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { tf, gpu: tensorflowSeesGpu() };
    }
    case 'tfjs-node': {
      const tf = require('@tensorflow/tfjs-node') as Tf;
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { tf, gpu: false };
    }
    case 'wasm': {
      const tf = require('@tensorflow/tfjs') as Tf;
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      wasm.setThreadsCount(Math.max(1, cpus().length));
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
      await tf.ready();
      return { tf, gpu: false };
    }
    case 'cpu': {
      const tf = require('@tensorflow/tfjs') as Tf;
      await tf.setBackend('cpu');
      await tf.ready();
      return { tf, gpu: false };
    }
  }
}

function tensorflowSeesGpu(): boolean {
  // The binding has no device query; the loaded CUDA build plus a present NVIDIA driver means the GPU is used.
  return existsSync('/proc/driver/nvidia/version');
}

function firstLine(error: unknown): string {
  if ((error as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND') {
    return 'not installed (an optional package: its libtensorflow download failed or was skipped at install time)';
  }
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}
