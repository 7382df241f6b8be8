/** train.* and models.*: fine-tuning in the trainer's worker thread, and the project's model records. */
import type { Arch, ModelDetail, ModelSummary, TrainParams, TrainResult } from '../contract/index.js';
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
import type { TrainEvent } from '../train/messages.js';
import type { AppContext } from './context.js';
import type { JobHandle } from './jobs.js';
import { rememberedTrainOptions, rememberTrainOptions } from './train-options.js';
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

async function trainingDefaults(project: Project): Promise<TrainParams> {
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
}

/** The trainer's events as `train.phase` / `train.epoch` and the job's progress. */
function reportTrainEvent(job: JobHandle, event: TrainEvent): void {
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
}

export function setupTrain(registry: Registry, ctx: AppContext): void {
  const modelsChanged = () => ctx.emit({ type: 'data.changed', topics: ['models'] });

  registry.handle('train.defaults', async () => trainingDefaults(ctx.project()));
  registry.handle('train.options', async () => {
    const project = ctx.project();
    const defaults = await trainingDefaults(project);
    return { ...defaults, ...rememberedTrainOptions(ctx.dataDir, project.path) };
  });
  registry.handle('train.rememberOptions', async ({ params }) => {
    rememberTrainOptions(ctx.dataDir, ctx.project().path, params);
    return null;
  });

  registry.handle('train.start', async ({ params = {}, jobId }) => {
    const project = ctx.project();
    const arch = params.arch ?? DEFAULT_ARCH;
    const weights = await weightsFor(arch);
    rememberTrainOptions(ctx.dataDir, project.path, params);
    const result = await ctx.jobs.run(
      'train',
      'Fine-tuning',
      jobId,
      async (job): Promise<TrainResult> => {
        const trained = await trainProject(
          project,
          { ...params, weightsPath: weights.path, arch },
          {
            signal: job.signal,
            onEvent: (event) => reportTrainEvent(job, event),
          },
        );
        return {
          modelId: trained.modelId,
          classes: trained.classes,
          epochs: trained.epochs,
          metrics: { valAccuracy: trained.metrics.valAccuracy, valLoss: trained.metrics.valLoss },
        };
      },
      {
        input: { params },
        exclusive: 'train',
        conflictMessage: (running) =>
          `A fine-tune of ${project.path} is already running (started ${new Date(running.startedAt).toLocaleTimeString()}): wait for it to end or cancel it first.`,
      },
    );
    modelsChanged();
    return result;
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
