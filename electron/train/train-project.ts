/**
 * "Fine-tune" for a project: gathers the human-labelled images, runs the training job in a worker thread, and saves
 * the model record only when training finished — a cancelled or failed run leaves no model behind.
 */
import { SortaError } from '../shared/errors.js';
import { DEFAULT_INPUT_SIZE, type ArchName } from '../vision/arch.js';
import { insertModel, trainingSet } from '../store/models-repo.js';
import type { Project } from '../store/project.js';
import { encodeHead } from './head-codec.js';
import type { HeadMode } from './head-model.js';
import { runTrainingJob } from './job.js';
import type { TrainEvent, TrainJob, TrainJobResult } from './messages.js';
import { runTrainingInWorker } from './worker-client.js';

export const DEFAULT_ARCH: ArchName = 'vgg16_bn';

export interface TrainProjectOptions {
  weightsPath: string;
  arch?: ArchName;
  headMode?: HeadMode | 'auto';
  inputSize?: number;
  /** Width of classifier.0/.3 for weights without a classifier (default 4096). */
  hidden?: number;
  epochs?: number;
  valSplit?: number;
  seed?: number;
  augment?: boolean;
  batchSize?: number;
  learningRate?: number;
  patience?: number;
  name?: string;
  /** Train in a worker thread (default). `false` runs in this thread: tests that count tensors use it. */
  worker?: boolean;
}

export interface TrainProjectResult {
  modelId: number;
  classes: string[];
  /** Epochs run (early stopping may end before the maximum). */
  epochs: number;
  bestEpoch: number;
  headMode: HeadMode;
  metrics: { valAccuracy: number | null; valLoss: number | null; valMacroF1: number | null };
  features: TrainJobResult['features'];
  trainMs: number;
}

export async function trainProject(
  project: Project,
  options: TrainProjectOptions,
  hooks: { onEvent?: (event: TrainEvent) => void; signal?: AbortSignal } = {},
): Promise<TrainProjectResult> {
  if (!options.weightsPath)
    throw new SortaError('invalid-input', 'fine-tuning needs VGG weights: choose a weights file first');
  const set = trainingSet(project);
  const job: TrainJob = {
    cacheDir: project.cacheDir,
    weightsPath: options.weightsPath,
    arch: options.arch ?? DEFAULT_ARCH,
    headMode: options.headMode ?? 'auto',
    inputSize: options.inputSize ?? DEFAULT_INPUT_SIZE,
    hidden: options.hidden,
    classes: set.classes,
    images: set.images,
    valSplit: options.valSplit,
    seed: options.seed,
    epochs: options.epochs,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    patience: options.patience,
    augment: options.augment,
  };
  const result =
    options.worker === false ? await runTrainingJob(job, hooks) : await runTrainingInWorker(job, hooks);
  if (hooks.signal?.aborted) throw new SortaError('cancelled', 'training cancelled');
  const modelId = saveModel(project, result, options.name ?? null);
  return {
    modelId,
    classes: result.classes,
    epochs: result.epochsRun,
    bestEpoch: result.bestEpoch,
    headMode: result.headMode,
    metrics: {
      valAccuracy: result.metrics?.accuracy ?? null,
      valLoss: result.valLoss,
      valMacroF1: result.metrics?.macroF1 ?? null,
    },
    features: result.features,
    trainMs: result.trainMs,
  };
}

/** Model record fields; params keep what rebuilding the network needs (weights path + checksum) and how it trained. */
export function saveModel(project: Project, result: TrainJobResult, name: string | null): number {
  return insertModel(project, {
    name,
    arch: result.arch,
    inputSize: result.inputSize,
    headMode: result.headMode,
    classes: result.classes,
    weightsChecksum: result.weightsChecksum,
    head: encodeHead(result.head),
    metrics: {
      valAccuracy: result.metrics?.accuracy ?? null,
      valLoss: result.valLoss,
      macroF1: result.metrics?.macroF1 ?? null,
      perClass: result.metrics?.perClass ?? [],
      confusion: result.metrics?.confusion ?? [],
      validation: result.validation,
    },
    curves: result.curves,
    params: {
      format: 'head',
      weightsPath: result.weightsPath,
      weightsChecksum: result.weightsChecksum,
      ...result.options,
      pretrainedLayers: result.pretrainedLayers,
      epochsRun: result.epochsRun,
      bestEpoch: result.bestEpoch,
      trainImages: result.trainImages,
      valImages: result.validation.length,
      features: { computed: result.features.computed, cached: result.features.cached },
    },
    trainMs: result.trainMs,
  });
}
