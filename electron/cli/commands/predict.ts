import type { Command } from 'commander';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { describeFsError, SortaError } from '../../shared/errors.js';
import { IMAGE_EXTENSIONS } from '../../shared/image-decode.js';
import { ARCH_NAMES, DEFAULT_INPUT_SIZE, isArchName, MIN_INPUT_SIZE } from '../../vision/arch.js';
import { createInferenceEngine } from '../../vision/engine.js';
import { DEFAULT_BATCH_SIZE, row, runPipeline } from '../../vision/pipeline.js';
import { readSafetensorsHeader } from '../../vision/safetensors.js';
import { loadVggWeights, validateVggHeader } from '../../vision/weights.js';
import { defineAction, parseIntOption, UsageError } from '../command.js';
import { formatRate } from '../output.js';

interface PredictOptions {
  arch: string;
  weights: string;
  inputSize: number;
  classes?: string;
  batch: number;
}

export interface Prediction {
  file: string;
  label: string;
  confidence: number;
  probs: Record<string, number>;
}

export function registerPredict(program: Command): void {
  defineAction<PredictOptions>(
    program
      .command('predict')
      .description('run a VGG weights file (with its classifier) on every image under DIR, recursively')
      .argument('<dir>', 'folder of images (searched recursively)')
      .requiredOption('--arch <arch>', `architecture: ${ARCH_NAMES.join(', ')}`)
      .requiredOption(
        '--weights <file>',
        '.safetensors weights (torchvision or timm names) with a classifier',
      )
      .option(
        '--input-size <pixels>',
        `input size S (resize to S/0.875, center-crop S; ≥ ${MIN_INPUT_SIZE})`,
        parseIntOption('--input-size', MIN_INPUT_SIZE),
        DEFAULT_INPUT_SIZE,
      )
      .option('--classes <names>', 'comma-separated class names, in output order (default: 0, 1, …)')
      .option('--batch <n>', 'images per inference batch', parseIntOption('--batch', 1), DEFAULT_BATCH_SIZE),
    async ({ args, opts, out }) => {
      const dir = args[0];
      if (!isArchName(opts.arch))
        throw new UsageError(`--arch must be one of ${ARCH_NAMES.join(', ')}, got '${opts.arch}'`);
      const names = opts.classes === undefined ? undefined : parseClasses(opts.classes);

      // Check the header (cheap) before reading hundreds of megabytes of weights.
      const layout = validateVggHeader(await readSafetensorsHeader(opts.weights), opts.arch);
      if (!layout.hasClassifier)
        throw new SortaError(
          'invalid-weights',
          `weights file ${opts.weights} holds only the convolutional features (no classifier), so it cannot predict`,
        );
      const classes = names ?? Array.from({ length: layout.spec.numClasses }, (_, i) => String(i));
      if (classes.length !== layout.spec.numClasses)
        throw new UsageError(
          `--classes names ${classes.length} classes but the weights have ${layout.spec.numClasses}`,
        );

      const files = await listImages(dir);
      // ONNX Runtime unless the engine choice (SORTA_ENGINE, a TF.js GPU) says otherwise; see vision/engine.ts.
      const engine = await createInferenceEngine(await loadVggWeights(opts.weights, opts.arch), {
        inputSize: opts.inputSize,
        outputs: ['logits'],
        releaseSource: true,
      });
      out.log(`predict: ${files.length} images, ${opts.arch} at ${opts.inputSize} px on ${engine.engine}`);
      const predictions: (Prediction & { index: number })[] = [];
      const started = Date.now();
      let result;
      try {
        result = await runPipeline(
          engine,
          files.map((f) => join(dir, f)),
          {
            batchSize: opts.batch,
            onProgress: ({ done, total }) =>
              out.progress(`predict: ${done}/${total} images (${formatRate(done, Date.now() - started)})`),
            onBatch: ({ indices, outputs }) => {
              indices.forEach((index, r) => {
                const probs = softmax(row(outputs.logits, indices.length, r));
                let best = 0;
                for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
                predictions.push({
                  index,
                  file: files[index],
                  label: classes[best],
                  confidence: probs[best],
                  probs: Object.fromEntries(classes.map((name, k) => [name, probs[k]])),
                });
              });
            },
          },
        );
      } finally {
        await engine.close();
      }
      const document = {
        predictions: predictions.map(({ index: _index, ...p }) => p),
        errors: result.errors.map((e) => ({ file: files[e.index], error: e.message })),
      };
      out.result(document, formatPredictions(document));
    },
  );
}

function parseClasses(value: string): string[] {
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => n.length === 0)) throw new UsageError(`--classes has an empty name in '${value}'`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new UsageError(`--classes names '${n}' twice`);
    seen.add(n);
  }
  return names;
}

/** Image files under `dir`, recursively, as sorted paths relative to it with '/' separators. */
export async function listImages(dir: string): Promise<string[]> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new SortaError('usage', `${dir} is not a folder`);
  } catch (error) {
    if (error instanceof SortaError) throw error;
    throw new SortaError('not-found', `folder ${dir}: ${describeFsError(error)}`, { cause: error });
  }
  const found: string[] = [];
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      // Symbolic links are not followed: a link to a parent folder would loop forever.
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        found.push(relative(dir, path).split(sep).join('/'));
    }
  };
  await walk(dir);
  return found.sort();
}

/** Softmax in float64 (from float32 logits), shifted by the max so large logits cannot overflow. */
function softmax(logits: Float32Array): number[] {
  const max = logits.reduce((m, x) => Math.max(m, x), -Infinity);
  const exps = Array.from(logits, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function formatPredictions(doc: {
  predictions: Prediction[];
  errors: { file: string; error: string }[];
}): string {
  const lines = doc.predictions.map((p) => `${p.file}\t${p.label}\t${p.confidence.toFixed(4)}`);
  for (const e of doc.errors) lines.push(`${e.file}\terror: ${e.error}`);
  lines.push(`${doc.predictions.length} predicted, ${doc.errors.length} failed`);
  return lines.join('\n');
}
