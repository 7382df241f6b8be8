/**
 * The fine-tuned network as one ONNX graph (frozen backbone + trained head, softmax output `probs`), for
 * classification on the inference engine and for export: `model.onnx` + `metadata.json` (class names and
 * preprocessing), usable from Python, C# or mobile. Importing such a folder stores the ONNX bytes themselves, so an
 * imported model is self-contained and predicts exactly as the exported file does.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeFsError, SortaError } from '../shared/errors.js';
import { getModel, insertModel, type HeadModeName } from '../store/models-repo.js';
import type { Project } from '../store/project.js';
import { IMAGENET_MEAN, IMAGENET_STD, isArchName } from '../vision/arch.js';
import { buildVggOnnx, INPUT_NAME, type ConvolutionAlgorithm } from '../vision/onnx-graph.js';
import { loadOrt } from '../vision/ort-engine.js';
import { CROP_RATIO } from '../vision/preprocess.js';
import { loadVggWeights, type LoadedWeights } from '../vision/weights.js';
import { decodeHead } from './head-codec.js';

export const MODEL_FILE = 'model.onnx';
export const METADATA_FILE = 'metadata.json';
export const OUTPUT_NAME = 'probs';

export interface ModelOnnx {
  onnx: Uint8Array;
  classes: string[];
  inputSize: number;
  arch: string;
}

/**
 * The whole fine-tuned network of model `modelId` as ONNX bytes with a `probs` output. A trained model is rebuilt
 * from the weights file it was trained on (its path is in the record; `weightsPath` overrides it when the file has
 * moved) after checking the file's checksum; an imported model returns its stored graph.
 */
export async function buildModelOnnx(
  project: Project,
  modelId: number,
  options: { weightsPath?: string; convolution?: ConvolutionAlgorithm } = {},
): Promise<ModelOnnx> {
  const model = getModel(project, modelId);
  const base = { classes: model.classes, inputSize: model.inputSize, arch: model.arch };
  if (model.params.format === 'onnx') return { onnx: model.head, ...base };
  if (!isArchName(model.arch))
    throw new SortaError('database', `model ${modelId} has unknown arch '${model.arch}'`);
  const weightsPath = options.weightsPath ?? String(model.params.weightsPath ?? '');
  let weights: LoadedWeights;
  try {
    const hidden = typeof model.params.hidden === 'number' ? model.params.hidden : undefined;
    weights = await loadVggWeights(weightsPath, model.arch, { hidden });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SortaError(
      error instanceof SortaError ? error.code : 'io',
      `model ${modelId} is rebuilt from the weights it was trained on, which cannot be loaded: ${reason}`,
      { cause: error },
    );
  }
  if (weights.checksum !== model.weightsChecksum)
    throw new SortaError(
      'invalid-weights',
      `model ${modelId} was trained on weights with SHA-256 ${model.weightsChecksum.slice(0, 12)}…, but ` +
        `${weightsPath} has ${weights.checksum.slice(0, 12)}…; restore the original file or train again`,
    );
  const head = decodeHead(model.head, `the head of model ${modelId}`);
  const onnx = buildVggOnnx(weights, {
    inputSize: model.inputSize,
    outputs: [OUTPUT_NAME],
    headOverride: head,
    convolution: options.convolution,
  });
  return { onnx, ...base };
}

export interface ModelMetadata {
  format: 'sorta-model';
  version: 1;
  name: string | null;
  arch: string;
  headMode: HeadModeName;
  classes: string[];
  inputSize: number;
  input: { name: string; shape: (string | number)[]; layout: 'NCHW'; color: 'RGB'; dtype: 'float32' };
  output: { name: string; shape: (string | number)[]; meaning: string };
  preprocessing: {
    resizeShorterSide: number;
    interpolation: 'bilinear';
    centerCrop: number;
    scale: number;
    mean: number[];
    std: number[];
    description: string;
  };
  weightsChecksum: string;
  metrics: Record<string, unknown>;
  createdAt: string;
}

