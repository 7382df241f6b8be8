/**
 * The trainer's data: one cached feature vector per labelled image (and, with flip augmentation, the features of
 * its mirror image), the stratified train/validation split, class weights and mini-batch assembly.
 */
import { SortaError } from '../shared/errors.js';
import type { SeededRandom } from './rng.js';

export interface TrainingSample {
  /** Index into `TrainingData.classes`. */
  label: number;
  features: Float32Array;
  /** Features of the horizontally flipped image (flip augmentation); absent when augmentation is off. */
  flipped?: Float32Array;
  /** The project's image id, carried through so metrics can point back at images. */
  imageId?: number;
}

export interface TrainingData {
  /** Class names in output order. */
  classes: string[];
  /** Length of every feature vector (4096 for `last`, 25088 for `full` at full size). */
  featureSize: number;
  samples: TrainingSample[];
}

export interface DataSplit {
  train: number[];
  val: number[];
}

/** Refuses data the trainer cannot learn from, naming the class. */
export function checkTrainingData(data: TrainingData): void {
  if (data.classes.length < 2)
    throw new SortaError(
      'invalid-input',
      `fine-tuning needs at least two classes with labelled images; the project has ${data.classes.length}` +
        (data.classes.length === 1 ? ` ('${data.classes[0]}')` : ''),
    );
  const counts = classCounts(data);
  const empty = data.classes.filter((_, k) => counts[k] === 0);
  if (empty.length > 0)
    throw new SortaError(
      'invalid-input',
      `class${empty.length > 1 ? 'es' : ''} ${empty.map((c) => `'${c}'`).join(', ')} ha${empty.length > 1 ? 've' : 's'} ` +
        'no labelled image; label at least one image in every class (or delete the empty class) before fine-tuning',
    );
  for (const [i, sample] of data.samples.entries()) {
    if (sample.features.length !== data.featureSize)
      throw new SortaError(
        'internal',
        `sample ${i} has ${sample.features.length} features, expected ${data.featureSize}`,
      );
  }
}

export function classCounts(data: TrainingData): number[] {
  const counts = new Array<number>(data.classes.length).fill(0);
  for (const s of data.samples) counts[s.label]++;
  return counts;
}

/**
 * Stratified split: per class, `round(n · valFraction)` images go to validation, but at least one when the class has
 * two or more images and never all of them (a class with one image trains only). Seeded, so reproducible.
 */
export function stratifiedSplit(
  labels: readonly number[],
  numClasses: number,
  valFraction: number,
  random: SeededRandom,
): DataSplit {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, i) => byClass[label].push(i));
  const train: number[] = [];
  const val: number[] = [];
  for (const members of byClass) {
    random.shuffle(members);
    let nVal = 0;
    if (valFraction > 0 && members.length >= 2)
      nVal = Math.min(members.length - 1, Math.max(1, Math.round(members.length * valFraction)));
    val.push(...members.slice(0, nVal));
    train.push(...members.slice(nVal));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/**
 * "Balanced" class weights n / (K · n_k) over the training images, so every class counts equally in the loss
 * however unevenly it is labelled (a class absent from training gets weight 0).
 */
export function balancedClassWeights(labels: readonly number[], numClasses: number): Float32Array {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) counts[label]++;
  const present = counts.filter((c) => c > 0).length;
  return Float32Array.from(counts, (c) => (c > 0 ? labels.length / (present * c) : 0));
}

/** Copies the rows of `indices` into one row-major [n, featureSize] matrix. */
export function gatherRows(
  samples: readonly TrainingSample[],
  indices: readonly number[],
  featureSize: number,
  useFlipped?: readonly boolean[],
): Float32Array {
  const out = new Float32Array(indices.length * featureSize);
  indices.forEach((index, row) => {
    const sample = samples[index];
    const source = useFlipped?.[row] && sample.flipped ? sample.flipped : sample.features;
    out.set(source, row * featureSize);
  });
  return out;
}

/** Splits an index list into consecutive batches of at most `size`. */
export function batches(indices: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}
