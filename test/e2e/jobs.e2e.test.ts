/**
 * Long jobs survive the page, in Chromium against the built `sorta serve`: a fine-tune long by its epochs is
 * reloaded in the middle (progress, curves, remembered options and Cancel come back) and cancelled from the
 * reloaded page; a job that ended while no page was open is reported on the next load, once; a move is sorted,
 * the server stops (the page says "Disconnected" instead of failing calls), a new server starts on the same
 * project and the move is undone from the history. Every step waits for what the page or the database shows,
 * never for a time.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { after, before, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/cli.js';
import { loadFashionMnist, writeFashionPngs, type WrittenImage } from '../helpers/fashion-mnist-png.js';
import {
  callServer,
  dbValue,
  filesUnder,
  launchChromium,
  screenshot,
  serve,
  until,
  type Served,
} from './harness.js';

const CLASSES = ['bag', 'sneaker', 'trouser'] as const;
const WEIGHTS = join(REPO_ROOT, 'test/fixtures/vision/vgg11_bn_w16.safetensors');

let tmp: string;
let project: string;
let inbox: string;
let inboxFiles: WrittenImage[];
let env: NodeJS.ProcessEnv;
let served: Served;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sorta-e2e-jobs-'));
  project = join(tmp, 'jobs.sorta');
  inbox = join(tmp, 'inbox');
  const set = loadFashionMnist('t10k');
  // 300 labelled images: 10 steps per epoch, so 1000 epochs take minutes (the test cancels after the reload).
  await writeFashionPngs(set, join(tmp, 'photos'), { classes: [...CLASSES], perClass: 100, folders: true });
  await writeFashionPngs(set, join(tmp, 'more'), { classes: [...CLASSES], perClass: 2, start: 4000 });
  inboxFiles = await writeFashionPngs(set, inbox, { classes: [...CLASSES], perClass: 2, start: 5000 });
  env = { SORTA_DATA_DIR: join(tmp, 'app-data') };
  served = await serve(project, env);
  await callServer(served, 'import.folder', { path: join(tmp, 'photos') });
  await callServer(served, 'weights.import', { path: WEIGHTS, arch: 'vgg11_bn' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await served?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const count = (sql: string) => dbValue<number>(project, sql);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function step(t: TestContext, name: string, body: () => Promise<void>): Promise<void> {
  await t.test(name, async () => {
    try {
      await body();
    } catch (error) {
      await screenshot(page, `jobs-failed-${name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => {});
      throw error;
    }
  });
}

test('long jobs survive the page; sort history with undo survives a restart', async (t) => {
  await step(t, 'start a long fine-tune from the page', async () => {
    await page.goto(served.url);
    await page.locator('[role=grid]').waitFor();
    await page.click('nav >> text=Train');
    await page.locator('summary:has-text("Advanced options")').click();
    await page.selectOption('.grid select >> nth=0', 'vgg11_bn');
    await page.fill('label:has-text("Input size") input', '32');
    // No validation split: no early stopping, so 1000 epochs outlast the reload below.
    await page.fill('label:has-text("Epochs") input', '1000');
    await page.fill('label:has-text("Validation split") input', '0');
    await page.locator('text=vgg11_bn installed').waitFor();
    await page.click('button:has-text("Fine-tune")');
    await page.locator('[role=progressbar][aria-label^="Epoch"]').waitFor({ timeout: 120_000 });
  });

  await step(
    t,
    'after a reload the page reattaches: progress, curves, options, no second Fine-tune',
    async () => {
      await page.reload();
      await page.locator('[role=grid]').waitFor();
      await page.click('nav >> text=Train');
      await page.locator('[role=progressbar][aria-label^="Epoch"]').waitFor();
      await page.locator('button.danger:has-text("Cancel")').waitFor();
      assert.equal(
        await page.locator('button:has-text("Fine-tune")').count(),
        0,
        'no second Fine-tune button',
      );
      // The curves so far (the page saw none of those epochs happen) and the remembered options.
      await page.locator('.charts').waitFor();
      await page.locator('summary:has-text("Advanced options")').click();
      assert.equal(await page.inputValue('label:has-text("Input size") input'), '32');
      assert.equal(await page.inputValue('label:has-text("Epochs") input'), '1000');
      await page.locator('.status', { hasText: 'Fine-tuning' }).waitFor();
      await screenshot(page, 'jobs-01-reattached');
      // The core refuses a second fine-tune of the project while this one runs.
      await assert.rejects(
        callServer(served, 'train.start', { params: { arch: 'vgg11_bn', inputSize: 32, epochs: 2 } }),
        (error: { code?: string; message: string }) =>
          error.code === 'conflict' && /already running/.test(error.message),
      );
    },
  );

  await step(t, 'cancel from the reloaded page', async () => {
    await page.click('button.danger:has-text("Cancel")');
    await page.locator('.toast', { hasText: 'Fine-tuning cancelled' }).waitFor({ timeout: 60_000 });
    await page.locator('button:has-text("Fine-tune")').waitFor();
    assert.deepEqual(await callServer(served, 'jobs.running'), []);
    assert.equal(count('SELECT COUNT(*) FROM models'), 0, 'a cancelled fine-tune keeps no model');
  });

  await step(t, 'a job that ended while no page was open is reported on the next load, once', async () => {
    await page.goto('about:blank');
    await callServer(served, 'import.folder', { path: join(tmp, 'more'), jobId: 'import-away' });
    await page.goto(served.url);
    await page.locator('.toast', { hasText: 'Imported 6 images' }).waitFor();
    await until('the notice acknowledged', async () => {
      const unseen = await callServer<{ jobId: string }[]>(served, 'jobs.recent', { unacknowledged: true });
      return unseen.length === 0;
    });
  });

  const before = new Map<string, string>();
  await step(t, 'train briefly, classify and move', async () => {
    await callServer(served, 'train.start', {
      params: { arch: 'vgg11_bn', inputSize: 32, epochs: 2, valSplit: 0.2 },
      jobId: 'train-short',
    });
    await page.click('nav >> text=Classify & sort');
    await page.fill('input[name=classify-dir]', inbox);
    await page.click('form[aria-label="Classify a folder"] button[type=submit]');
    await page.locator('.toast', { hasText: 'Classified 6 files' }).waitFor({ timeout: 60_000 });
    await page.fill('input[name=threshold]', '0');
    await page.check('input[name=mode][value=move]');
    await until('a plan of 6 files', async () =>
      /^6 files/.test(
        (await page
          .locator('section[aria-label=Sort] .summary')
          .textContent()
          .catch(() => '')) ?? '',
      ),
    );
    for (const file of inboxFiles) before.set(file.path, sha256(file.path));
    await page.click('button:has-text("Move files")');
    await page.locator('.toast', { hasText: 'Moved 6 files' }).waitFor({ timeout: 60_000 });
    assert.deepEqual(filesUnder(inbox), []);
    await page
      .locator('section[aria-label="Sort history"] li[data-kind=sort] button:has-text("Undo")')
      .waitFor();
  });

  await step(t, 'the server stops: the page says Disconnected instead of failing', async () => {
    await served.stop();
    await page.locator('[role=alert]', { hasText: 'Disconnected' }).waitFor();
    // Calls made now fail at the network: wait for one, then for the page to have handled it.
    const failed = page.waitForEvent('requestfailed', (request) => request.url().includes('/api/'));
    await page.click('nav >> text=Label');
    await page.click('nav >> text=Classify & sort');
    await failed;
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    const toasts = await page.locator('.toast').allTextContents();
    assert.ok(!toasts.some((text) => /Failed to fetch|TypeError/.test(text)), toasts.join(' | '));
    assert.equal(await page.locator('.toast.error').count(), 0, toasts.join(' | '));
    await screenshot(page, 'jobs-02-disconnected');
  });

  await step(t, 'after a restart the history still offers Undo, and undo puts every file back', async () => {
    served = await serve(project, env);
    await page.goto(served.url);
    await page.click('nav >> text=Classify & sort');
    const row = page.locator('section[aria-label="Sort history"] li[data-kind=sort]');
    await row.locator('text=move').waitFor();
    assert.match((await row.textContent()) ?? '', /6 files/);
    await row.locator('button:has-text("Undo")').click();
    await page.locator('.toast', { hasText: 'Undone: 6 files' }).waitFor({ timeout: 60_000 });
    for (const [path, hash] of before) assert.equal(sha256(path), hash, path);
    await row.locator('.state', { hasText: 'undone' }).waitFor();
    assert.equal(await row.locator('button:has-text("Undo")').count(), 0);
    await screenshot(page, 'jobs-03-undone-after-restart');
  });

  await step(t, '"Create project" on an existing file asks before opening it', async () => {
    await page.click('button:has-text("Close project")');
    await page.fill('input[name=project-path]', project);
    await page.click('button:has-text("Create project")');
    await page.locator('[role=alert]', { hasText: 'already exists' }).waitFor();
    assert.equal(await page.locator('header .project').count(), 0, 'nothing opened yet');
    await page.click('button:has-text("Open it")');
    await page.locator('header .project', { hasText: 'jobs' }).waitFor();
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
