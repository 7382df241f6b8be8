/**
 * Opening something that is not a Sorta project must leave it exactly as it was: another program's SQLite file gets
 * no Sorta tables and keeps its journal mode, whatever the command (`sorta labels`, `sorta import`). A project on a
 * read-only location is refused with "read-only" and the file's name, not SQLite's "unable to open database file".
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openProject } from '../../electron/store/project.js';
import { runSorta } from '../helpers/cli.js';

const SORTA_BIN = fileURLToPath(new URL('../../bin/sorta.js', import.meta.url));
const AS_ROOT = process.getuid?.() === 0;
/** Root writes anywhere, so as root the read-only cases run as the unprivileged user 'nobody'. */
const NOBODY = 65534;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** An SQLite file as another program keeps it: its own table, rollback journal (not WAL), no user_version. */
function writeForeignDatabase(path: string): void {
  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  db.exec(
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');",
  );
  db.close();
}

function assertUntouched(path: string, hash: string): void {
  assert.equal(sha256(path), hash, `${path} changed`);
  assert.equal(existsSync(`${path}-wal`), false, 'no WAL file beside it');
  assert.equal(existsSync(`${path}.sorta-cache`), false, 'no cache folder beside it');
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(), [
      'notes',
    ]);
  } finally {
    db.close();
  }
}

function runAsNobody(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SORTA_BIN, ...args], {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("another program's SQLite file", () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-foreign-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('is refused by openProject, creating or not, and left unchanged', () => {
    const path = join(tmp, 'other.db');
    writeForeignDatabase(path);
    const hash = sha256(path);
    for (const create of [true, false]) {
      assert.throws(
        () => openProject(path, { create }),
        (error: Error) =>
          /other\.db is not a Sorta project/.test(error.message) && /notes/.test(error.message),
      );
      assertUntouched(path, hash);
    }
  });

  it('is refused by sorta labels and sorta import with one clear line, and left unchanged', async () => {
    const path = join(tmp, 'app.sqlite');
    writeForeignDatabase(path);
    const hash = sha256(path);
    const photos = join(tmp, 'photos');
    mkdirSync(photos);
    for (const args of [
      ['labels', '--project', path],
      ['import', '--project', path, photos],
    ]) {
      const run = await runSorta(args);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /app\.sqlite is not a Sorta project/);
      assertUntouched(path, hash);
    }
  });

  it('an empty file is a new project only when creating one', () => {
    const path = join(tmp, 'empty.sorta');
    writeFileSync(path, '');
    assert.throws(() => openProject(path, { create: false }), /empty\.sorta is not a Sorta project/);
    assert.equal(readFileSync(path).length, 0);
    openProject(path).close();
    openProject(path, { create: false }).close();
  });
});

describe('a project on a read-only location', { skip: process.platform === 'win32' }, () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-readonly-'));
    chmodSync(tmp, 0o755);
  });
  after(() => {
    for (const dir of ['rodir', 'rofile', 'rocreate'])
      if (existsSync(join(tmp, dir))) chmodSync(join(tmp, dir), 0o755);
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A project made in `dir` (owned by whoever runs the CLI below, so only the modes decide). */
  function makeProject(dir: string): string {
    mkdirSync(dir);
    const path = join(dir, 'p.sorta');
    openProject(path).close();
    if (AS_ROOT) {
      chownSync(dir, NOBODY, NOBODY);
      chownSync(path, NOBODY, NOBODY);
    }
    return path;
  }

  it('in a read-only folder: says read-only and names the file', async () => {
    const path = makeProject(join(tmp, 'rodir'));
    chmodSync(join(tmp, 'rodir'), 0o555);
    const run = await runAsNobody(['labels', '--project', path]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /read-only/);
    assert.ok(run.stderr.includes(path), run.stderr);
    assert.doesNotMatch(run.stderr, /unable to open database file/);
  });

  it('a read-only file: says read-only and names the file', async () => {
    const path = makeProject(join(tmp, 'rofile'));
    chmodSync(path, 0o444);
    const run = await runAsNobody(['labels', '--project', path]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /read-only/);
    assert.ok(run.stderr.includes(path), run.stderr);
  });

  it('creating a project in a read-only folder: says read-only and names it', async () => {
    const dir = join(tmp, 'rocreate');
    mkdirSync(dir);
    if (AS_ROOT) chownSync(dir, NOBODY, NOBODY);
    chmodSync(dir, 0o555);
    const photos = join(tmp, 'photos');
    mkdirSync(photos, { recursive: true });
    const path = join(dir, 'new.sorta');
    const run = await runAsNobody(['import', '--project', path, photos]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /read-only/);
    assert.ok(run.stderr.includes(path), run.stderr);
    assert.doesNotMatch(run.stderr, /unable to open database file/);
  });
});
