/**
 * `sorta serve` as a user runs it (the built CLI): one line with the URL and its token on stdout, a free port with
 * --port 0, 127.0.0.1 by default, the project opened, a clean exit on SIGINT / SIGTERM, usage errors for bad flags.
 * Needs `npm run build` (npm test builds first).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSorta } from '../helpers/cli.js';

const SORTA_BIN = fileURLToPath(new URL('../../bin/sorta.js', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sorta-serve-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `sorta serve`, resolves with the first stdout line; the caller stops it. */
function serve(args: string[]) {
  const child = spawn(process.execPath, [SORTA_BIN, 'serve', ...args], {
    env: { ...process.env, SORTA_DATA_DIR: join(dir, 'data') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const firstLine = new Promise<string>((resolve, reject) => {
    const check = () => {
      const at = stdout.indexOf('\n');
      if (at !== -1) resolve(stdout.slice(0, at));
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, firstLine, exited, output: () => ({ stdout, stderr }) };
}

describe('sorta serve', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`prints one JSON line with the URL, serves the project, and stops cleanly on ${signal}`, async () => {
      const project = join(dir, `${signal}.sorta`);
      const run = serve(['--project', project, '--port', '0', '--json']);
      const line = await run.firstLine;
      const { url } = JSON.parse(line) as { url: string };
      const match = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43})$/.exec(url);
      assert.ok(match, url);
      assert.notEqual(Number(match[1]), 0);
      const base = `http://127.0.0.1:${match[1]}`;
      const call = (token?: string) =>
        fetch(`${base}/api/project.current`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { 'x-sorta-token': token } : {}) },
          body: '{}',
        });
      assert.equal((await call()).status, 401);
      const reply = (await (await call(match[2])).json()) as { ok: boolean; value: { path: string } };
      assert.equal(reply.value.path, project);
      assert.ok(existsSync(project));
      run.child.kill(signal);
      assert.equal(await run.exited, 0);
      assert.equal(run.output().stdout, line + '\n', 'exactly one line on stdout');
      await assert.rejects(fetch(`${base}/`), 'the port is closed after shutdown');
    });
  }

  it('without --json prints just the URL; without --project no project is open', async () => {
    const run = serve(['--port', '0']);
    const line = await run.firstLine;
    assert.match(line, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const url = new URL(line);
    const reply = await fetch(`${url.origin}/api/project.current`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sorta-token': url.searchParams.get('token')! },
      body: '{}',
    });
    assert.deepEqual(await reply.json(), { ok: true, value: null });
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });

  it('refuses bad flags with a usage error (exit 2)', async () => {
    for (const args of [
      ['--port', '70000'],
      ['--port', 'abc'],
      ['--port', '-1'],
    ]) {
      const result = await runSorta(['serve', ...args, '--json']);
      assert.equal(result.code, 2, args.join(' '));
      assert.equal(JSON.parse(result.stdout).error.code, 'usage');
    }
  });

  it('fails with one clear line when the port is taken', async () => {
    const first = serve(['--port', '0', '--json']);
    const { url } = JSON.parse(await first.firstLine) as { url: string };
    const port = new URL(url).port;
    const second = await runSorta(['serve', '--port', port], { env: { SORTA_DATA_DIR: join(dir, 'data') } });
    first.child.kill('SIGTERM');
    await first.exited;
    assert.equal(second.code, 1);
    assert.equal(
      second.stderr,
      `sorta: Port ${port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one).\n`,
    );
  });
});
