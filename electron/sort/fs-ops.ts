/**
 * The few filesystem calls the sort engine makes, in one place, so that each is the safe variant (never replaces an
 * existing file) and so that tests can steer them:
 * - `SORTA_TEST_FORCE_EXDEV=1` (or `setFsTestHooks({ forceExdev: true })`) makes a hard link between two different
 *   folders fail with EXDEV, as it does across filesystems, so the copy-verify-rename path runs on one filesystem.
 * - `SORTA_TEST_NO_HARDLINKS=1` (or `setFsTestHooks({ noHardLinks: true })`) makes every hard link fail with EPERM, as on FAT/exFAT and some network
 *   shares, where a file gets its final name by a checked rename instead.
 * - `SORTA_TEST_STEP_DELAY_MS=N` sleeps N ms at each step boundary of a file operation, so a test can kill a sorting
 *   process at any moment of it.
 * Everything is synchronous: a step is one system call, and the journal (better-sqlite3) is synchronous too.
 */
import {
  closeSync,
  constants,
  copyFileSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

interface FsTestHooks {
  forceExdev?: boolean;
  noHardLinks?: boolean;
  stepDelayMs?: number;
  /** Called at each named step boundary with the path the next step acts on (tests play another program there). */
  onStep?: (step: string, path: string) => void;
}

let hooks: FsTestHooks = {};

/** Test-only: overrides the environment variables above for this process. */
export function setFsTestHooks(next: FsTestHooks): void {
  hooks = { ...next };
}

function forceExdev(): boolean {
  return hooks.forceExdev ?? process.env.SORTA_TEST_FORCE_EXDEV === '1';
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** A step boundary of a file operation: a no-op, except that tests can ask for a pause (or an action) here. */
export function stepBoundary(step = '', path = ''): void {
  const ms = hooks.stepDelayMs ?? Number(process.env.SORTA_TEST_STEP_DELAY_MS ?? 0);
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
  if (step) hooks.onStep?.(step, path);
}

export interface FileFacts {
  size: number;
  sha256: string;
}

const CHUNK = 1 << 20;
const chunkBuffer = Buffer.allocUnsafe(CHUNK);

/** Size and SHA-256 of a file's content. */
export function hashFile(path: string): FileFacts {
  const fd = openSync(path, 'r');
  try {
    return hashFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Size and SHA-256 of an open file's content, read from its start. */
function hashFd(fd: number): FileFacts {
  const hash = createHash('sha256');
  let size = 0;
  for (;;) {
    const n = readSync(fd, chunkBuffer, 0, CHUNK, size);
    if (n === 0) break;
    hash.update(chunkBuffer.subarray(0, n));
    size += n;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Size and SHA-256, or null when the path is missing or not a regular file. */
export function hashIfFile(path: string): FileFacts | null {
  return kindOf(path) === 'file' ? hashFile(path) : null;
}

export type PathKind = 'missing' | 'file' | 'directory' | 'other';

/** What is at a path, without following a final symlink (a symlink counts as 'other', never as the file). */
export function kindOf(path: string): PathKind {
  try {
    const stat = lstatSync(path);
    if (stat.isFile()) return 'file';
    if (stat.isDirectory()) return 'directory';
    return 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/**
 * What is at a path that is not a regular file, in words for a message ('a symbolic link', 'a named pipe (FIFO)',
 * …), without following a final symlink; null for a regular file. Throws the fs error when it cannot be looked at.
 */
export function describeNonFile(path: string): string | null {
  const stat = lstatSync(path);
  if (stat.isFile()) return null;
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Same inode (a hard link of one another)? */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = lstatSync(a);
    const sb = lstatSync(b);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}

/** A new name for an existing file; fails with EEXIST rather than replacing, EXDEV across filesystems. */
export function linkNoReplace(existing: string, newPath: string): void {
  if (forceExdev() && dirname(existing) !== dirname(newPath)) {
    const error = new Error(`EXDEV: cross-device link not permitted, link '${existing}' -> '${newPath}'`);
    Object.assign(error, { code: 'EXDEV', syscall: 'link', path: existing, dest: newPath });
    throw error;
  }
  if (hooks.noHardLinks ?? process.env.SORTA_TEST_NO_HARDLINKS === '1') {
    const error = new Error(`EPERM: operation not permitted, link '${existing}' -> '${newPath}'`);
    Object.assign(error, { code: 'EPERM', syscall: 'link', path: existing, dest: newPath });
    throw error;
  }
  linkSync(existing, newPath);
}

/**
 * For filesystems without hard links: gives `temp` the name `dest` unless something is already there (EEXIST). The
 * check and the rename are two calls, so a file created at that very name in between would be replaced; hard links,
 * used wherever the filesystem has them, leave no such gap.
 */
export function renameIfAbsent(temp: string, dest: string): void {
  if (kindOf(dest) !== 'missing') {
    const error = new Error(`EEXIST: file already exists, rename '${temp}' -> '${dest}'`);
    Object.assign(error, { code: 'EEXIST', syscall: 'rename', path: temp, dest });
    throw error;
  }
  renameSync(temp, dest);
}

/**
 * A name for a temporary copy in `dir` that no other process picks: the job and operation (for people reading a
 * folder), this process's id and 96 random bits. Two projects at the same job number, or two machines on one
 * share, never meet on it.
 */
export function uniqueTempName(dir: string, jobId: number, seq: number): string {
  return join(dir, `.sorta-tmp-${jobId}-${seq}-${process.pid}-${randomBytes(12).toString('hex')}`);
}

/** A copy this process created, held open so that its inode cannot be reused or mistaken for another file's. */
export interface OwnCopy {
  path: string;
  fd: number;
  facts: FileFacts;
}

/**
 * Copies `source` to `dest`, which this call creates exclusively (O_EXCL: EEXIST when anything is there, which is
 * then not ours and left alone), flushes it to disk and hashes what was written, through the file it holds open.
 */
export function copyToNewFile(source: string, dest: string): OwnCopy {
  copyFileSync(source, dest, constants.COPYFILE_EXCL);
  const fd = openSync(dest, 'r');
  try {
    fsyncSync(fd);
    return { path: dest, fd, facts: hashFd(fd) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** True when `path` is (still) the file held open as `fd` — not something put in its place. */
export function isSameOpenFile(path: string, fd: number): boolean {
  try {
    const named = lstatSync(path);
    const held = fstatSync(fd);
    return named.isFile() && named.ino === held.ino && named.dev === held.dev;
  } catch {
    return false;
  }
}

/** Removes `path` only when it is still the file this process holds open; true when it was removed. */
export function removeIfOwn(path: string, fd: number): boolean {
  return isSameOpenFile(path, fd) && removeIfPresent(path);
}

export function closeFile(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

export function removeFile(path: string): void {
  unlinkSync(path);
}

/** Removes a file if it is there; true when something was removed. */
export function removeIfPresent(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a folder's entries (a new link, a removed name) durable. Some filesystems refuse; that is not an error. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL on filesystems without directory fsync.
  } finally {
    closeSync(fd);
  }
}

export function makeDirs(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Proves a folder is writable by creating and removing a small file in it; throws the fs error otherwise. */
export function probeWritable(dir: string): void {
  const probe = join(dir, `.sorta-probe-${process.pid}-${randomBytes(8).toString('hex')}`);
  writeFileSync(probe, '', { flag: 'wx' });
  unlinkSync(probe);
}

/** Removes a folder only if it is empty; true when it was removed. */
export function removeEmptyDir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}
