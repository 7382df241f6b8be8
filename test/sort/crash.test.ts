/**
 * A sorting process SIGKILLed at random moments: after each kill every file's content must still exist (at least once:
 * a hard link or a verified temp may briefly double it); after recovery exactly once, with no temp left and the job
 * finished; after undo (itself killed some of the time) every file back at its original path with the same bytes.
 *
 * The child runs the built modules (dist/; `npm run build` first, as for the CLI tests).
 * The folders live on /dev/shm when it exists, where fsync is free, so the many kills fit in a few seconds each; a
 * test-only pause at each step boundary (SORTA_TEST_STEP_DELAY_MS) makes a sort last long enough to be hit anywhere.
 * Every 30th file is 4 MiB, so some kills land inside a copy or a hash. Some rounds force the EXDEV path, some
 * refuse hard links altogether (as FAT does), some move across a real filesystem boundary (tmpfs ↔ the temp
 * folder's disk).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recoverInterruptedJobs } from '../../electron/sort/recover.js';
import { undoSort } from '../../electron/sort/undo.js';
import { childJobs, getJob } from '../../electron/store/jobs-repo.js';
import { openProject } from '../../electron/store/project.js';
import { makeRandomTree, removeDir, snapshot, syntheticPredictions, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./sort-child.js', import.meta.url));
const FILES = 120;
const KILLS = 22;
const STEP_DELAY_MS = 1;

interface Child {
  /** Resolves once the child printed `job <id>`, with that id. */
  started: Promise<number>;
  exited: Promise<void>;
  kill(): void;
}

