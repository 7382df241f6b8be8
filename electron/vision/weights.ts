/**
 * VGG weights from a `.safetensors` file, in torchvision's names and layouts whatever the file used. Accepts
 * torchvision state dicts (`features.N.*`, `classifier.{0,3,6}.*`) and timm's `vgg16_bn.tv_in1k` (`pre_logits.fc1`
 * and `fc2` stored as 7×7 and 1×1 conv kernels, `head.fc`), and files holding only `features.*` (the classifier then
 * starts fresh). The architecture's width, hidden size and class count are read from the shapes, so the small
 * reduced-width models the tests use load the same way as the real ones; every key and shape is then checked.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SortaError } from '../shared/errors.js';
import { ARCH_NAMES, expectedTensors, POOLED_SIZE, vggSpec, type ArchName, type VggSpec } from './arch.js';
import {
  readSafetensorsHeader,
  readTensorsWithHeader,
  type FloatTensor,
  type SafetensorsHeader,
} from './safetensors.js';

export interface LoadedWeights {
  spec: VggSpec;
  /** torchvision names → PyTorch layouts (conv OIHW, Linear [out, in]); classifier.0's `in` is in C,H,W order. */
  tensors: Map<string, FloatTensor>;
  hasClassifier: boolean;
  /** SHA-256 of the whole file, hex: identifies the weights a feature cache was computed with. */
  checksum: string;
}

export interface VggWeightsOptions {
  /** Classes of the head; refused if the file's classifier.6 has another count. Default: the file's, else 1000. */
  numClasses?: number;
  /** Width of classifier.0/3 when the file holds no classifier. Default: 4096. */
  hidden?: number;
}

/** Where each torchvision tensor comes from in the file, and its shape once in torchvision's layout. */
export interface VggWeightsLayout {
  spec: VggSpec;
  hasClassifier: boolean;
  sources: Map<string, { source: string; shape: number[] }>;
}

/** timm's names for the classifier, with the trailing kernel dims its conv form adds. */
const TIMM_NAMES: Record<string, { target: string; kernel?: number[] }> = {
  'pre_logits.fc1.weight': { target: 'classifier.0.weight', kernel: [POOLED_SIZE, POOLED_SIZE] },
  'pre_logits.fc1.bias': { target: 'classifier.0.bias' },
  'pre_logits.fc2.weight': { target: 'classifier.3.weight', kernel: [1, 1] },
  'pre_logits.fc2.bias': { target: 'classifier.3.bias' },
  'head.fc.weight': { target: 'classifier.6.weight' },
  'head.fc.bias': { target: 'classifier.6.bias' },
};

const MAX_LISTED_PROBLEMS = 6;

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Checks a header against `arch` without reading any tensor data (the download manager verifies a file with this)
 * and says where every torchvision tensor lives. Throws SortaError('invalid-weights') naming each bad key.
 */
export function validateVggHeader(
  header: SafetensorsHeader,
  arch: ArchName,
  options: VggWeightsOptions = {},
): VggWeightsLayout {
  const { layout, problems } = checkLayout(header, arch, options);
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS).join('; ');
    const more =
      problems.length > MAX_LISTED_PROBLEMS ? ` (and ${problems.length - MAX_LISTED_PROBLEMS} more)` : '';
    // A file for another VGG is the commonest mistake; saying which one fits saves the user a guess.
    const fits = ARCH_NAMES.find(
      (other) => other !== arch && checkLayout(header, other, {}).problems.length === 0,
    );
    const hint = fits ? `. The file fits ${fits}` : '';
    throw new SortaError(
      'invalid-weights',
      `weights file ${header.path} does not fit ${arch}: ${listed}${more}${hint}`,
    );
  }
  return layout;
}

