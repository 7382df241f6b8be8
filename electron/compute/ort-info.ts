/** What ONNX Runtime offers on this machine: version and execution providers. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface OrtInfo {
  available: boolean;
  version?: string;
  executionProviders: { name: string; bundled: boolean }[];
  error?: string;
}

export function ortInfo(): OrtInfo {
  try {
    const ort = require('onnxruntime-node') as typeof import('onnxruntime-node') & {
      listSupportedBackends?: () => { name: string; bundled: boolean }[];
    };
    return {
      available: true,
      version: ort.env.versions.node ?? ort.env.versions.common,
      executionProviders: ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }],
    };
  } catch (error) {
    return { available: false, executionProviders: [], error: (error as Error).message.split('\n')[0] };
  }
}