export async function exportModel(
  project: Project,
  modelId: number,
  dir: string,
  options: { weightsPath?: string } = {},
): Promise<{ dir: string; files: string[] }> {
  const target = resolve(dir);
  const model = getModel(project, modelId);
  const built = await buildModelOnnx(project, modelId, options);
  const resizeTo = Math.floor(model.inputSize / CROP_RATIO);
  const { validation: _validation, ...metrics } = model.metrics;
  const metadata: ModelMetadata = {
    format: 'sorta-model',
    version: 1,
    name: model.name,
    arch: model.arch,
    headMode: model.headMode,
    classes: model.classes,
    inputSize: model.inputSize,
    input: {
      name: INPUT_NAME,
      shape: ['batch', 3, model.inputSize, model.inputSize],
      layout: 'NCHW',
      color: 'RGB',
      dtype: 'float32',
    },
    output: {
      name: OUTPUT_NAME,
      shape: ['batch', model.classes.length],
      meaning: 'softmax probabilities, one per class in the order of `classes`',
    },
    preprocessing: {
      resizeShorterSide: resizeTo,
      interpolation: 'bilinear',
      centerCrop: model.inputSize,
      scale: 1 / 255,
      mean: [...IMAGENET_MEAN],
      std: [...IMAGENET_STD],
      description:
        `torchvision: Resize(${resizeTo}), CenterCrop(${model.inputSize}), ToTensor(), ` +
        `Normalize(mean=[${IMAGENET_MEAN.join(', ')}], std=[${IMAGENET_STD.join(', ')}]) on the RGB image`,
    },
    weightsChecksum: model.weightsChecksum,
    metrics,
    createdAt: new Date(model.createdAt).toISOString(),
  };
  try {
    mkdirSync(target, { recursive: true });
  } catch (error) {
    throw new SortaError('io', `cannot create ${target}: ${describeFsError(error)}`, { cause: error });
  }
  const clashes = readdirSync(target).filter((f) => f === MODEL_FILE || f === METADATA_FILE);
  if (clashes.length > 0)
    throw new SortaError(
      'conflict',
      `${join(target, clashes[0])} already exists; export into an empty folder`,
    );
  const files = [join(target, MODEL_FILE), join(target, METADATA_FILE)];
  try {
    // 'wx': never overwrite a file that appeared in the meantime.
    writeFileSync(files[0], built.onnx, { flag: 'wx' });
    writeFileSync(files[1], JSON.stringify(metadata, null, 2) + '\n', { flag: 'wx' });
  } catch (error) {
    throw new SortaError('io', `cannot write the model into ${target}: ${describeFsError(error)}`, {
      cause: error,
    });
  }
  return { dir: target, files };
}

function readMetadata(dir: string): ModelMetadata {
  const path = join(dir, METADATA_FILE);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SortaError('not-found', `${path}: ${describeFsError(error)}`, { cause: error });
  }
  let meta: Partial<ModelMetadata>;
  try {
    meta = JSON.parse(raw) as Partial<ModelMetadata>;
  } catch (error) {
    throw new SortaError('invalid-input', `${path} is not valid JSON (${(error as Error).message})`);
  }
  const problem =
    meta.format !== 'sorta-model'
      ? 'it is not a Sorta model description (format ≠ "sorta-model")'
      : meta.version !== 1
        ? `version ${String(meta.version)} is not supported`
        : !Array.isArray(meta.classes) ||
            meta.classes.length < 2 ||
            !meta.classes.every((c) => typeof c === 'string')
          ? '"classes" must list at least two class names'
          : !Number.isInteger(meta.inputSize) || (meta.inputSize ?? 0) < 32
            ? '"inputSize" must be an integer ≥ 32'
            : !isArchName(String(meta.arch))
              ? `unknown arch '${String(meta.arch)}'`
              : meta.headMode !== 'last' && meta.headMode !== 'full'
                ? `unknown head mode '${String(meta.headMode)}'`
                : null;
  if (problem) throw new SortaError('invalid-input', `${path}: ${problem}`);
  return meta as ModelMetadata;
}

/** Checks that the graph loads and maps a [1, 3, S, S] input to one probability per class. */
async function checkGraph(onnx: Uint8Array, meta: ModelMetadata, path: string): Promise<void> {
  const ort = loadOrt();
  let session;
  try {
    session = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: 'all' });
  } catch (error) {
    throw new SortaError(
      'invalid-input',
      `${path} is not a loadable ONNX model: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  try {
    if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME))
      throw new SortaError('invalid-input', `${path} must take '${INPUT_NAME}' and give '${OUTPUT_NAME}'`);
    const size = meta.inputSize;
    const feed = new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]);
    const out = await session.run({ [INPUT_NAME]: feed });
    const got = out[OUTPUT_NAME].data.length;
    if (got !== meta.classes.length)
      throw new SortaError(
        'invalid-input',
        `${path} outputs ${got} probabilities but ${METADATA_FILE} names ${meta.classes.length} classes`,
      );
  } catch (error) {
    if (error instanceof SortaError) throw error;
    throw new SortaError(
      'invalid-input',
      `${path} does not run at input size ${meta.inputSize}: ${(error as Error).message.split('\n')[0]}`,
    );
  } finally {
    await session.release();
  }
}

/** Imports an exported folder as a new model of this project; returns its id. */
export async function importModel(project: Project, dir: string): Promise<number> {
  const source = resolve(dir);
  const meta = readMetadata(source);
  const modelPath = join(source, MODEL_FILE);
  let onnx: Uint8Array;
  try {
    onnx = new Uint8Array(readFileSync(modelPath));
  } catch (error) {
    throw new SortaError('not-found', `${modelPath}: ${describeFsError(error)}`, { cause: error });
  }
  await checkGraph(onnx, meta, modelPath);
  return insertModel(project, {
    name: meta.name ?? null,
    arch: meta.arch,
    inputSize: meta.inputSize,
    headMode: meta.headMode,
    classes: meta.classes,
    weightsChecksum: typeof meta.weightsChecksum === 'string' ? meta.weightsChecksum : 'unknown',
    head: onnx,
    metrics: meta.metrics ?? {},
    curves: {},
    params: { format: 'onnx', importedFrom: source },
    trainMs: null,
  });
}
