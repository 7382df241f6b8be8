import { z } from 'zod';
import { ARCH_NAMES } from '../vision/arch.js';
import { jobIdInput, method, noInput, pathString } from './common.js';

/** The architectures, from the one VGG description both engines build from. */
export const archNames = ARCH_NAMES;
export type Arch = (typeof archNames)[number];
export const archSchema = z.enum(archNames);

export interface WeightsStatus {
  arch: Arch;
  /** A verified weights file is installed. */
  present: boolean;
  path: string | null;
  sizeBytes: number | null;
  /** SHA-256 of the file. */
  checksum: string | null;
  /** The file holds the ImageNet classifier (head mode `last` is possible). */
  hasClassifier: boolean | null;
  /** Where `weights.download` fetches from; null when this arch has no default source. */
  downloadUrl: string | null;
}

export const weightsMethods = {
  /** One entry per architecture Sorta knows. */
  'weights.status': method<WeightsStatus[]>()(noInput),
  /** Downloads (resuming a partial download) and verifies; `job.progress` counts bytes (kind 'weights'). */
  'weights.download': method<WeightsStatus>()(
    z.strictObject({ arch: archSchema.optional(), url: z.url().optional(), jobId: jobIdInput.optional() }),
  ),
  /** Verifies a local `.safetensors` file and installs it for `arch` (default vgg16_bn). */
  'weights.import': method<WeightsStatus>()(
    z.strictObject({ path: pathString, arch: archSchema.optional(), jobId: jobIdInput.optional() }),
  ),
};
