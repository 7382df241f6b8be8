import type { Command } from 'commander';
import type { TrainEvent } from '../../train/messages.js';
import { DEFAULT_ARCH, trainProject } from '../../train/train-project.js';
import { ARCH_NAMES, DEFAULT_INPUT_SIZE, isArchName, MIN_INPUT_SIZE } from '../../vision/arch.js';
import { openProjectForCommand } from '../project.js';
import { defineAction, parseFloatOption, parseIntOption, UsageError } from '../command.js';
import type { Output } from '../output.js';

interface TrainOptions {
  project: string;
  weights: string;
  arch: string;
  head: string;
  inputSize: number;
  epochs?: number;
  valSplit?: number;
  seed?: number;
  augment?: boolean;
  name?: string;
}

function seconds(ms: number): string {
  return ms >= 60_000
    ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
    : `${Math.round(ms / 1000)}s`;
}

function reportEvent(out: Output, event: TrainEvent): void {
  switch (event.type) {
    case 'phase':
      if (event.phase === 'weights') out.progress(event.done ? 'weights loaded' : 'loading weights…');
      else if (event.phase === 'features')
        out.progress(
          `extracting features ${event.done}/${event.total} (${event.cached ?? 0} from the cache)`,
        );
      break;
    case 'epoch': {
      const val =
        event.valLoss === null
          ? ''
          : `, val loss ${event.valLoss.toFixed(4)} acc ${(100 * event.valAccuracy!).toFixed(1)}%`;
      out.progress(
        `epoch ${event.epoch}/${event.epochs}: train loss ${event.trainLoss.toFixed(4)} acc ` +
          `${(100 * event.trainAccuracy).toFixed(1)}%${val}, ETA ≤ ${seconds(event.etaMs)}`,
      );
      break;
    }
    case 'warning':
      out.log(`warning: ${event.message}`);
      break;
  }
}

export function registerTrain(program: Command): void {
  defineAction<TrainOptions>(
    program
      .command('train')
      .description(
        "fine-tune the VGG head on the project's labelled images (backbone frozen) and save a model",
      )
      .requiredOption('--project <file>', 'the project file (.sorta)')
      .requiredOption('--weights <file>', 'VGG weights (.safetensors, torchvision or timm names)')
      .option('--arch <name>', `architecture of the weights (${ARCH_NAMES.join(', ')})`, DEFAULT_ARCH)
      .option(
        '--head <mode>',
        "'last' (a new layer on fc7), 'full' (all three classifier layers) or 'auto' (last when the weights have the ImageNet classifier)",
        'auto',
      )
      .option(
        '--input-size <pixels>',
        'network input size',
        parseIntOption('--input-size', MIN_INPUT_SIZE),
        DEFAULT_INPUT_SIZE,
      )
      .option(
        '--epochs <n>',
        'maximum epochs (default: 30 for last, 15 for full, more for tiny sets)',
        parseIntOption('--epochs', 1),
      )
      .option(
        '--val-split <fraction>',
        'share of each class held out for validation (default 0.2)',
        parseFloatOption('--val-split', 0, 0.9),
      )
      .option(
        '--seed <n>',
        'seed for the split, shuffling, dropout and initialisation (default 0)',
        parseIntOption('--seed', 0),
      )
      .option('--augment', 'horizontal-flip augmentation (flipped features are cached too)')
      .option('--name <name>', 'a name for the model'),
    async ({ opts, out }) => {
      if (!isArchName(opts.arch))
        throw new UsageError(`--arch must be one of ${ARCH_NAMES.join(', ')}, got '${opts.arch}'`);
      if (!['auto', 'last', 'full'].includes(opts.head))
        throw new UsageError(`--head must be last, full or auto, got '${opts.head}'`);
      const { project } = await openProjectForCommand(opts.project, out, { create: false });
      const controller = new AbortController();
      const onSignal = () => {
        out.log('cancelling…');
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      try {
        const result = await trainProject(
          project,
          {
            weightsPath: opts.weights,
            arch: opts.arch,
            headMode: opts.head as 'auto' | 'last' | 'full',
            inputSize: opts.inputSize,
            epochs: opts.epochs,
            valSplit: opts.valSplit,
            seed: opts.seed,
            augment: Boolean(opts.augment),
            name: opts.name,
          },
          { signal: controller.signal, onEvent: (event) => reportEvent(out, event) },
        );
        const { valAccuracy, valLoss, valMacroF1 } = result.metrics;
        out.result(
          {
            model: result.modelId,
            classes: result.classes,
            epochs: result.epochs,
            metrics: { val_accuracy: valAccuracy, val_loss: valLoss, val_macro_f1: valMacroF1 },
          },
          `model ${result.modelId} (${result.headMode} head): ${result.classes.length} classes, ${result.epochs} epochs ` +
            `(best ${result.bestEpoch}), ` +
            (valAccuracy === null
              ? 'no validation split'
              : `validation accuracy ${(100 * valAccuracy).toFixed(1)}%`) +
            `; features: ${result.features.computed} computed, ${result.features.cached} from the cache`,
        );
      } finally {
        process.off('SIGINT', onSignal);
        project.close();
      }
    },
  );
}
