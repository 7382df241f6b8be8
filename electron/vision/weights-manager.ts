/**
 * Installed model weights: download (resumable, verified) or import a local file into the app's data folder, and
 * list what is there. A file is installed only after it passed verification — size when known, a safetensors
 * header whose tensors fit the chosen architecture, and SHA-256 when one is configured — and then by an atomic
 * rename, so a good installed file is never replaced by a bad or half-written one. Each installed file has a small
 * `<file>.meta.json` beside it saying where it came from, what it holds and its checksum.
 */
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { weightsDir } from '../shared/app-paths.js';
import { describeFsError, SortaError } from '../shared/errors.js';
import { downloadResumable, type DownloadProgress } from '../shared/http-download.js';
import { isArchName, type ArchName } from './arch.js';
import { readSafetensorsHeader } from './safetensors.js';
import { sha256File, validateVggHeader } from './weights.js';

export const DEFAULT_WEIGHTS_URL =
  'https://huggingface.co/timm/vgg16_bn.tv_in1k/resolve/main/model.safetensors';
export const DEFAULT_WEIGHTS_ARCH: ArchName = 'vgg16_bn';
const META_SUFFIX = '.meta.json';
const PART_SUFFIX = '.part';

export interface InstalledWeights {
  name: string;
  /** The weights file: inside the weights folder, or the user's own file when imported by reference. */
  path: string;
  arch: ArchName;
  size: number;
  sha256: string;
  /** The URL it was downloaded from, or the local file it was imported from. */
  source: string;
  kind: 'download' | 'copy' | 'reference';
  /** What the file holds, as verified: conv width of the last block, classifier size (null: features only). */
  lastChannels: number;
  classifier: { hidden: number; numClasses: number } | null;
  installedAt: string;
}

export type WeightsEntry =
  | (InstalledWeights & { status: 'ok' | 'missing' | 'changed' })
  | { name: string; status: 'partial'; path: string; bytes: number };

export interface VerifyOptions {
  arch: ArchName;
  /** Expected SHA-256 (hex); refused when it differs. */
  sha256?: string;
  /** Expected size in bytes. */
  size?: number;
}

export interface ManagerOptions {
  /** The weights folder; default: `weights/` in the app data folder (SORTA_DATA_DIR moves it). */
  dir?: string;
}

export interface DownloadWeightsOptions extends ManagerOptions {
  url?: string;
  arch?: ArchName;
  sha256?: string;
  size?: number;
  /** The installed file's name (without `.safetensors`); default from the URL. */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  retries?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
}

export interface ImportWeightsOptions extends ManagerOptions {
  arch?: ArchName;
  sha256?: string;
  name?: string;
  /** 'copy' (default) puts a copy in the weights folder; 'reference' records the user's file where it is. */
  mode?: 'copy' | 'reference';
}

export function resolveWeightsDir(options: ManagerOptions = {}): string {
  return resolve(options.dir ?? weightsDir());
}

/**
 * Checks a weights file without loading its tensors (plus one hashing pass). Throws SortaError('invalid-weights')
 * with the reason; returns what was verified.
 */
export async function verifyWeightsFile(
  path: string,
  options: VerifyOptions,
): Promise<Pick<InstalledWeights, 'size' | 'sha256' | 'lastChannels' | 'classifier'>> {
  const size = (await stat(path)).size;
  if (options.size !== undefined && size !== options.size)
    throw new SortaError(
      'invalid-weights',
      `weights file ${path} has ${size} bytes, expected ${options.size}`,
    );
  const layout = validateVggHeader(await readSafetensorsHeader(path), options.arch);
  const sha256 = await sha256File(path);
  if (options.sha256 && sha256 !== options.sha256.toLowerCase())
    throw new SortaError(
      'invalid-weights',
      `weights file ${path} has SHA-256 ${sha256}, expected ${options.sha256.toLowerCase()}`,
    );
  const { spec, hasClassifier } = layout;
  return {
    size,
    sha256,
    lastChannels: spec.lastChannels,
    classifier: hasClassifier ? { hidden: spec.hidden, numClasses: spec.numClasses } : null,
  };
}

/**
 * Downloads weights (resuming a `.part` left by an earlier attempt), verifies them and installs them atomically.
 * When a verified file of that name with the wanted checksum is already installed, returns it without downloading.
 */
