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
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';

interface FsTestHooks {
  forceExdev?: boolean;
  noHardLinks?: boolean;
  stepDelayMs?: number;
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

/** A step boundary of a file operation: a no-op, except that tests can ask for a pause here. */
export function stepBoundary(): void {
  const ms = hooks.stepDelayMs ?? Number(process.env.SORTA_TEST_STEP_DELAY_MS ?? 0);
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
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
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, chunkBuffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(chunkBuffer.subarray(0, n));
      size += n;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
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

/** Copies to a path that must not exist yet (fails with EEXIST), then flushes the copy to disk. */
export function copyToNewFile(source: string, dest: string): void {
  copyFileSync(source, dest, constants.COPYFILE_EXCL);
  fsyncFile(dest);
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
  const probe = join(dir, `.sorta-probe-${process.pid}-${Date.now()}`);
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
