/**
 * Which engine runs the frozen network. ONNX Runtime by default (measured several times faster than TF.js on CPU);
 * TF.js when tfjs-node-gpu drives a GPU and ORT would run on the CPU (no GPU execution provider selected), or when
 * ORT cannot load. SORTA_ENGINE=onnx|tfjs overrides. The choice comes with its reasons, which `sorta doctor` prints.
 */
import { createRequire } from 'node:module';
import { ortInfo, type OrtInfo } from '../compute/ort-info.js';
import { loadTf, type TfRuntime } from '../compute/tf-backend.js';
import { SortaError } from '../shared/errors.js';
import {
  defaultExecutionProvider,
  OrtVggEngine,
  type InferenceEngine,
  type OrtEngineOptions,
  type OrtExecutionProvider,
} from './ort-engine.js';
import { TfjsVggEngine } from './tfjs-engine.js';
import type { LoadedWeights } from './weights.js';

export type EngineName = 'onnx' | 'tfjs';
export const ENGINE_NAMES: readonly EngineName[] = ['onnx', 'tfjs'];

export interface EngineChoice {
  engine: EngineName;
  /** Why, in short sentences a user can act on. */
  reasons: string[];
  /** The SORTA_ENGINE value when it decided. */
  override: EngineName | null;
}

/** What the choice depends on, gathered by chooseInferenceEngine (tests pass their own). */
export interface EngineFacts {
  /** SORTA_ENGINE as set (validated here). */
  override?: string | null;
  ort: {
    available: boolean;
    error?: string;
    provider: OrtExecutionProvider | null;
    gpuProvidersOffered: string[];
  };
  /** null when TF.js was not consulted (tfjs-node-gpu is not installed) or could not load. */
  tf: { backend: string; gpu: boolean } | null;
  tfNote?: string;
}

const GPU_PROVIDERS = new Set(['webgpu', 'cuda', 'tensorrt', 'dml', 'coreml']);

export function decideInferenceEngine(facts: EngineFacts): EngineChoice {
  const override = facts.override?.trim().toLowerCase() || null;
  if (override) {
    if (!(ENGINE_NAMES as readonly string[]).includes(override))
      throw new SortaError('usage', `SORTA_ENGINE=${override} is not an engine; use onnx or tfjs`);
    const engine = override as EngineName;
    const reasons = [`SORTA_ENGINE=${engine} chooses it`];
    if (engine === 'onnx' && !facts.ort.available)
      reasons.push(`but ONNX Runtime cannot load here: ${facts.ort.error ?? 'unknown reason'}`);
    return { engine, reasons, override: engine };
  }
  if (!facts.ort.available) {
    return {
      engine: 'tfjs',
      reasons: [`ONNX Runtime cannot load: ${facts.ort.error ?? 'unknown reason'}`],
      override: null,
    };
  }
  const ortOnGpu = facts.ort.provider !== null && facts.ort.provider !== 'cpu';
  if (facts.tf?.gpu && !ortOnGpu) {
    const offered = facts.ort.gpuProvidersOffered;
    return {
      engine: 'tfjs',
      reasons: [
        `TF.js drives the GPU through ${facts.tf.backend}, and ONNX Runtime would run on the CPU`,
        offered.length
          ? `ONNX Runtime's GPU providers (${offered.join(', ')}) are opt-in: SORTA_ORT_EP=<provider> selects one`
          : 'this ONNX Runtime offers no GPU execution provider',
      ],
      override: null,
    };
  }
  const reasons = [
    ortOnGpu
      ? `ONNX Runtime runs on the GPU (${facts.ort.provider} execution provider, SORTA_ORT_EP)`
      : 'ONNX Runtime is the default engine (CPU execution provider, one thread per core; blocks 3–5 as Winograd convolutions)',
  ];
  if (!ortOnGpu) {
    reasons.push(
      facts.tf
        ? `TF.js has no GPU here (backend ${facts.tf.backend})`
        : `TF.js has no GPU here (${facts.tfNote ?? 'not consulted'})`,
    );
  }
  return { engine: 'onnx', reasons, override: null };
}

const require = createRequire(import.meta.url);

/** The engine for this machine and environment, with its reasons. Loads TF.js only when it could drive a GPU. */
export async function chooseInferenceEngine(
  options: { ort?: OrtInfo; tf?: TfRuntime | null; env?: NodeJS.ProcessEnv } = {},
): Promise<EngineChoice> {
  const env = options.env ?? process.env;
  const ort = options.ort ?? ortInfo();
  // A wrong SORTA_ORT_EP is a usage error, not a reason to switch engines: it propagates.
  const provider: OrtExecutionProvider | null = ort.available ? defaultExecutionProvider() : null;
  const facts: EngineFacts = {
    override: env.SORTA_ENGINE ?? null,
    ort: {
      available: ort.available,
      error: ort.error,
      provider,
      gpuProvidersOffered: ort.executionProviders
        .filter((p) => GPU_PROVIDERS.has(p.name) && p.bundled)
        .map((p) => p.name),
    },
    tf: null,
  };
  if (options.tf !== undefined) {
    if (options.tf) facts.tf = { backend: options.tf.backend, gpu: options.tf.gpu };
  } else {
    // Loading TF.js costs time (and initialises CUDA): only when it can change the answer.
    const backend = env.SORTA_BACKEND?.trim();
    if (backend && backend !== 'tfjs-node-gpu' && facts.ort.available)
      facts.tfNote = `SORTA_BACKEND=${backend}`;
    else if (!tfjsNodeGpuInstalled() && facts.ort.available) facts.tfNote = 'tfjs-node-gpu is not installed';
    else {
      try {
        const runtime = await loadTf();
        facts.tf = { backend: runtime.backend, gpu: runtime.gpu };
      } catch (error) {
        facts.tfNote = `TF.js cannot load: ${(error as Error).message}`;
      }
    }
  }
  return decideInferenceEngine(facts);
}

function tfjsNodeGpuInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
}

export interface CreateEngineOptions extends OrtEngineOptions {
  /** Default: chooseInferenceEngine(). */
  engine?: EngineName;
  /** Let the TF.js engine drop the JavaScript weight arrays once uploaded (ORT copies them into its session). */
  releaseSource?: boolean;
}

export type ChosenEngine = InferenceEngine & { readonly engine: EngineName; readonly choice: EngineChoice };

/** Starts the chosen engine over `weights`; both take the same options (input size, outputs, head override). */
export async function createInferenceEngine(
  weights: LoadedWeights,
  options: CreateEngineOptions,
): Promise<ChosenEngine> {
  const choice: EngineChoice = options.engine
    ? { engine: options.engine, reasons: ['chosen by the caller'], override: null }
    : await chooseInferenceEngine();
  const inner: InferenceEngine =
    choice.engine === 'onnx'
      ? await OrtVggEngine.create(weights, options)
      : await TfjsVggEngine.create(weights, options);
  return {
    engine: choice.engine,
    choice,
    inputSize: inner.inputSize,
    outputs: inner.outputs,
    run: (input, count) => inner.run(input, count),
    close: () => inner.close(),
  };
}
