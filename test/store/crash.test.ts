/**
 * Labels are precious: a process killed at any moment (SIGKILL: no cleanup, no flush) must leave a project that
 * passes `PRAGMA integrity_check` and holds every label whose write was acknowledged, with no half transaction.
 * Needs the built store (`npm run build`): the child runs dist/ so that 50+ starts stay fast.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addClass } from '../../electron/store/classes.js';
import { openProject } from '../../electron/store/project.js';
import { advance, expectedLabels, type PassPosition } from '../helpers/label-passes.mjs';

const WRITER = fileURLToPath(new URL('../helpers/label-writer.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/electron/store/labels.js', import.meta.url));
const LANES = 4;
const KILLS_PER_LANE = 13; // 52 kills in all
const IMAGES = 1_000; // few enough that writers relabel pass after pass, so kills land in later passes too
const CLASSES = 3;

/** A batch the writer acknowledged: its pass (modulo the class count, as a resumed writer knows it) and first image. */
interface Ack {
  pass: number;
  first: number;
}

const children = new Set<ChildProcess>();

/** Starts the writer, kills it with SIGKILL at a random moment, returns the writes it acknowledged. */
function runAndKill(projectPath: string): Promise<{ acks: Ack[]; killedBeforeReady: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, projectPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let ready = false;
    const kill = () => child.kill('SIGKILL');
    // Half the kills at a random moment from the start (possibly while the project opens), half while writing.
    const early = Math.random() < 0.5;
    const timer = early ? setTimeout(kill, Math.random() * 400) : undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (!ready && stdout.includes('ready\n')) {
        ready = true;
        if (!early) setTimeout(kill, 5 + Math.random() * 150);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ended by itself (code ${code}): ${stderr}`));
        return;
      }
      const acks = stdout
        .split('\n')
        .filter((line) => line.startsWith('ack '))
        .map((line) => {
          const [pass, first] = line.slice(4).split(' ').map(Number);
          return { pass, first };
        });
      resolve({ acks, killedBeforeReady: !ready });
    });
  });
}

/**
 * Opens the project (integrity check included) and checks that the labels are exactly those of every acknowledged
 * batch, plus at most the one batch in flight when the kill came, whole: never half a transaction, never a lost ack.
 * Returns how many images the project has labelled.
 */
function verify(projectPath: string, acknowledged: PassPosition, classIds: number[]): number {
  const project = openProject(projectPath, { create: false });
  try {
    assert.deepEqual(project.db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    const labels = new Map(
      (
        project.db.prepare('SELECT image_id, class_id FROM labels').all() as {
          image_id: number;
          class_id: number;
        }[]
      ).map((r) => [r.image_id, r.class_id]),
    );
    const sameAs = (position: PassPosition) => {
      const expected = expectedLabels(position, IMAGES, classIds);
      return (
        expected.size === labels.size && [...expected].every(([id, classId]) => labels.get(id) === classId)
      );
    };
    const diff = (position: PassPosition) => {
      const expected = expectedLabels(position, IMAGES, classIds);
      const bad = [...new Set([...expected.keys(), ...labels.keys()])].filter(
        (id) => labels.get(id) !== expected.get(id),
      );
      return `${bad.length} differ, first ${bad.slice(0, 5).map((id) => `${id}: ${labels.get(id)} vs ${expected.get(id)}`)}`;
    };
    assert.ok(
      sameAs(acknowledged) || sameAs(advance(acknowledged, IMAGES)),
      `labels are every acknowledged batch up to pass ${acknowledged.pass}, image ${acknowledged.next} (or one more ` +
        `batch, whole): ${diff(acknowledged)}; with one more batch: ${diff(advance(acknowledged, IMAGES))}`,
    );
    const emptyEdits = project.db
      .prepare(
        'SELECT count(*) FROM label_edits e WHERE NOT EXISTS (SELECT 1 FROM label_edit_items i WHERE i.edit_id = e.id)',
      )
      .pluck()
      .get() as number;
    assert.equal(emptyEdits, 0, 'no undo entry without its items');
    return labels.size;
  } finally {
    project.close();
  }
}

/** The position after `ack`: a resumed writer knows its pass only modulo the class count, the test knows it whole. */
function afterAck(position: PassPosition, ack: Ack): PassPosition {
  let pass = position.pass;
  while (pass % CLASSES !== ack.pass % CLASSES) pass++;
  return advance({ pass, next: ack.first }, IMAGES);
}

describe('crash safety of label writes', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-crash-'));
  });
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it(`survives ${LANES * KILLS_PER_LANE} SIGKILLs at random moments with every acknowledged write`, async (t) => {
    assert.ok(
      existsSync(BUILT),
      `${BUILT} is missing: run \`npm run build\` first (the writer runs the built store)`,
    );
    const lane = async (n: number) => {
      const projectPath = join(tmp, `lane${n}.sorta`);
      const project = openProject(projectPath);
      const classIds = ['a', 'b', 'c'].map((name) => addClass(project, name).id);
      assert.equal(classIds.length, CLASSES);
      const insert = project.db.prepare("INSERT INTO images (path, status, added_at) VALUES (?, 'ok', 1)");
      project.db.transaction(() => {
        for (let i = 1; i <= IMAGES; i++) insert.run(`/photos/${i}.jpg`);
      })();
      project.close();
      let acknowledged: PassPosition = { pass: 0, next: 1 };
      let acked = 0;
      let killsWhileWriting = 0;
      for (let kill = 0; kill < KILLS_PER_LANE; kill++) {
        const { acks, killedBeforeReady } = await runAndKill(projectPath);
        if (!killedBeforeReady) killsWhileWriting++;
        for (const ack of acks) acknowledged = afterAck(acknowledged, ack);
        acked += acks.length;
        verify(projectPath, acknowledged, classIds);
      }
      return { acked, killsWhileWriting, passes: acknowledged.pass };
    };
    const results = await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));
    const total = results.reduce((sum, r) => sum + r.acked, 0);
    const whileWriting = results.reduce((sum, r) => sum + r.killsWhileWriting, 0);
    const passes = results.map((r) => r.passes).join(', ');
    t.diagnostic(
      `${LANES * KILLS_PER_LANE} kills (${whileWriting} while writing), ${total} acknowledged label writes kept; ` +
        `lanes ended in passes ${passes}`,
    );
    assert.ok(total > 0, 'some writes were acknowledged');
    assert.ok(whileWriting >= 10, 'enough kills landed while labels were being written');
  });
});
