import { z } from 'zod';
import { jobIdInput, method, noInput } from './common.js';
import { archSchema, type Arch } from './weights.js';

export type HeadMode = 'last' | 'full';

export interface TrainParams {
  arch: Arch;
  /** 'auto': `last` when the weights have the ImageNet classifier, else `full`. */
  headMode: HeadMode | 'auto';
  inputSize: number;
  epochs: number;
  valSplit: number;
  /** Horizontal-flip augmentation. */
  augment: boolean;
  seed: number;
}

export const trainParamsInput = z.strictObject({
  arch: archSchema.optional(),
  headMode: z.enum(['auto', 'last', 'full']).optional(),
  inputSize: z.number().int().min(32).max(1024).optional(),
  epochs: z.number().int().min(1).max(1000).optional(),
  valSplit: z.number().min(0).max(0.9).optional(),
  augment: z.boolean().optional(),
  seed: z.number().int().min(0).optional(),
});

export interface TrainResult {
  modelId: number;
  classes: string[];
  /** Epochs actually run (early stopping may end sooner). */
  epochs: number;
  metrics: { valAccuracy: number | null; valLoss: number | null };
}

export const trainMethods = {
  /**
   * The defaults the "Fine-tune" button uses for the project's current labels and installed weights (the
   * advanced panel starts from them): epochs is the automatic choice for this many images (early stopping may end
   * sooner).
   */
  'train.defaults': method<TrainParams>()(noInput),
  /** The options last chosen for this project (remembered by `train.rememberOptions` and `train.start`), else the defaults. */
  'train.options': method<TrainParams>()(noInput),
  'train.rememberOptions': method<null>()(z.strictObject({ params: trainParamsInput })),
  /**
   * Fine-tunes the head on the project's labelled images. Events: `train.phase`, `train.epoch`, `job.*`
   * (kind 'train'). Cancel with `jobs.cancel`: no partial model is kept. Refused (`conflict`) while the
   * project's previous fine-tune still runs.
   */
  'train.start': method<TrainResult>()(
    z.strictObject({ params: trainParamsInput.optional(), jobId: jobIdInput.optional() }),
  ),
};