export async function downloadWeights(options: DownloadWeightsOptions = {}): Promise<InstalledWeights> {
  const url = options.url ?? DEFAULT_WEIGHTS_URL;
  const arch = checkArch(options.arch ?? DEFAULT_WEIGHTS_ARCH);
  const dir = resolveWeightsDir(options);
  const name = checkName(options.name ?? nameFromUrl(url));
  const target = join(dir, `${name}.safetensors`);
  const partPath = `${target}${PART_SUFFIX}`;
  // Claimed before the first await, so that of two calls for one file in this process the first always wins.
  const releaseClaim = claimInProcess(partPath, url);
  try {
    return await downloadClaimed(options, { url, arch, dir, name, target, partPath });
  } finally {
    releaseClaim();
  }
}

async function downloadClaimed(
  options: DownloadWeightsOptions,
  { url, arch, dir, name, target, partPath }: DownloadTarget,
): Promise<InstalledWeights> {
  await ensureDir(dir);
  const existing = await readMeta(dir, name);
  if (existing && existing.kind === 'download' && existing.source === url && existing.arch === arch) {
    const wanted = options.sha256?.toLowerCase() ?? existing.sha256;
    const size = await fileSizeOrNull(target);
    if (existing.sha256 === wanted && size === existing.size) return existing;
  }

  const unlock = await lockDownload(partPath, url);
  try {
    const result = await downloadResumable({
      url,
      partPath,
      signal: options.signal,
      onProgress: options.onProgress,
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      idleTimeoutMs: options.idleTimeoutMs,
    });
    let verified;
    try {
      verified = await verifyWeightsFile(partPath, {
        arch,
        sha256: options.sha256,
        size: options.size ?? result.total ?? undefined,
      });
    } catch (error) {
      // A complete transfer that fails verification is useless to resume: drop it. The installed file is untouched.
      await rm(partPath, { force: true });
      await rm(`${partPath}.json`, { force: true });
      const reason = error instanceof Error ? error.message.replace(partPath, 'the file') : String(error);
      throw new SortaError('invalid-weights', `download from ${url} refused: ${reason}`, { cause: error });
    }
    await rename(partPath, target);
    return writeMeta(dir, {
      name,
      path: target,
      arch,
      ...verified,
      source: url,
      kind: 'download',
      installedAt: new Date().toISOString(),
    });
  } finally {
    await unlock();
  }
}

/** Verifies a local weights file and installs it: a copy in the weights folder, or a reference to it. */
export async function importLocalWeights(
  path: string,
  options: ImportWeightsOptions = {},
): Promise<InstalledWeights> {
  const source = resolve(path);
  const arch = checkArch(options.arch ?? DEFAULT_WEIGHTS_ARCH);
  const mode = options.mode ?? 'copy';
  const dir = resolveWeightsDir(options);
  const name = checkName(options.name ?? basename(source).replace(/\.safetensors$/i, ''));
  await stat(source).catch((error: unknown) => {
    throw new SortaError('not-found', `weights file ${source}: ${describeFsError(error)}`, { cause: error });
  });
  const verified = await verifyWeightsFile(source, { arch, sha256: options.sha256 });
  await ensureDir(dir);
  const target = join(dir, `${name}.safetensors`);
  if (mode === 'copy' && source !== target) {
    const partPath = `${target}.import${PART_SUFFIX}`;
    try {
      await copyFile(source, partPath);
      // The copy must be the file that was verified (the source may have changed meanwhile).
      const copied = await sha256File(partPath);
      if (copied !== verified.sha256)
        throw new SortaError('io', `weights file ${source} changed while it was being copied; try again`);
      await rename(partPath, target);
    } catch (error) {
      await rm(partPath, { force: true });
      if (error instanceof SortaError) throw error;
      throw new SortaError('io', `cannot copy ${source} to ${target}: ${describeFsError(error)}`, {
        cause: error,
      });
    }
  }
  return writeMeta(dir, {
    name,
    path: mode === 'copy' ? target : source,
    arch,
    ...verified,
    source,
    kind: mode,
    installedAt: new Date().toISOString(),
  });
}

