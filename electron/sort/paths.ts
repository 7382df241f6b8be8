/**
 * Where sorted files may go: the checks that refuse a dangerous output folder before anything is touched, and the
 * names of class folders.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { describeFsError, SortaError } from '../shared/errors.js';
import { kindOf, makeDirs, probeWritable } from './fs-ops.js';

/** The folder for files whose top probability is below the threshold. */
export const UNSURE_FOLDER = '_unsure';

/** A short reason for an fs error, covering the codes the shared helper does not. */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'EEXIST') return 'a file with that name already exists';
  if (code === 'EXDEV') return 'it is on another filesystem';
  if (code === 'ENAMETOOLONG') return 'the name is too long for the destination filesystem';
  if (code === 'ELOOP') return 'too many symbolic links in the path';
  return describeFsError(error);
}

/**
 * The real path of `path` even when it does not exist yet: the nearest existing ancestor is resolved through its
 * symlinks and the missing rest is appended.
 */
export function realPathOfMaybeMissing(path: string): string {
  const absolute = resolve(path);
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      const real = realpathSync(current);
      return missing.length ? join(real, ...missing.reverse()) : real;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return absolute;
      const parent = dirname(current);
      if (parent === current) return absolute;
      missing.push(basename(current));
      current = parent;
    }
  }
}

/** True when `child` is `parent` or lies below it (both absolute, normalised). */
export function isSameOrInside(child: string, parent: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(prefix);
}

/**
 * The first folder on the way from `root` (a real path) to the file `rel` ('/'-separated) that is a symbolic link,
 * as a relative path, or null when every folder on the way is a real one. Sorta does not descend into linked
 * folders: through one, a move would take files from outside the folder being sorted (even the output folder).
 */
export function linkedFolderOnPath(root: string, rel: string): string | null {
  const parts = rel.split('/').slice(0, -1);
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    current = join(current, parts[i]);
    let kind: ReturnType<typeof kindOf>;
    try {
      kind = kindOf(current);
    } catch {
      return null; // unreadable: the operation on the file reports why
    }
    if (kind === 'other') return parts.slice(0, i + 1).join('/');
    if (kind !== 'directory') return null;
  }
  return null;
}

export interface SortTarget {
  /** Real path of the folder being sorted. */
  sourceDir: string;
  /** Real path of the output folder (it may not exist yet on a dry run). */
  outDir: string;
}

/**
 * Refuses, with a message that says why and what to do: a missing source folder, an output folder inside the folder
 * being sorted, a source folder inside (or equal to) the output folder — all compared by real path, so symlinks do
 * not hide them — and an output folder that cannot be written (proved by creating and removing a probe file). On a
 * dry run the output folder is not created; its nearest existing ancestor is probed instead.
 */
export function checkSortTarget(sourceDir: string, outDir: string, options: { dryRun: boolean }): SortTarget {
  const sourceAbs = resolve(sourceDir);
  const sourceKind = kindOfFollowing(sourceAbs);
  if (sourceKind === 'missing')
    throw new SortaError('not-found', `The folder to sort, ${sourceAbs}, does not exist.`);
  if (sourceKind !== 'directory')
    throw new SortaError('invalid-input', `The folder to sort, ${sourceAbs}, is not a folder.`);
  const source = realpathSync(sourceAbs);
  const out = realPathOfMaybeMissing(outDir);
  if (isSameOrInside(out, source))
    throw new SortaError(
      'invalid-input',
      `Cannot sort ${source} into ${out}: the output folder is ${out === source ? 'the same folder' : 'inside the folder being sorted'}. ` +
        'Choose an output folder outside it.',
    );
  if (isSameOrInside(source, out))
    throw new SortaError(
      'invalid-input',
      `Cannot sort ${source} into ${out}: the folder being sorted is inside the output folder. ` +
        'Choose an output folder outside it.',
    );
  const outKind = kindOfFollowing(out);
  if (outKind !== 'missing' && outKind !== 'directory')
    throw new SortaError('invalid-input', `Cannot sort into ${out}: it is a file, not a folder.`);

  const probeDir = options.dryRun ? nearestExisting(out) : out;
  try {
    if (!options.dryRun) makeDirs(out);
    probeWritable(probeDir);
  } catch (error) {
    throw new SortaError(
      'io',
      `Cannot sort into ${out}: the output folder cannot be written (${fsReason(error)}). Nothing was changed.`,
      { cause: error },
    );
  }
  return { sourceDir: source, outDir: out };
}

function kindOfFollowing(path: string): ReturnType<typeof kindOf> {
  try {
    return kindOf(realpathSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a part of the path is a file, so nothing is there (creating it will say why it cannot be).
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw error;
  }
}

function nearestExisting(path: string): string {
  let current = path;
  while (kindOf(current) === 'missing') {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

// Control characters are unsafe in names too.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[/\\:*?"<>|\u0000-\u001f]/g;

/** The longest file name most filesystems take (ext4, XFS, Btrfs, APFS, NTFS count bytes or UTF-16 units ≤ 255). */
export const NAME_MAX_BYTES = 255;

/** The longest prefix of `text` that fits in `maxBytes` bytes of UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * A class name as a folder name: path separators and characters Windows refuses become '_'; never '.' or '..';
 * at most 255 bytes.
 */
export function classFolderName(className: string): string {
  const name = truncateUtf8(className.replace(UNSAFE_CHARS, '_'), NAME_MAX_BYTES).replace(/[. ]+$/, '');
  if (name === '' || name === '.' || name === '..') return `_${className.length ? 'class' : 'unnamed'}`;
  return name;
}

/**
 * One folder per class, never shared: `cat:` and `cat_` both make `cat_`, and `Cat` and `cat` are one folder on
 * macOS and Windows, so folder names are compared without case and a later class gets ` (1)`, ` (2)`… A class whose
 * name is already a safe folder name keeps it; `_unsure` is reserved for the files below the threshold. The
 * classes are taken in code-point order, so the same classes always get the same folders.
 */
export function classFolders(classNames: Iterable<string>): Map<string, string> {
  const names = [...new Set(classNames)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const taken = new Set([UNSURE_FOLDER.toLowerCase()]);
  const folders = new Map<string, string>();
  for (const name of names) {
    if (classFolderName(name) !== name || taken.has(name.toLowerCase())) continue;
    folders.set(name, name);
    taken.add(name.toLowerCase());
  }
  for (const name of names) {
    if (folders.has(name)) continue;
    const base = classFolderName(name);
    let folder = base;
    for (let n = 1; taken.has(folder.toLowerCase()); n++) {
      const suffix = ` (${n})`;
      folder = truncateUtf8(base, NAME_MAX_BYTES - suffix.length) + suffix;
    }
    folders.set(name, folder);
    taken.add(folder.toLowerCase());
  }
  return folders;
}
