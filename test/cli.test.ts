import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { runSorta } from './helpers/cli.js';

describe('sorta CLI', () => {
  it('prints help listing the commands, exit 0', async () => {
    const result = await runSorta(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: sorta/);
    assert.match(result.stdout, /doctor/);
  });

  it('prints help for a command with its options', async () => {
    const result = await runSorta(['doctor', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--json/);
  });

  it('refuses an unknown command with one line and exit 2', async () => {
    const result = await runSorta(['frobnicate']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /unknown command 'frobnicate'/);
  });

  it('refuses an unknown option with one line and exit 2', async () => {
    const result = await runSorta(['doctor', '--no-such-flag']);
    assert.equal(result.code, 2);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /unknown option '--no-such-flag'/);
  });

  it('with --json, a usage error is still one JSON document on stdout', async () => {
    const result = await runSorta(['doctor', '--bogus', '--json']);
    assert.equal(result.code, 2);
    const doc = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'usage');
    assert.match(doc.error.message, /--bogus/);
  });

  it('doctor --json prints one valid JSON document describing the machine', async () => {
    const result = await runSorta(['doctor', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      node: string;
      onnxruntime: { available: boolean; executionProviders: { name: string }[] };
      tfjs: { backend: string; attempts: { backend: string; ok: boolean; reason?: string }[] };
      cpu: { cores: number };
      memory: { totalBytes: number };
      gpu: { seen: boolean };
    };
    assert.equal(report.node, process.versions.node);
    assert.equal(report.onnxruntime.available, true);
    assert.ok(report.onnxruntime.executionProviders.some((p) => p.name === 'cpu'));
    assert.ok(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'].includes(report.tfjs.backend));
    // Every backend tried before the chosen one failed, and says why.
    const chosen = report.tfjs.attempts.findIndex((a) => a.ok);
    assert.equal(report.tfjs.attempts[chosen].backend, report.tfjs.backend);
    for (const skipped of report.tfjs.attempts.slice(0, chosen))
      assert.ok(skipped.reason && skipped.reason.length > 0);
    assert.ok(report.cpu.cores >= 1);
    assert.ok(report.memory.totalBytes > 0);
    assert.equal(typeof report.gpu.seen, 'boolean');
  });

  it('SORTA_BACKEND forces a TF.js backend and a wrong value is reported', async () => {
    const forced = await runSorta(['doctor', '--json'], { env: { SORTA_BACKEND: 'cpu' } });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((JSON.parse(forced.stdout) as { tfjs: { backend: string } }).tfjs.backend, 'cpu');
    const wrong = await runSorta(['doctor', '--json'], { env: { SORTA_BACKEND: 'quantum' } });
    const report = JSON.parse(wrong.stdout) as { tfjs: { backend: string | null; error?: string } };
    assert.equal(report.tfjs.backend, null);
    assert.match(report.tfjs.error ?? '', /SORTA_BACKEND=quantum/);
  });

  it('npm start explains that the Electron binary is missing and points to npm run web', async () => {
    const result = spawnSync(process.execPath, ['bin/start-electron.js'], { encoding: 'utf8' });
    if (result.status === 0) return; // an Electron binary is installed on this machine
    assert.equal(result.status, 1);
    assert.match(result.stderr, /npm run web/);
  });
});