/** Installed weights (with whether each file is still there and unchanged in size) and partial downloads. */
export async function listWeights(options: ManagerOptions = {}): Promise<WeightsEntry[]> {
  const dir = resolveWeightsDir(options);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SortaError('io', `cannot read ${dir}: ${describeFsError(error)}`, { cause: error });
  }
  const entries: WeightsEntry[] = [];
  for (const file of names.sort()) {
    if (file.endsWith(META_SUFFIX)) {
      const meta = await readMeta(dir, file.slice(0, -`.safetensors${META_SUFFIX}`.length));
      if (!meta) continue;
      const size = await fileSizeOrNull(meta.path);
      entries.push({ ...meta, status: size === null ? 'missing' : size === meta.size ? 'ok' : 'changed' });
    } else if (file.endsWith(`.safetensors${PART_SUFFIX}`)) {
      const path = join(dir, file);
      entries.push({
        name: file.slice(0, -`.safetensors${PART_SUFFIX}`.length),
        status: 'partial',
        path,
        bytes: (await fileSizeOrNull(path)) ?? 0,
      });
    }
  }
  return entries;
}

/** The installed weights to use for `arch`: the named entry, else the first usable one for that architecture. */
export async function findInstalledWeights(
  arch: ArchName,
  options: ManagerOptions & { name?: string } = {},
): Promise<InstalledWeights | null> {
  for (const entry of await listWeights(options)) {
    if (entry.status !== 'ok' || entry.arch !== arch) continue;
    if (options.name === undefined || entry.name === options.name) return stripStatus(entry);
  }
  return null;
}

/** A file name from the URL: timm/hub URLs end in `model.safetensors`, so the repository name is used there. */
export function nameFromUrl(url: string): string {
  let segments: string[];
  try {
    segments = new URL(url).pathname.split('/').filter(Boolean);
  } catch {
    throw new SortaError('usage', `'${url}' is not a URL`);
  }
  const resolveAt = segments.indexOf('resolve');
  const last = segments[segments.length - 1] ?? 'weights';
  const base =
    /^(model|pytorch_model)\.safetensors$/.test(last) && resolveAt > 0 ? segments[resolveAt - 1] : last;
  return base.replace(/\.safetensors$/i, '').replace(/[^\w.-]+/g, '_') || 'weights';
}

const claimedInThisProcess = new Set<string>();

interface DownloadTarget {
  url: string;
  arch: ArchName;
  dir: string;
  name: string;
  target: string;
  partPath: string;
}

const busy = (url: string, partPath: string, who: string) =>
  new SortaError('conflict', `${url} is already being downloaded into ${partPath} (${who})`);

/** One download per part file within this process (a second click); synchronous, so the first caller wins. */
function claimInProcess(partPath: string, url: string): () => void {
  if (claimedInThisProcess.has(partPath)) throw busy(url, partPath, 'by this process');
  claimedInThisProcess.add(partPath);
  return () => claimedInThisProcess.delete(partPath);
}

/**
 * One download per part file across processes (the app and the CLI), via `<part>.lock` holding the owner's pid. A
 * lock whose process is gone is taken over.
 */
async function lockDownload(partPath: string, url: string): Promise<() => Promise<void>> {
  const lockPath = `${partPath}.lock`;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
        if (owner > 0 && owner !== process.pid && processAlive(owner))
          throw busy(url, partPath, `by process ${owner}`);
        await rm(lockPath, { force: true }); // stale: its process is gone
      }
    }
  } catch (error) {
    if (error instanceof SortaError) throw error;
    throw new SortaError('io', `cannot lock ${lockPath}: ${describeFsError(error)}`, { cause: error });
  }
  return () => rm(lockPath, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function stripStatus(entry: InstalledWeights & { status: string }): InstalledWeights {
  const { status: _status, ...meta } = entry;
  return meta;
}

function checkArch(arch: string): ArchName {
  if (!isArchName(arch)) throw new SortaError('usage', `unknown architecture '${arch}'`);
  return arch;
}

function checkName(name: string): string {
  if (!/^[\w][\w.-]*$/.test(name) || name.length > 120)
    throw new SortaError('usage', `'${name}' cannot name a weights file (letters, digits, '.', '-', '_')`);
  return name;
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new SortaError('io', `cannot create ${dir}: ${describeFsError(error)}`, { cause: error });
  }
}

async function fileSizeOrNull(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

async function readMeta(dir: string, name: string): Promise<InstalledWeights | null> {
  try {
    return JSON.parse(
      await readFile(join(dir, `${name}.safetensors${META_SUFFIX}`), 'utf8'),
    ) as InstalledWeights;
  } catch {
    return null;
  }
}

async function writeMeta(dir: string, meta: InstalledWeights): Promise<InstalledWeights> {
  const path = join(dir, `${meta.name}.safetensors${META_SUFFIX}`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return meta;
}