function startChild(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [CHILD, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const started = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /job (\d+)\n/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', () => reject(new Error(`child ended before starting: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { started, exited, kill: () => child.kill('SIGKILL') };
}

/** A small seeded generator, so a failing round can be replayed (the seed is printed). */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** sha256 → how many regular files hold it, under the given roots (temps counted apart). */
function contentCounts(roots: string[]): { counts: Map<string, number>; temps: string[] } {
  const counts = new Map<string, number>();
  const temps: string[] = [];
  for (const root of roots)
    for (const [path, sha] of snapshot(root)) {
      if (path.split('/').pop()!.startsWith('.sorta-tmp-')) temps.push(join(root, path));
      else counts.set(sha, (counts.get(sha) ?? 0) + 1);
    }
  return { counts, temps };
}

describe('a sort killed at random moments', () => {
  let work: string;
  let diskOut: string;
  before(() => {
    work = tempDir('crash', existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    diskOut = tempDir('crash-disk', tmpdir());
  });
  after(() => {
    removeDir(work);
    removeDir(diskOut);
  });

  it(
    `keeps every file exactly once through ${KILLS} kills, recovery and undo`,
    { timeout: 240_000 },
    async (t) => {
      const seed = Number(process.env.SORTA_TEST_SEED ?? Date.now() % 1_000_000);
      t.diagnostic(`seed ${seed} (SORTA_TEST_SEED=${seed} replays it)`);
      const rand = random(seed);
      const src = join(work, 'src');
      mkdirSync(src);
      const original = makeRandomTree(src, FILES, 30);
      const predictionsPath = join(work, 'predictions.json');
      writeFileSync(
        predictionsPath,
        JSON.stringify(
          syntheticPredictions(original.keys()).map((p) => ({
            ...p,
            probs: { [p.label]: p.confidence },
            error: null,
          })),
        ),
      );
      const projectPath = join(work, 'crash.sorta');
      const crossFs = statSync(work).dev !== statSync(diskOut).dev;

      // One uninterrupted round measures how long a sort takes, so the kills land inside one.
      let sortMs = 0;
      let killsDuringSort = 0;
      let killsDuringUndo = 0;
      let inFlightSettled = 0;
      for (let round = 0; round <= KILLS; round++) {
        const mode = round % 2 === 0 ? 'move' : 'copy';
        const forceExdev = round % 4 === 1 || round % 4 === 2;
        const noHardLinks = round % 4 === 3 || round % 8 === 4;
        const out = crossFs && round % 7 === 3 ? join(diskOut, `out-${round}`) : join(work, `out-${round}`);
        const env = {
          SORTA_TEST_STEP_DELAY_MS: String(STEP_DELAY_MS),
          SORTA_TEST_FORCE_EXDEV: forceExdev ? '1' : '0',
          SORTA_TEST_NO_HARDLINKS: noHardLinks ? '1' : '0',
        };
        const label = `round ${round} (${mode}${forceExdev ? ', EXDEV forced' : ''}${noHardLinks ? ', no hard links' : ''}${out.startsWith(diskOut) ? ', across filesystems' : ''})`;

        const roundStart = Date.now();
        const sorter = startChild(['sort', projectPath, src, out, mode, predictionsPath], env);
        const jobId = await sorter.started;
        const startedAt = Date.now();
        if (round === 0) {
          await sorter.exited;
          sortMs = Date.now() - startedAt;
          t.diagnostic(`an uninterrupted sort of ${FILES} files took ${sortMs} ms`);
        } else {
          await sleep(rand() * sortMs);
          sorter.kill();
          await sorter.exited;
          killsDuringSort++;
        }

        // Nothing lost, even before recovery.
        const killed = contentCounts([src, out]);
        for (const sha of original.values())
          assert.ok(
            (killed.counts.get(sha) ?? 0) >= 1,
            `${label}: a file's content is missing after the kill`,
          );

        const project = openProject(projectPath);
        try {
          const recovered = await recoverInterruptedJobs(project);
          inFlightSettled += recovered.reduce((n, r) => n + r.interrupted, 0);
          for (const r of recovered) assert.deepEqual(r.problems, [], `${label}: recovery problems`);
          const settled = contentCounts([src, out]);
          assert.deepEqual(settled.temps, [], `${label}: temp files left after recovery`);
          const job = childJobs(project, jobId, 'sort')[0];
          if (job) {
            assert.equal(job.state, 'done', label);
            // The recovered sort is complete: every file once in OUT, and once more in SRC only when copying.
            assert.equal(snapshot(out).size, FILES, `${label}: sorted files`);
            for (const sha of original.values())
              assert.equal(
                settled.counts.get(sha),
                mode === 'copy' ? 2 : 1,
                `${label}: copies of one content`,
              );

            if (round % 3 === 0) {
              const undoer = startChild(['undo', projectPath, String(job.id)], env);
              await undoer.started;
              await sleep(rand() * sortMs);
              undoer.kill();
              await undoer.exited;
              killsDuringUndo++;
              const mid = contentCounts([src, out]);
              for (const sha of original.values())
                assert.ok(
                  (mid.counts.get(sha) ?? 0) >= 1,
                  `${label}: content missing after killing the undo`,
                );
              const again = await recoverInterruptedJobs(project);
              for (const r of again) assert.deepEqual(r.problems, [], `${label}: undo recovery problems`);
            }
            if (getJob(project, job.id)!.state !== 'undone') {
              const undo = await undoSort(project, { jobId: job.id });
              assert.deepEqual(undo.problems, [], `${label}: undo problems`);
            }
          } else {
            // Killed before the sort job and its plan were journaled (one transaction): nothing was touched.
            assert.equal(snapshot(out).size, 0, label);
          }
          assert.deepEqual(snapshot(src), original, `${label}: every file back at its path with its bytes`);
          assert.equal(snapshot(out).size, 0, `${label}: nothing left in the output folder`);
        } finally {
          project.close();
        }
        removeDir(out);
        if (process.env.SORTA_TEST_VERBOSE) t.diagnostic(`${label}: ${Date.now() - roundStart} ms`);
      }
      t.diagnostic(
        `${killsDuringSort} kills during sorts, ${killsDuringUndo} during undos, ${inFlightSettled} operations caught in flight`,
      );
      assert.ok(killsDuringSort >= 20);
    },
  );
});
