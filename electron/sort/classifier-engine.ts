/**
 * A fine-tuned network (one ONNX graph with a `probs` output, from buildModelOnnx) on ONNX Runtime, behind the
 * vision pipeline's InferenceEngine interface. Eval mode and no gradients by construction: the graph has no training
 * ops (BatchNormalization uses running statistics, dropout has no node).
 */
import { OrtVggEngine } from '../vision/ort-engine.js';

export const PROBS_OUTPUT = 'probs';

export function createClassifierEngine(
  onnx: Uint8Array,
  inputSize: number,
  options: { threads?: number } = {},
): Promise<OrtVggEngine> {
  return OrtVggEngine.fromOnnx(onnx, { inputSize, outputs: [PROBS_OUTPUT], threads: options.threads });
}