function checkLayout(
  header: SafetensorsHeader,
  arch: ArchName,
  options: VggWeightsOptions,
): { layout: VggWeightsLayout; problems: string[] } {
  const problems: string[] = [];
  const sources = new Map<string, { source: string; shape: number[] }>();
  for (const [name, entry] of header.tensors) {
    // BatchNorm's step counter is a training-time integer that eval mode never reads.
    if (name.endsWith('.num_batches_tracked')) continue;
    let target = name;
    let shape = entry.shape;
    const timm = TIMM_NAMES[name];
    if (timm) {
      target = timm.target;
      if (timm.kernel) {
        // A conv kernel [out, C, kh, kw] over a C×kh×kw input is a Linear over its flattening in C,H,W order:
        // the same bytes, only the shape changes.
        if (shape.length !== 4 || !sameShape(shape.slice(2), timm.kernel)) {
          problems.push(`'${name}' has shape ${fmt(shape)}, expected [out, in, ${timm.kernel.join(', ')}]`);
          continue;
        }
        shape = [shape[0], shape[1] * shape[2] * shape[3]];
      }
    }
    if (sources.has(target)) {
      problems.push(`'${name}' and '${sources.get(target)!.source}' both give '${target}'`);
      continue;
    }
    sources.set(target, { source: name, shape: [...shape] });
  }

  const hasClassifier = [...sources.keys()].some((k) => k.startsWith('classifier.'));
  const spec = inferSpec(arch, sources, hasClassifier, options, problems);
  const expected = expectedTensors(spec, { classifier: hasClassifier });
  for (const [name, { source, shape }] of sources) {
    const want = expected.get(name);
    const label = source === name ? `'${name}'` : `'${source}' (${name})`;
    if (!want) problems.push(`unexpected key ${label}`);
    else if (!sameShape(want, shape))
      problems.push(`${label} has shape ${fmt(shape)}, expected ${fmt(want)}`);
  }
  for (const name of expected.keys()) if (!sources.has(name)) problems.push(`missing key '${name}'`);
  return { layout: { spec, hasClassifier, sources }, problems };
}

/** Width, hidden size and classes from the shapes of features.0, classifier.0 and classifier.6. */
function inferSpec(
  arch: ArchName,
  sources: Map<string, { shape: number[] }>,
  hasClassifier: boolean,
  options: VggWeightsOptions,
  problems: string[],
): VggSpec {
  const firstConv = sources.get('features.0.weight')?.shape[0];
  const widthScale = firstConv && firstConv > 0 ? firstConv / (vggSpec(arch).layers[0] as number) : 1;
  const hidden =
    sources.get('classifier.0.weight')?.shape[0] ??
    sources.get('classifier.3.weight')?.shape[0] ??
    options.hidden ??
    4096;
  const fileClasses = sources.get('classifier.6.weight')?.shape[0];
  if (hasClassifier && fileClasses !== undefined && options.numClasses !== undefined) {
    if (fileClasses !== options.numClasses)
      problems.push(`'classifier.6.weight' has ${fileClasses} classes, expected ${options.numClasses}`);
  }
  const numClasses = options.numClasses ?? fileClasses ?? 1000;
  return vggSpec(arch, { widthScale, hidden, numClasses });
}

/** Loads, validates and converts a VGG weights file (F32, F16 or BF16) into torchvision-named Float32Arrays. */
export async function loadVggWeights(
  path: string,
  arch: ArchName,
  options: VggWeightsOptions = {},
): Promise<LoadedWeights> {
  const header = await readSafetensorsHeader(path);
  const layout = validateVggHeader(header, arch, options);
  const names = [...layout.sources.values()].map((s) => s.source);
  // Hash in parallel with the tensor reads: both are I/O-bound and the second pass hits the page cache.
  const [raw, checksum] = await Promise.all([readTensorsWithHeader(header, names), sha256File(path)]);
  const tensors = new Map<string, FloatTensor>();
  for (const [name, { source, shape }] of layout.sources) {
    const tensor = raw.get(source)!;
    raw.delete(source);
    tensors.set(name, { shape, data: tensor.data });
  }
  return { spec: layout.spec, tensors, hasClassifier: layout.hasClassifier, checksum };
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', (error) =>
        reject(new SortaError('io', `weights file ${path}: ${error.message}`, { cause: error })),
      )
      .on('end', () => resolve(hash.digest('hex')));
  });
}
