/**
 * The trained head as bytes for the model record: a safetensors file (F32) of its classifier.* tensors in PyTorch
 * layout, so a stored head is readable with any safetensors tool and plugs into the ONNX graph by name.
 */
import { SortaError } from '../shared/errors.js';
import { encodeSafetensors } from '../vision/safetensors.js';
import type { HeadWeights } from './head-model.js';

export function encodeHead(head: HeadWeights): Uint8Array {
  return new Uint8Array(Buffer.concat(encodeSafetensors([...head.entries()])));
}

export function decodeHead(bytes: Uint8Array, what = 'stored head'): HeadWeights {
  const fail = (reason: string) => new SortaError('database', `${what} is damaged: ${reason}`);
  if (bytes.length < 8) throw fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw fail('truncated header');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
  } catch {
    throw fail('header is not JSON');
  }
  const dataStart = 8 + headerLength;
  const out: HeadWeights = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.dtype !== 'F32' || end - begin !== count * 4 || dataStart + end > bytes.length)
      throw fail(`tensor '${name}' is malformed`);
    // Copy into an aligned buffer: the blob's data section need not be 4-byte aligned in memory.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    out.set(name, { shape: [...entry.shape], data });
  }
  return out;
}
