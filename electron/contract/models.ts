import { z } from 'zod';
import { method, noInput, pathString, rowId } from './common.js';
import type { HeadMode, TrainParams } from './train.js';
import type { ClassMetrics } from '../train/metrics.js';
import type { Arch } from './weights.js';

export type { ClassMetrics };

export interface ModelSummary {
  id: number;
  name: string | null;
  arch: Arch;
  inputSize: number;
  headMode: HeadMode;
  /** Class names in output order. */
  classes: string[];
  createdAt: number;
  trainMs: number | null;
  valAccuracy: number | null;
}

export interface ModelDetail extends ModelSummary {
  metrics: {
    valAccuracy: number | null;
    valLoss: number | null;
    perClass: ClassMetrics[];
    /** confusion[actual][predicted], indices into `classes`. */
    confusion: number[][];
  };
  curves: {
    trainLoss: number[];
    valLoss: number[];
    trainAccuracy: number[];
    valAccuracy: number[];
  };
  params: Partial<TrainParams> & Record<string, unknown>;
}

export const modelMethods = {
  /** Newest first. */
  'models.list': method<ModelSummary[]>()(noInput),
  'models.get': method<ModelDetail>()(z.strictObject({ id: rowId })),
  /** The validation images in one confusion-matrix cell (indices into the model's `classes`). */
  'models.confusionImages': method<number[]>()(
    z.strictObject({ id: rowId, actual: z.number().int().min(0), predicted: z.number().int().min(0) }),
  ),
  'models.rename': method<ModelSummary>()(z.strictObject({ id: rowId, name: z.string().trim().max(200) })),
  'models.delete': method<null>()(z.strictObject({ id: rowId })),
  /** Writes `model.onnx` + `metadata.json` into `dir` (created; never overwrites). */
  'models.export': method<{ dir: string; files: string[] }>()(z.strictObject({ id: rowId, dir: pathString })),
  'models.import': method<ModelSummary>()(z.strictObject({ dir: pathString })),
};
