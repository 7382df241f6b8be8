/** Classification metrics on the validation split: accuracy, per-class precision / recall / F1, confusion matrix. */

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Validation images of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** Unweighted mean of the per-class F1 scores. */
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[actual][predicted]. */
  confusion: number[][];
}

export function confusionMatrix(
  actual: readonly number[],
  predicted: readonly number[],
  numClasses: number,
): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  actual.forEach((a, i) => matrix[a][predicted[i]]++);
  return matrix;
}

/** Precision and recall are 0 (not NaN) when nothing was predicted / present, as scikit-learn's zero_division=0. */
export function classificationMetrics(
  actual: readonly number[],
  predicted: readonly number[],
  classes: readonly string[],
): ClassificationMetrics {
  const k = classes.length;
  const confusion = confusionMatrix(actual, predicted, k);
  let correct = 0;
  const perClass = classes.map((name, c) => {
    const tp = confusion[c][c];
    correct += tp;
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((sum, row) => sum + row[c], 0);
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, precision, recall, f1, support };
  });
  return {
    accuracy: actual.length > 0 ? correct / actual.length : 0,
    macroF1: perClass.reduce((sum, m) => sum + m.f1, 0) / Math.max(1, k),
    perClass,
    confusion,
  };
}

export interface TrainingCurves {
  trainLoss: number[];
  trainAccuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
}
