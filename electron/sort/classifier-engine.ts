/**
 * A fine-tuned network (one ONNX graph with a `probs` output, from buildModelOnnx) on ONNX Runtime, behind the
 * vision pipeline's InferenceEngine interface. Eval mode and no gradients by construction: the graph has no training
 * ops (BatchNormalization uses running statistics, dropout has no node).
 */
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { SortaError } from '../shared/errors.js';
import { INPUT_NAME, type VggOutput } from '../vision/onnx-graph.js';
import { defaultExecutionProvider, loadOrt, type InferenceEngine } from '../vision/ort-engine.js';

export const PROBS_OUTPUT = 'probs';

export class OnnxClassifierEngine implements InferenceEngine {
  readonly outputs: readonly VggOutput[] = [PROBS_OUTPUT];
  private closed = false;

  private constructor(
    private readonly session: Ort.InferenceSession,
    readonly inputSize: number,
  ) {}

  static async create(
    onnx: Uint8Array,
    inputSize: number,
    options: { threads?: number } = {},
  ): Promise<OnnxClassifierEngine> {
    const ort = loadOrt();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnx, {
        executionProviders: [defaultExecutionProvider()],
        intraOpNumThreads: options.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new SortaError('internal', `ONNX Runtime could not load the model: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(PROBS_OUTPUT)) {
      await session.release();
      throw new SortaError('invalid-input', `the model must take '${INPUT_NAME}' and give '${PROBS_OUTPUT}'`);
    }
    return new OnnxClassifierEngine(session, inputSize);
  }

  async run(input: Float32Array, count: number): Promise<Record<string, Float32Array>> {
    if (this.closed) throw new SortaError('internal', 'the classifier engine is closed');
    const size = this.inputSize;
    const ort = loadOrt();
    const feed = new ort.Tensor('float32', input.subarray(0, count * 3 * size * size), [
      count,
      3,
      size,
      size,
    ]);
    let results: Ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      results = await this.session.run({ [INPUT_NAME]: feed });
      return { [PROBS_OUTPUT]: results[PROBS_OUTPUT].data as Float32Array };
    } finally {
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
