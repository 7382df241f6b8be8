/** system.info, jobs.running / recent / acknowledge / cancel and fs.list (a folder browser for web mode). */
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import type { DirListing, SystemInfo } from '../contract/index.js';
import { describeFsError, SortaError } from '../shared/errors.js';
import { IMAGE_EXTENSIONS } from '../shared/image-decode.js';
import { packageVersion } from '../shared/package-info.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

export interface SystemSetupOptions {
  /** Describes the compute backend (filled in lazily: loading TF.js is slow). */
  compute?: () => Promise<SystemInfo['compute']>;
}

/**
 * What computes: the inference engine (ONNX Runtime or TF.js, and why) and the TF.js backend the head trainer
 * gets. Runs `sorta doctor`'s checks once, on first use (loading TF.js takes a second or two).
 */
export async function describeCompute(): Promise<SystemInfo['compute']> {
  const { runDoctor } = await import('../system/doctor.js');
  const report = await runDoctor();
  const engine = report.engine.engine;
  const trainer = report.tfjs.backend;
  return {
    backend: `${engine ?? 'no inference engine'}; training on ${trainer ?? 'no TF.js backend'}`,
    // The trainer's backend decides whether fine-tuning uses the GPU; the engine's reasons say the rest.
    gpu: report.tfjs.gpu,
    detail: report.engine.reasons.join('; '),
  };
}

export function setupSystem(registry: Registry, ctx: AppContext, options: SystemSetupOptions = {}): void {
  const version = packageVersion();
  let compute: Promise<SystemInfo['compute']> | null = null;

  registry.handle('system.info', async () => ({
    version,
    mode: ctx.mode,
    platform: process.platform,
    home: homedir(),
    compute: await (compute ??= (options.compute ?? describeCompute)().catch((error: unknown) => ({
      backend: null,
      gpu: false,
      detail: String(error),
    }))),
  }));

  registry.handle('jobs.running', async () => ctx.jobs.list());
  registry.handle('jobs.recent', async ({ unacknowledged }) => ctx.jobs.recent(unacknowledged));
  registry.handle('jobs.acknowledge', async ({ jobIds }) => {
    ctx.jobs.acknowledge(jobIds);
    return null;
  });
  registry.handle('jobs.cancel', async ({ jobId }) => ({ cancelled: ctx.jobs.cancel(jobId) }));
  registry.handle('fs.list', async ({ path }) => listDirectory(resolve(path ?? homedir())));
}

export function listDirectory(path: string): DirListing {
  let names: string[];
  try {
    if (!statSync(path).isDirectory()) throw new SortaError('invalid-input', `${path} is not a folder.`);
    names = readdirSync(path);
  } catch (error) {
    if (error instanceof SortaError) throw error;
    throw new SortaError('io', `Cannot list ${path}: ${describeFsError(error)}.`);
  }
  const entries: DirListing['entries'] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const full = join(path, name);
    let isDir: boolean;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      continue;
    }
    const extension = extname(name).toLowerCase();
    if (isDir) entries.push({ name, path: full, kind: 'dir' });
    else if (extension === '.sorta') entries.push({ name, path: full, kind: 'project' });
    else if (IMAGE_EXTENSIONS.has(extension)) entries.push({ name, path: full, kind: 'image' });
  }
  entries.sort((a, b) =>
    (a.kind === 'dir') !== (b.kind === 'dir') ? (a.kind === 'dir' ? -1 : 1) : a.name.localeCompare(b.name),
  );
  const parent = dirname(path);
  return { path, parent: parent === path ? null : parent, entries };
}

/** Web mode has no native dialogs: the UI uses fs.list instead. */
export function setupNoDialogs(registry: Registry): void {
  const refuse = async (): Promise<never> => {
    throw new SortaError(
      'unsupported',
      'Native dialogs exist only in the desktop app; in the browser, choose the path in the page.',
    );
  };
  registry.handle('dialog.openFolder', refuse);
  registry.handle('dialog.openFile', refuse);
  registry.handle('dialog.saveFile', refuse);
  registry.handle('shell.showItem', refuse);
}
