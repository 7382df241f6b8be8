/** weights.*: the vision weights manager (download with resume, local import, listing) as jobs. */
import { archNames, type Arch, type WeightsStatus } from '../contract/index.js';
import {
  DEFAULT_WEIGHTS_ARCH,
  DEFAULT_WEIGHTS_URL,
  downloadWeights,
  importLocalWeights,
  listWeights,
  type InstalledWeights,
} from '../vision/weights-manager.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

function status(arch: Arch, installed: InstalledWeights | undefined): WeightsStatus {
  return {
    arch,
    present: installed !== undefined,
    path: installed?.path ?? null,
    sizeBytes: installed?.size ?? null,
    checksum: installed?.sha256 ?? null,
    hasClassifier: installed ? installed.classifier !== null : null,
    downloadUrl: arch === DEFAULT_WEIGHTS_ARCH ? DEFAULT_WEIGHTS_URL : null,
  };
}

export async function weightsStatus(): Promise<WeightsStatus[]> {
  const usable = new Map<string, InstalledWeights>();
  for (const entry of await listWeights())
    if (entry.status === 'ok' && !usable.has(entry.arch)) usable.set(entry.arch, entry);
  return archNames.map((arch) => status(arch, usable.get(arch)));
}

export function setupWeights(registry: Registry, ctx: AppContext): void {
  const changed = () => ctx.emit({ type: 'data.changed', topics: ['weights'] });

  registry.handle('weights.status', () => weightsStatus());
  registry.handle('weights.download', async ({ arch, url, jobId }) => {
    const target = arch ?? DEFAULT_WEIGHTS_ARCH;
    const result = await ctx.jobs.run(
      'weights',
      `Downloading ${target} weights`,
      jobId,
      async (job) =>
        status(
          target,
          await downloadWeights({
            arch: target,
            url,
            signal: job.signal,
            onProgress: (p) => job.progress({ done: p.bytes, total: p.total, unit: 'bytes' }),
          }),
        ),
      { input: { arch: target, url }, exclusive: `weights:${target}` },
    );
    changed();
    return result;
  });
  registry.handle('weights.import', async ({ path, arch, jobId }) => {
    const target = arch ?? DEFAULT_WEIGHTS_ARCH;
    const result = await ctx.jobs.run(
      'weights',
      `Checking ${path}`,
      jobId,
      async () => status(target, await importLocalWeights(path, { arch: target })),
      { input: { path, arch: target }, exclusive: `weights:${target}` },
    );
    changed();
    return result;
  });
}
