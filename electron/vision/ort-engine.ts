/**
 * The frozen VGG network on ONNX Runtime: inference is eval-mode and gradient-free by construction (the graph has no
 * training ops; BatchNormalization runs with training_mode 0, i.e. running statistics).
 *
 * Execution provider: CPU by default, with one intra-op thread per core. The installed onnxruntime-node may also
 * offer WebGPU (bundled) and CUDA/TensorRT (when their extras were installed), but a GPU provider is only worth it
 * when it is measurably faster for this model on this machine, so it is opt-in: `SORTA_ORT_EP=webgpu|cuda` or the
 * `executionProvider` option; `npm run bench` measures each offered provider. A provider that fails to start falls
 * back to CPU with the reason recorded in `fallbackReason`.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import { SortaError } from '../shared/errors.js';
import {
  buildVggOnnx,
  INPUT_NAME,
  type BuildVggOnnxOptions,
  type ConvolutionAlgorithm,
  type VggOutput,
} from './onnx-graph.js';
import type { LoadedWeights } from './weights.js';

const require = createRequire(import.meta.url);

export type OrtExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'tensorrt';
const PROVIDERS: readonly OrtExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'tensorrt'];

/** `convolution` defaults to the provider's best form (convolutionFor). */
export interface OrtEngineOptions extends BuildVggOnnxOptions {
  /** Default: SORTA_ORT_EP, else 'cpu'. */
  executionProvider?: OrtExecutionProvider;
  /** Intra-op threads for the CPU provider. Default: every core. */
  threads?: number;
}

/** What every inference engine offers the pipeline: a fixed input size and batched runs. */
export interface InferenceEngine {
  readonly inputSize: number;
  readonly outputs: readonly VggOutput[];
  /** `input` holds `count` images, [count, 3, S, S]; each output comes back as [count, dim]. */
  run(input: Float32Array, count: number): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

let ortModule: typeof Ort | undefined;

/** Loads onnxruntime-node, turning a missing or broken native binary into one clear error. */
export function loadOrt(): typeof Ort {
  if (ortModule) return ortModule;
  try {
    ortModule = require('onnxruntime-node') as typeof Ort;
    return ortModule;
  } catch (error) {
    throw new SortaError(
      'unsupported',
      `ONNX Runtime cannot load on this machine: ${(error as Error).message.split('\n')[0]}`,
      { cause: error },
    );
  }
}

export function defaultExecutionProvider(): OrtExecutionProvider {
  const requested = process.env.SORTA_ORT_EP?.trim().toLowerCase();
  if (!requested) return 'cpu';
  if (!(PROVIDERS as readonly string[]).includes(requested))
    throw new SortaError('usage', `SORTA_ORT_EP=${requested} is not one of ${PROVIDERS.join(', ')}`);
  return requested as OrtExecutionProvider;
}

/**
 * The graph form for a provider: Winograd for the CPU, where it runs the network about 1.4× faster than ORT's own
 * convolutions (BENCHMARKS.md); plain Conv nodes for GPU providers, whose convolution kernels are their strength.
 */
export function convolutionFor(provider: OrtExecutionProvider): ConvolutionAlgorithm {
  return provider === 'cpu' ? 'winograd' : 'direct';
}

export class OrtVggEngine implements InferenceEngine {
  private closed = false;

  private constructor(
    private readonly session: Ort.InferenceSession,
    readonly inputSize: number,
    readonly outputs: readonly VggOutput[],
    readonly executionProvider: OrtExecutionProvider,
    readonly fallbackReason: string | undefined,
  ) {}

  /**
   * Builds the ONNX model from `weights` and starts a session. The model bytes are dropped once ORT has its own copy
   * of the initializers; callers that no longer need `weights` should drop them too, so only ORT holds the weights.
   */
  static async create(weights: LoadedWeights, options: OrtEngineOptions): Promise<OrtVggEngine> {
    // async: a graph-building error (a bad head override) is a rejection, like every other failure here.
    const convolution =
      options.convolution ?? convolutionFor(options.executionProvider ?? defaultExecutionProvider());
    return OrtVggEngine.fromOnnx(buildVggOnnx(weights, { ...options, convolution }), options);
  }

  /**
   * Starts a session on ONNX bytes already built (a fine-tuned model, an imported export). A GPU provider that fails
   * to start falls back to the CPU, with the reason kept.
   */
  static async fromOnnx(
    model: Uint8Array,
    options: Pick<OrtEngineOptions, 'inputSize' | 'outputs' | 'executionProvider' | 'threads'>,
  ): Promise<OrtVggEngine> {
    const ort = loadOrt();
    const provider = options.executionProvider ?? defaultExecutionProvider();
    const threads = options.threads ?? availableParallelism();
    const sessionOptions = (ep: OrtExecutionProvider): Ort.InferenceSession.SessionOptions => ({
      executionProviders: [ep],
      intraOpNumThreads: threads,
      // One graph path (a chain of layers): inter-op parallelism has nothing to overlap.
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    let session: Ort.InferenceSession;
    let fallbackReason: string | undefined;
    try {
      try {
        session = await ort.InferenceSession.create(model, sessionOptions(provider));
      } catch (error) {
        if (provider === 'cpu') throw error;
        fallbackReason = `${provider} provider failed to start: ${(error as Error).message.split('\n')[0]}`;
        session = await ort.InferenceSession.create(model, sessionOptions('cpu'));
      }
    } catch (error) {
      throw new SortaError(
        'internal',
        `ONNX Runtime could not load the VGG model: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const missing = [INPUT_NAME, ...options.outputs].filter(
      (name) => !session.inputNames.includes(name) && !session.outputNames.includes(name),
    );
    if (missing.length > 0) {
      await session.release();
      throw new SortaError(
        'invalid-input',
        `the ONNX model has no ${missing.map((n) => `'${n}'`).join(', ')}`,
      );
    }
    const used = fallbackReason ? 'cpu' : provider;
    return new OrtVggEngine(session, options.inputSize, [...options.outputs], used, fallbackReason);
  }

  async run(input: Float32Array, count: number): Promise<Record<string, Float32Array>> {
    if (this.closed) throw new SortaError('internal', 'the ONNX Runtime engine is closed');
    const per = 3 * this.inputSize * this.inputSize;
    if (count < 1 || input.length < count * per)
      throw new SortaError('internal', `batch of ${count} needs ${count * per} values, got ${input.length}`);
    const ort = loadOrt();
    const feed = new ort.Tensor('float32', input.subarray(0, count * per), [
      count,
      3,
      this.inputSize,
      this.inputSize,
    ]);
    let results: Ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      results = await this.session.run({ [INPUT_NAME]: feed });
      const out: Record<string, Float32Array> = {};
      for (const name of this.outputs) out[name] = results[name].data as Float32Array;
      return out;
    } finally {
      // Our Float32Arrays stay valid; dispose only drops ORT's hold on the buffers (it matters on GPU providers).
      feed.dispose();
      if (results) for (const value of Object.values(results)) value.dispose();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
