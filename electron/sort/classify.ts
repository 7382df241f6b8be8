/**
 * Classify a folder: a trained model (the newest by default) over every image under a directory (recursive; image
 * extensions in any case; hidden files and folders skipped), eval mode, decode overlapped with inference, progress
 * and cancel. The result is a 'classify' job holding each file's top-k probabilities and the model's id. A file that
 * cannot be read or decoded is an error of that file only. Optionally the predictions go back into the project as
 * model predictions for review (the review list shows the least confident first).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CancelledError, SortaError } from '../shared/errors.js';
import { ensureClass } from '../store/classes.js';
import { importFolder } from '../store/import.js';
import {
  createJob,
  imageIdsByPath,
  inTransaction,
  insertPredictions,
  setJobState,
  type JobPrediction,
} from '../store/jobs-repo.js';
import { setPredictions } from '../store/labels.js';
import { listModels } from '../store/models-repo.js';
import type { Project } from '../store/project.js';
import { scanFolder } from '../store/scan.js';
import { buildModelOnnx } from '../train/export.js';
import { row, runPipeline } from '../vision/pipeline.js';
import { convolutionFor, defaultExecutionProvider } from '../vision/ort-engine.js';
import { createClassifierEngine, PROBS_OUTPUT } from './classifier-engine.js';
import { linkedFolderOnPath, realPathOfMaybeMissing } from './paths.js';
import { kindOf } from './fs-ops.js';
import { currentOwner } from './owner.js';

export const DEFAULT_TOP_K = 5;

/** What classify needs of a model: its graph (with a `probs` output), classes in output order, input size. */
export interface ClassifierModel {
  id: number | null;
  onnx: Uint8Array;
  classes: string[];
  inputSize: number;
}

export interface ClassifyProgress {
  done: number;
  total: number;
  failed: number;
}

export interface ClassifyOptions {
  /** A model of the project; default the newest. */
  modelId?: number;
  /** A ready model instead of one of the project's (benchmarks, tools). */
  model?: ClassifierModel;
  /** Probabilities kept per file (default 5; all when there are fewer classes). */
  topK?: number;
  batchSize?: number;
  /** Also store the predictions in the project for review (the folder is added to the project). */
  review?: boolean;
  /** Weights file to rebuild the model from, when it moved since training. */
  weightsPath?: string;
  signal?: AbortSignal;
  onProgress?: (progress: ClassifyProgress) => void;
}

export interface ClassifiedFile {
  /** Path relative to the classified folder, '/' separated. */
  file: string;
  label: string;
  confidence: number;
  /** Top-k probabilities, highest first. */
  probs: Record<string, number>;
}

export interface ClassifyOutcome {
  jobId: number;
  modelId: number | null;
  classes: string[];
  /** Real path of the classified folder. */
  sourceDir: string;
  predictions: ClassifiedFile[];
  errors: { file: string; error: string }[];
  /** Predictions stored for review (with `review`). */
  reviewed: number;
}

/** The model to classify with: the given one, or the project's newest trained model. */
export async function loadProjectModel(
  project: Project,
  modelId?: number,
  weightsPath?: string,
): Promise<ClassifierModel> {
  const id = modelId ?? listModels(project)[0]?.id;
  if (id === undefined)
    throw new SortaError(
      'not-found',
      `Project ${project.path} has no trained model yet; fine-tune one first (sorta train).`,
    );
  // The graph for the provider the classifier engine will run on (Winograd on the CPU).
  const convolution = convolutionFor(defaultExecutionProvider());
  const built = await buildModelOnnx(
    project,
    id,
    weightsPath ? { weightsPath, convolution } : { convolution },
  );
  return { id, onnx: built.onnx, classes: built.classes, inputSize: built.inputSize };
}

/** The top `k` of a probability row, highest first (ties: class order). */
export function topK(probs: Float32Array, classes: readonly string[], k: number): [string, number][] {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, k).map((i) => [classes[i], probs[i]]);
}

