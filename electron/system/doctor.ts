/** `sorta doctor`: what this machine offers Sorta, and why a faster path is not taken. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { ortInfo, type OrtInfo } from '../compute/ort-info.js';
import { loadTf, TF_BACKEND_ORDER, type TfBackendAttempt, type TfRuntime } from '../compute/tf-backend.js';
import { chooseInferenceEngine, type EngineChoice } from '../vision/engine.js';

const require = createRequire(import.meta.url);

export interface DoctorReport {
  node: string;
  platform: string;
  electron: { version: string | null; binaryInstalled: boolean; running: boolean };
  onnxruntime: OrtInfo;
  tfjs: {
    version: string | null;
    backend: string | null;
    gpu: boolean;
    order: readonly string[];
    override: string | null;
    attempts: TfBackendAttempt[];
    error?: string;
  };
  cpu: { cores: number; model: string };
  memory: { totalBytes: number; freeBytes: number };
  gpu: { seen: boolean; devices: string[] };
  /** The inference engine for the frozen network and why (SORTA_ENGINE overrides). */
  engine: (EngineChoice & { error?: undefined }) | { engine: null; reasons: string[]; error: string };
}

export async function runDoctor(): Promise<DoctorReport> {
  const tfjs: DoctorReport['tfjs'] = {
    version: null,
    backend: null,
    gpu: false,
    order: TF_BACKEND_ORDER,
    override: process.env.SORTA_BACKEND ?? null,
    attempts: [],
  };
  let runtime: TfRuntime | null = null;
  try {
    runtime = await loadTf();
    tfjs.version = runtime.tf.version.tfjs;
    tfjs.backend = runtime.backend;
    tfjs.gpu = runtime.gpu;
    tfjs.attempts = runtime.attempts;
  } catch (error) {
    tfjs.error = (error as Error).message;
  }
  const onnxruntime = ortInfo();
  let engine: DoctorReport['engine'];
  try {
    engine = await chooseInferenceEngine({ ort: onnxruntime, tf: runtime });
  } catch (error) {
    engine = { engine: null, reasons: [], error: (error as Error).message };
  }
  return {
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    electron: electronInfo(),
    onnxruntime,
    tfjs,
    cpu: { cores: availableParallelism(), model: cpus()[0]?.model.trim() ?? 'unknown' },
    memory: { totalBytes: totalmem(), freeBytes: freemem() },
    gpu: gpusSeen(),
    engine,
  };
}

function electronInfo(): DoctorReport['electron'] {
  const running = Boolean(process.versions.electron);
  if (running) return { version: process.versions.electron ?? null, binaryInstalled: true, running };
  try {
    const pkgFile = require.resolve('electron/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string };
    // electron's install script writes path.txt only once the binary was downloaded.
    return { version: pkg.version, binaryInstalled: existsSync(join(dirname(pkgFile), 'path.txt')), running };
  } catch {
    return { version: null, binaryInstalled: false, running };
  }
}

function gpusSeen(): DoctorReport['gpu'] {
  const devices: string[] = [];
  const nvidiaRoot = '/proc/driver/nvidia/gpus';
  if (existsSync(nvidiaRoot)) {
    try {
      for (const entry of readdirSync(nvidiaRoot)) {
        const info = readFileSync(`${nvidiaRoot}/${entry}/information`, 'utf8');
        devices.push(/Model:\s*(.+)/.exec(info)?.[1].trim() ?? `NVIDIA GPU ${entry}`);
      }
    } catch {
      devices.push('NVIDIA GPU (details unreadable)');
    }
  }
  if (devices.length === 0 && existsSync('/dev/dri')) devices.push('DRM render device (/dev/dri)');
  return { seen: devices.length > 0, devices };
}

export function formatDoctor(report: DoctorReport): string {
  const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const lines = [
    `Node.js        ${report.node} (${report.platform})`,
    `Electron       ${report.electron.version ?? 'not installed'}${
      report.electron.version && !report.electron.binaryInstalled
        ? ' (binary not downloaded: use `npm run web`)'
        : ''
    }`,
    `ONNX Runtime   ${
      report.onnxruntime.available
        ? `${report.onnxruntime.version}; execution providers: ${report.onnxruntime.executionProviders
            .map((p) => `${p.name}${p.bundled ? '' : ' (extra not installed)'}`)
            .join(', ')}`
        : `unavailable: ${report.onnxruntime.error}`
    }`,
    `TensorFlow.js  ${report.tfjs.version ?? 'unavailable'}; backend: ${report.tfjs.backend ?? 'none'}${
      report.tfjs.gpu ? ' (GPU)' : ''
    }${report.tfjs.override ? ` (SORTA_BACKEND=${report.tfjs.override})` : ''}`,
    ...report.tfjs.attempts.filter((a) => !a.ok).map((a) => `  skipped ${a.backend}: ${a.reason}`),
    `CPU            ${report.cpu.cores} cores, ${report.cpu.model}`,
    `Memory         ${gb(report.memory.totalBytes)} total, ${gb(report.memory.freeBytes)} free`,
    `GPU            ${report.gpu.seen ? report.gpu.devices.join(', ') : 'none seen'}`,
    `Inference      ${report.engine.engine ?? `none: ${report.engine.error}`}${
      report.engine.reasons.length ? ` (${report.engine.reasons.join('; ')})` : ''
    }`,
  ];
  return lines.join('\n');
}
