/**
 * The TF.js VGG behind the same InferenceEngine interface as ONNX Runtime's, so the pipeline, `sorta predict` and the
 * feature cache can run on either engine. Used when tfjs-node-gpu drives a GPU that ORT cannot use, or when ORT
 * cannot load (see engine.ts).
 */
import { loadTf, type TfRuntime } from '../compute/tf-backend.js';
import { SortaError } from '../shared/errors.js';
import { checkInputSize } from './preprocess.js';
import type { InferenceEngine } from './ort-engine.js';
import type { VggOutput } from './onnx-graph.js';
import { TfjsVgg } from './tfjs-model.js';
import type { UploadOptions, VggWeightsSource } from './tfjs-weights.js';

export interface TfjsEngineOptions extends UploadOptions {
  inputSize: number;
  outputs: VggOutput[];
  /** Default: loadTf()'s runtime (tfjs-node-gpu, tfjs-node, wasm or cpu). */
  runtime?: TfRuntime;
}

export class TfjsVggEngine implements InferenceEngine {
  private closed = false;

  private constructor(
    private readonly model: TfjsVgg,
    readonly inputSize: number,
    readonly outputs: readonly VggOutput[],
    /** The TF.js backend it runs on. */
    readonly backend: string,
  ) {}

  static async create(weights: VggWeightsSource, options: TfjsEngineOptions): Promise<TfjsVggEngine> {
    checkInputSize(options.inputSize);
    if (options.outputs.length === 0)
      throw new SortaError('usage', 'the TF.js engine needs at least one output');
    const runtime = options.runtime ?? (await loadTf());
    const model = TfjsVgg.create(runtime.tf, weights, options);
    try {
      // Fails now, not on the first batch, when an output needs a classifier the weights lack.
      model.checkOutputs(options.outputs);
    } catch (error) {
      model.dispose();
      throw error;
    }
    const engine = new TfjsVggEngine(model, options.inputSize, [...options.outputs], runtime.backend);
    return engine;
  }

  async run(input: Float32Array, count: number): Promise<Record<string, Float32Array>> {
    if (this.closed) throw new SortaError('internal', 'the TF.js engine is closed');
    const per = 3 * this.inputSize * this.inputSize;
    if (!Number.isInteger(count) || count < 1 || input.length < count * per)
      throw new SortaError('internal', `batch of ${count} needs ${count * per} values, got ${input.length}`);
    const out = await this.model.run(input.subarray(0, count * per), count, this.outputs);
    return out as Record<string, Float32Array>;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.model.dispose();
    }
    return Promise.resolve();
  }
}
