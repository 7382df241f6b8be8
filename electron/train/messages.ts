/**
 * What crosses between the training worker and the thread that started it: tagged unions both ways. Everything is
 * structured-clone friendly (head weights travel as Float32Arrays whose buffers are transferred, not copied).
 */
import type { SerializedError } from '../shared/errors.js';
import type { ArchName } from '../vision/arch.js';
import type { HeadMode, HeadWeights } from './head-model.js';
import type { ClassificationMetrics, TrainingCurves } from './metrics.js';
import type { EpochReport, ResolvedTrainingOptions } from './trainer.js';

export interface TrainJobImage {
  imageId: number;
  path: string;
  /** SHA-256 of the content when the store knows it (else computed). */
  hash: string | null;
  /** Index into `TrainJob.classes`. */
  label: number;
}

export interface TrainJob {
  /** The project's cache folder; features go to `<cacheDir>/features/`. */
  cacheDir: string;
  weightsPath: string;
  arch: ArchName;
  /** 'auto' (default): `last` when the weights hold the ImageNet classifier, else `full`. */
  headMode?: HeadMode | 'auto';
  inputSize: number;
  /** Width of classifier.0/.3 for weights without a classifier (default 4096, VGG's); ignored otherwise. */
  hidden?: number;
  /** Class names in output order. */
  classes: string[];
  images: TrainJobImage[];
  valSplit?: number;
  seed?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  patience?: number;
  /** Horizontal-flip augmentation. */
  augment?: boolean;
}

export type TrainPhase = 'weights' | 'features' | 'training';

export type TrainEvent =
  | { type: 'phase'; phase: TrainPhase; done: number; total: number; cached?: number }
  | ({ type: 'epoch' } & EpochReport)
  | { type: 'warning'; message: string };

export interface TrainJobResult {
  arch: ArchName;
  inputSize: number;
  headMode: HeadMode;
  classes: string[];
  weightsPath: string;
  weightsChecksum: string;
  /** Width of classifier.0/.3 in the weights (4096 at full size). */
  hidden: number;
  head: HeadWeights;
  metrics: ClassificationMetrics | null;
  valLoss: number | null;
  curves: TrainingCurves;
  epochsRun: number;
  bestEpoch: number;
  options: ResolvedTrainingOptions;
  pretrainedLayers: number[];
  /** The validation images with their true and predicted class (for the confusion-matrix drill-down). */
  validation: { imageId: number; actual: number; predicted: number }[];
  trainImages: number;
  features: { computed: number; cached: number; failed: { path: string; message: string }[] };
  trainMs: number;
}

export type ToTrainWorker = { type: 'start'; job: TrainJob } | { type: 'cancel' };

export type FromTrainWorker =
  | { type: 'event'; event: TrainEvent }
  | { type: 'done'; result: TrainJobResult }
  | { type: 'failed'; error: SerializedError }
  | { type: 'cancelled' };
