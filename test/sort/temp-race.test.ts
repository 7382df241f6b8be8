/**
 * Two Sorta processes sorting into one output folder at the same time: two projects at the same job numbers (so the
 * same job and operation numbers), moving into the same class folder across filesystems (the source folders on disk,
 * the output on tmpfs when there is one, else the copy path is forced), so every file goes through a temporary copy.
 * Neither process may ever touch the other's temporary file: the journaled temp names never coincide, and every
 * file's bytes end up exactly once in the output, each under its own name.
 *
 * The children run the built modules (dist/; `npm run build` first). Whether the two processes reach the same file
 * at the same instant depends on the machine; the names check does not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileOps, unfinishedJobs } from '../../electron/store/jobs-repo.js';
import { openProject } from '../../electron/store/project.js';
import { removeDir, sha256, snapshot, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./sort-child.js', import.meta.url));
const FILES = 60;
const ROUNDS = 3;

function runChild(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`)),
    );
  });
}

/** `FILES` files of 1 MiB named `<prefix>-NNNN.jpg`, all predicted as 'cat'; returns sha256 → name. */
function makeSource(root: string, prefix: string): { shas: Map<string, string>; predictions: string } {
  mkdirSync(root, { recursive: true });
  const shas = new Map<string, string>();
  const rows = [];
  for (let i = 0; i < FILES; i++) {
    const name = `${prefix}-${String(i).padStart(4, '0')}.jpg`;
    const bytes = randomBytes(1 << 20);
    writeFileSync(join(root, name), bytes);
    shas.set(sha256(bytes), name);
    rows.push({ path: name, label: 'cat', confidence: 0.9, probs: { cat: 0.9 }, error: null });
  }
  const predictions = join(root, '..', `${prefix}-predictions.json`);
  writeFileSync(predictions, JSON.stringify(rows));
  return { shas, predictions };
}

describe('two sorts into one output folder at once', () => {
  let disk: string;
  let shm: string;
  before(() => {
    disk = tempDir('race-disk', tmpdir());
    shm = tempDir('race-out', existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  });
  after(() => {
    removeDir(disk);
    removeDir(shm);
  });

  it(
    'never share or remove each other’s temporary files; every file arrives once',
    { timeout: 240_000 },
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const roundDir = join(disk, `round-${round}`);
        const out = join(shm, `out-${round}`);
        const a = makeSource(join(roundDir, 'A'), 'A');
        const b = makeSource(join(roundDir, 'B'), 'B');
        const crossFs = statSync(roundDir).dev !== statSync(shm).dev;
        const env = { SORTA_TEST_FORCE_EXDEV: crossFs ? '0' : '1' };
        const projects = [join(roundDir, 'a.sorta'), join(roundDir, 'b.sorta')];
        await Promise.all([
          runChild(['sort', projects[0], join(roundDir, 'A'), out, 'move', a.predictions], env),
          runChild(['sort', projects[1], join(roundDir, 'B'), out, 'move', b.predictions], env),
        ]);

        const temps: string[][] = projects.map((path) => {
          const project = openProject(path, { create: false });
          try {
            assert.deepEqual(unfinishedJobs(project, ['sort']), [], `round ${round}: a sort did not finish`);
            // Job 1 classified, job 2 sorted, in both projects: the same numbers, the case that collided.
            const ops = fileOps(project, 2);
            assert.equal(ops.length, FILES);
            assert.ok(
              ops.every((op) => op.state === 'done'),
              `round ${round}: ${ops.filter((op) => op.state !== 'done').map((op) => `${op.source}: ${op.error}`)}`,
            );
            return ops.map((op) => op.temp ?? '');
          } finally {
            project.close();
          }
        });
        const shared = temps[0].filter((name) => name !== '' && temps[1].includes(name));
        assert.deepEqual(shared, [], `round ${round}: both processes used the same temporary names`);

        const sorted = snapshot(out);
        assert.equal(sorted.size, 2 * FILES, `round ${round}: files in the output (no temp left)`);
        for (const [sha, name] of [...a.shas, ...b.shas])
          assert.equal(sorted.get(`cat/${name}`), sha, `round ${round}: cat/${name} holds its own bytes`);
        removeDir(out);
        removeDir(roundDir);
      }
    },
  );
});
