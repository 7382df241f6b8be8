/** train.* and models.*: fine-tuning in the trainer's worker thread, and the project's model records. */
import type { Arch, ModelDetail, ModelSummary, TrainParams } from '../contract/index.js';
import { SortaError } from '../shared/errors.js';
import {
  deleteModel,
  getModel,
  listModels,
  renameModel,
  trainingSet,
  type ModelSummaryRow,
} from '../store/models-repo.js';
import type { Project } from '../store/project.js';
import { exportModel, importModel } from '../train/export.js';
import { trainProject, DEFAULT_ARCH } from '../train/train-project.js';
import { resolveTrainingDefaults } from '../train/trainer.js';
import { DEFAULT_INPUT_SIZE } from '../vision/arch.js';
import { findInstalledWeights } from '../vision/weights-manager.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

const DEFAULT_VAL_SPLIT = 0.2;

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function toModelSummary(row: ModelSummaryRow): ModelSummary {
  return {
    id: row.id,
    name: row.name,
    arch: row.arch as Arch,
    inputSize: row.inputSize,
    headMode: row.headMode,
    classes: row.classes,
    createdAt: row.createdAt,
    trainMs: row.trainMs,
    valAccuracy: numberOrNull(row.metrics.valAccuracy),
  };
}

function modelDetail(project: Project, id: number): ModelDetail {
  const model = getModel(project, id);
  const metrics = model.metrics as {
    valLoss?: unknown;
    perClass?: ModelDetail['metrics']['perClass'];
    confusion?: number[][];
  };
  const curves = model.curves as Partial<ModelDetail['curves']>;
  return {
    ...toModelSummary(model),
    metrics: {
      valAccuracy: numberOrNull(model.metrics.valAccuracy),
      valLoss: numberOrNull(metrics.valLoss),
      perClass: metrics.perClass ?? [],
      confusion: metrics.confusion ?? [],
    },
    curves: {
      trainLoss: curves.trainLoss ?? [],
      valLoss: curves.valLoss ?? [],
      trainAccuracy: curves.trainAccuracy ?? [],
      valAccuracy: curves.valAccuracy ?? [],
    },
    params: model.params,
  };
}

async function weightsFor(arch: Arch) {
  const installed = await findInstalledWeights(arch);
  if (!installed)
    throw new SortaError(
      'not-found',
      `No ${arch} weights are installed: download them or import a .safetensors file first.`,
    );
  return installed;
}

export function setupTrain(registry: Registry, ctx: AppContext): void {
  const modelsChanged = () => ctx.emit({ type: 'data.changed', topics: ['models'] });

  registry.handle('train.defaults', async (): Promise<TrainParams> => {
    const project = ctx.project();
    const installed = await findInstalledWeights(DEFAULT_ARCH);
    const mode = installed && installed.classifier === null ? 'full' : 'last';
    const labelled = trainingSet(project).images.length;
    const trainCount = Math.max(1, Math.round(labelled * (1 - DEFAULT_VAL_SPLIT)));
    const pretrainedLayers = mode === 'full' && installed?.classifier ? 2 : 0;
    const resolved = resolveTrainingDefaults({ mode }, trainCount, pretrainedLayers);
    return {
      arch: DEFAULT_ARCH,
      headMode: 'auto',
      inputSize: DEFAULT_INPUT_SIZE,
      epochs: resolved.epochs,
      valSplit: resolved.valSplit,
      augment: resolved.augment,
      seed: resolved.seed,
    };
  });

  registry.handle('train.start', async ({ params = {}, jobId }) => {
    const project = ctx.project();
    const arch = params.arch ?? DEFAULT_ARCH;
    const weights = await weightsFor(arch);
    const result = await ctx.jobs.run('train', 'Fine-tuning', jobId, (job) =>
      trainProject(
        project,
        {
          weightsPath: weights.path,
          arch,
          headMode: params.headMode,
          inputSize: params.inputSize,
          epochs: params.epochs,
          valSplit: params.valSplit,
          augment: params.augment,
          seed: params.seed,
        },
        {
          signal: job.signal,
          onEvent: (event) => {
            if (event.type === 'phase') {
              job.emit({
                type: 'train.phase',
                jobId: job.jobId,
                phase: event.phase,
                done: event.done,
                total: event.total,
              });
              job.progress({ done: event.done, total: event.total, unit: 'images', message: event.phase });
            } else if (event.type === 'epoch') {
              job.emit({ ...event, type: 'train.epoch', jobId: job.jobId });
              job.progress({ done: event.epoch, total: event.epochs, unit: 'epochs', message: 'training' });
            } else {
              job.progress({ done: 0, total: null, message: event.message });
            }
          },
        },
      ),
    );
    modelsChanged();
    return {
      modelId: result.modelId,
      classes: result.classes,
      epochs: result.epochs,
      metrics: { valAccuracy: result.metrics.valAccuracy, valLoss: result.metrics.valLoss },
    };
  });

  registry.handle('models.list', async () => listModels(ctx.project()).map(toModelSummary));
  registry.handle('models.get', async ({ id }) => modelDetail(ctx.project(), id));
  registry.handle('models.confusionImages', async ({ id, actual, predicted }) => {
    const validation = getModel(ctx.project(), id).metrics.validation as
      | { imageId: number; actual: number; predicted: number }[]
      | undefined;
    return (validation ?? [])
      .filter((v) => v.actual === actual && v.predicted === predicted)
      .map((v) => v.imageId);
  });
  registry.handle('models.rename', async ({ id, name }) => {
    const project = ctx.project();
    renameModel(project, id, name === '' ? null : name);
    modelsChanged();
    return toModelSummary(getModel(project, id));
  });
  registry.handle('models.delete', async ({ id }) => {
    deleteModel(ctx.project(), id);
    modelsChanged();
    return null;
  });
  registry.handle('models.export', async ({ id, dir }) => exportModel(ctx.project(), id, dir));
  registry.handle('models.import', async ({ dir }) => {
    const project = ctx.project();
    const id = await importModel(project, dir);
    modelsChanged();
    return toModelSummary(getModel(project, id));
  });
}

export function countModels(project: Project): number {
  return listModels(project).length;
}