export async function classifyFolder(
  project: Project,
  dir: string,
  options: ClassifyOptions = {},
): Promise<ClassifyOutcome> {
  const sourceKind = kindOf(realPathOfMaybeMissing(dir));
  if (sourceKind !== 'directory')
    throw new SortaError(
      sourceKind === 'missing' ? 'not-found' : 'invalid-input',
      `${dir} ${sourceKind === 'missing' ? 'does not exist' : 'is not a folder'}.`,
    );
  const sourceDir = realPathOfMaybeMissing(dir);
  const model = options.model ?? (await loadProjectModel(project, options.modelId, options.weightsPath));
  const k = Math.max(1, Math.min(options.topK ?? DEFAULT_TOP_K, model.classes.length));

  const scan = await scanFolder(sourceDir, { signal: options.signal });
  const errors: ClassifyOutcome['errors'] = scan.problems.map((p) => ({ file: p.rel, error: p.error }));
  const inside = withoutLinkedFolders(sourceDir, scan.files, errors);
  const files = inside.map((f) => f.rel).sort();
  const realPaths = new Map(inside.map((f) => [f.rel, f.real]));

  const jobId = createJob(project, {
    kind: 'classify',
    state: 'running',
    modelId: model.id,
    sourceDir,
    params: { topK: k, files: files.length, owner: currentOwner() },
  });
  const engine = await createClassifierEngine(model.onnx, model.inputSize);
  const predictions: (ClassifiedFile | undefined)[] = new Array(files.length);
  try {
    const result = await runPipeline(
      engine,
      files.map((f) => `${sourceDir}/${f}`),
      {
        batchSize: options.batchSize,
        signal: options.signal,
        onProgress: options.onProgress,
        onBatch: async ({ indices, outputs }) => {
          const probs = outputs[PROBS_OUTPUT];
          indices.forEach((fileIndex, r) => {
            const top = topK(row(probs, indices.length, r), model.classes, k);
            predictions[fileIndex] = {
              file: files[fileIndex],
              label: top[0][0],
              confidence: top[0][1],
              probs: Object.fromEntries(top),
            };
          });
          await nextTurn();
        },
      },
    );
    for (const failure of result.errors) errors.push({ file: files[failure.index], error: failure.message });
  } catch (error) {
    const cancelled = error instanceof CancelledError || options.signal?.aborted;
    setJobState(project, jobId, cancelled ? 'cancelled' : 'failed', (error as Error).message);
    throw cancelled && !(error instanceof CancelledError) ? new CancelledError('classify cancelled') : error;
  } finally {
    await engine.close();
  }

  const done = predictions.filter((p): p is ClassifiedFile => p !== undefined);
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const rows: JobPrediction[] = [
    ...done.map((p) => ({
      path: p.file,
      label: p.label,
      confidence: p.confidence,
      probs: p.probs,
      error: null,
    })),
    ...errors.map((e) => ({ path: e.file, label: null, confidence: null, probs: null, error: e.error })),
  ];
  inTransaction(project, () => {
    insertPredictions(project, jobId, rows);
    setJobState(project, jobId, 'done', errors.length ? `${errors.length} file(s) could not be read` : null);
  });
  const reviewed = options.review ? await storeForReview(project, sourceDir, done, realPaths, model.id) : 0;
  return { jobId, modelId: model.id, classes: model.classes, sourceDir, predictions: done, errors, reviewed };
}

/**
 * Adds the folder to the project (no labels from folder names) and stores each prediction for review, so the label
 * grid can list them least confident first; human labels are never touched.
 */
async function storeForReview(
  project: Project,
  sourceDir: string,
  predictions: readonly ClassifiedFile[],
  realPaths: ReadonlyMap<string, string>,
  modelId: number | null,
): Promise<number> {
  await importFolder(project, sourceDir, { folderLabels: false, thumbnails: false });
  const ids = imageIdsByPath(project, [...realPaths.values()]);
  const inputs = predictions.flatMap((p) => {
    const imageId = ids.get(realPaths.get(p.file) ?? '');
    return imageId === undefined
      ? []
      : [{ imageId, classId: ensureClass(project, p.label).id, confidence: p.confidence, modelId }];
  });
  return setPredictions(project, inputs);
}

/**
 * Files found through a symbolically linked folder are left out (one error names each such folder): Sorta does not
 * descend into linked folders, whose files may lie outside the folder (a link to the output folder, say).
 */
function withoutLinkedFolders<T extends { rel: string }>(
  sourceDir: string,
  files: readonly T[],
  errors: ClassifyOutcome['errors'],
): T[] {
  const linkedFolders = new Set<string>();
  const kept = files.filter((file) => {
    const linked = linkedFolderOnPath(sourceDir, file.rel);
    if (linked !== null) linkedFolders.add(linked);
    return linked === null;
  });
  for (const folder of linkedFolders)
    errors.push({
      file: folder,
      error:
        'a symbolic link to a folder; not followed (Sorta classifies and sorts only files inside the folder)',
    });
  return kept;
}

/** Predictions ordered for review: least confident first. */
export function reviewOrder<T extends { confidence: number }>(predictions: readonly T[]): T[] {
  return [...predictions].sort((a, b) => a.confidence - b.confidence);
}
