/**
 * The whole loop in a real browser: Debian's Chromium drives the UI served by the built `sorta serve`. Real
 * Fashion-MNIST PNGs are imported, labelled with the keyboard and by multi-select, a small generated VGG is
 * fine-tuned, a folder is classified and sorted with move, and the sort is undone. After each step the files on
 * disk and the project database (opened read-only) are checked; screenshots go to test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import test, { after, before, type TestContext } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/cli.js';
import { loadFashionMnist, writeFashionPngs, type WrittenImage } from '../helpers/fashion-mnist-png.js';
import {
  dbRows,
  dbValue,
  filesUnder,
  launchChromium,
  SCREENSHOT_DIR,
  screenshot,
  serve,
  until,
  type Served,
} from './harness.js';

const CLASSES = ['bag', 'sneaker', 'trouser'] as const;
const WEIGHTS = join(REPO_ROOT, 'test/fixtures/vision/vgg11_bn_w16.safetensors');
const DOWNLOADED_WEIGHTS = join(REPO_ROOT, 'test/fixtures/vision/vgg11_w16.safetensors');

let tmp: string;
let project: string;
let photos: string;
let inbox: string;
let inboxFiles: WrittenImage[];
let served: Served;
let weightsServer: { url: string; close(): Promise<void> };
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  tmp = mkdtempSync(join(tmpdir(), 'sorta-e2e-'));
  project = join(tmp, 'e2e.sorta');
  photos = join(tmp, 'photos');
  inbox = join(tmp, 'inbox');
  const set = loadFashionMnist('t10k');
  // 4 labelled by folder per class, 6 loose (unlabelled) per class, then 3 per class to classify later.
  await writeFashionPngs(set, photos, { classes: [...CLASSES], perClass: 4, folders: true });
  await writeFashionPngs(set, photos, { classes: [...CLASSES], perClass: 6, start: 2000, prefix: 'loose-' });
  inboxFiles = await writeFashionPngs(set, inbox, {
    classes: [...CLASSES],
    perClass: 3,
    start: 5000,
    prefix: 'new-',
  });
  served = await serve(project, { SORTA_DATA_DIR: join(tmp, 'app-data') });
  weightsServer = await slowFileServer(DOWNLOADED_WEIGHTS);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await served?.stop();
  await weightsServer?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const count = (sql: string, ...params: unknown[]) => dbValue<number>(project, sql, ...params);
const labelCount = () => count('SELECT COUNT(*) FROM labels');

/** Sidebar order gives the hotkeys: the first class is 1. */
async function hotkey(name: string): Promise<string> {
  const names = await page.locator('.classes .assign .name').allTextContents();
  const index = names.indexOf(name);
  assert.notEqual(index, -1, `class ${name} in the sidebar (${names.join(', ')})`);
  return String(index + 1);
}

/** True once an <img> has decoded a real picture (a broken image has naturalWidth 0). */
function loaded(img: Locator): Promise<boolean> {
  return img.evaluate((element) => {
    const image = element as unknown as { complete: boolean; naturalWidth: number };
    return image.complete && image.naturalWidth > 0;
  });
}

async function cellName(index: number): Promise<string> {
  return (await page.locator(`#cell-${index}`).getAttribute('aria-label')) ?? '';
}

/** Runs one step; on failure saves a screenshot of the page as it was (test-results/e2e/failed-*.png). */
async function step(t: TestContext, name: string, body: () => Promise<void>, skip?: string): Promise<void> {
  await t.test(name, { skip }, async () => {
    try {
      await body();
    } catch (error) {
      await screenshot(page, `failed-${name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => {});
      throw error;
    }
  });
}

test('Sorta in Chromium: import, label, fine-tune, classify, sort, undo', async (t) => {
  await step(t, 'the served page opens the project and shows the compute backend', async () => {
    await page.goto(served.url);
    await page.locator('header .project', { hasText: 'e2e' }).waitFor();
    await page.locator('.status', { hasText: /CPU|GPU/ }).waitFor();
    assert.equal(count('SELECT COUNT(*) FROM images'), 0);
    await screenshot(page, '01-start');
  });

  await step(t, 'an import error is shown with its code and reason', async () => {
    await page.fill('input[name=import-path]', join(tmp, 'no-such-folder'));
    await page.click('button:has-text("Import")');
    const toast = page.locator('.toast.error').first();
    await toast.waitFor();
    const text = await toast.textContent();
    assert.match(text ?? '', /no-such-folder/);
    assert.match(text ?? '', /not-found|io|invalid-input/);
    await toast.locator('button[aria-label=Dismiss]').click();
  });

  await step(t, 'importing a folder of Fashion-MNIST PNGs labels the subfolders', async () => {
    await page.fill('input[name=import-path]', photos);
    await page.click('button:has-text("Import")');
    await page.locator('.toast', { hasText: 'Imported 30 images' }).waitFor({ timeout: 60_000 });
    assert.equal(count("SELECT COUNT(*) FROM images WHERE status = 'ok'"), 30);
    assert.equal(labelCount(), 12);
    assert.deepEqual(
      dbRows<{ name: string }>(project, 'SELECT name FROM classes ORDER BY name').map((r) => r.name),
      [...CLASSES],
    );
    await page.click('button:has-text("Start labelling")');
    await page.locator('[role=grid]').waitFor();
    // Thumbnails are real pictures from the server, not broken images.
    await until('thumbnails', () => loaded(page.locator('#cell-0 img')));
    await screenshot(page, '02-label-grid');
  });

  await step(t, 'keyboard labelling: hotkeys assign and advance, J/K move, 0 clears', async () => {
    await page.selectOption('select[name=filter]', 'unlabelled');
    await page.locator('.total', { hasText: '18 images' }).waitFor();
    await page.click('#cell-0');
    const bag = await hotkey('bag');
    for (let i = 0; i < 6; i++) {
      assert.match(await cellName(i), /loose-bag/);
      await page.keyboard.press(bag);
      await until(`label ${i + 1}`, () => labelCount() === 13 + i);
    }
    // The cursor advanced past the six bags; K goes back one, 0 clears that label, J/K move without labelling.
    await page.keyboard.press('k');
    await page.keyboard.press('0');
    await until('label cleared', () => labelCount() === 17);
    await page.keyboard.press('k');
    await page.keyboard.press(bag);
    await until('label again', () => labelCount() === 18);
    assert.equal(
      count(
        "SELECT COUNT(*) FROM labels l JOIN images i ON i.id = l.image_id JOIN classes c ON c.id = l.class_id WHERE i.path LIKE '%loose-bag%' AND c.name = 'bag' AND l.source = 'human'",
      ),
      6,
    );
  });

  await step(t, 'multi-select: shift-click range and ctrl-click, bulk assign, undo and redo', async () => {
    await page.click('#cell-6');
    await page.click('#cell-11', { modifiers: ['Shift'] });
    await page.locator('.selection', { hasText: '6 selected' }).waitFor();
    await screenshot(page, '03-multi-select');
    await page.keyboard.press(await hotkey('sneaker'));
    await until('bulk sneaker', () => labelCount() === 24);
    await page.click('#cell-12');
    for (let i = 13; i < 18; i++) await page.click(`#cell-${i}`, { modifiers: ['Control'] });
    await page.locator('.selection', { hasText: '6 selected' }).waitFor();
    await page.click('.classes .assign:has-text("trouser")');
    await until('bulk trouser', () => labelCount() === 30);
    assert.equal(
      count(
        "SELECT COUNT(*) FROM labels l JOIN images i ON i.id = l.image_id WHERE i.path LIKE '%loose-trouser%'",
      ),
      6,
    );
    await page.keyboard.press('Control+z');
    await until('undo', () => labelCount() === 24);
    await page.keyboard.press('Control+Shift+z');
    await until('redo', () => labelCount() === 30);
    // Everything is labelled now: show all images, open the large preview with Space, step with the arrow key.
    await page.selectOption('select[name=filter]', 'all');
    await page.locator('.total', { hasText: '30 images' }).waitFor();
    await page.click('#cell-0');
    await page.keyboard.press(' ');
    await until('the preview picture', () => loaded(page.locator('dialog[open] img')));
    await page.keyboard.press('ArrowRight');
    await page.locator('dialog[open] figcaption', { hasText: (await cellName(1)).split(',')[0] }).waitFor();
    await screenshot(page, '04-preview');
    await page.keyboard.press('Escape');
  });

  await step(t, 'fine-tune with a small generated VGG', async () => {
    await page.click('nav >> text=Train');
    await page.locator('summary:has-text("Advanced options")').click();
    await page.fill('label:has-text("Input size") input', '32');
    await page.fill('label:has-text("Epochs") input', '12');
    // Download (from a loopback server, in slow chunks so the progress bar shows) installs weights for vgg11…
    await page.selectOption('.grid select >> nth=0', 'vgg11');
    await page.click('summary:has-text("Download from another address")');
    await page.fill('input[name=weights-url]', `${weightsServer.url}/vgg11_w16.safetensors`);
    await page.click('section[aria-label="Pretrained weights"] details button:has-text("Download")');
    await page.locator('[role=progressbar][aria-label="Downloading weights"]').waitFor();
    await screenshot(page, '05-downloading-weights');
    await page.locator('text=vgg11 installed').waitFor({ timeout: 30_000 });
    const installed = filesUnder(join(tmp, 'app-data')).map((file) => sha256(join(tmp, 'app-data', file)));
    assert.ok(installed.includes(sha256(DOWNLOADED_WEIGHTS)), 'the downloaded file is installed as is');
    // …and importing a local file installs vgg11_bn, the one this run fine-tunes.
    await page.selectOption('.grid select >> nth=0', 'vgg11_bn');
    await page.fill('input[name=weights-path]', WEIGHTS);
    await page.click('section[aria-label="Pretrained weights"] button:has-text("Import")');
    await page.locator('text=vgg11_bn installed').waitFor({ timeout: 30_000 });
    await page.click('button:has-text("Fine-tune")');
    const finished = page.locator('.toast', { hasText: 'Fine-tuning finished' });
    // Live progress (epoch, ETA, curves) while it trains: photographed when the run is slow enough to catch it.
    await Promise.race([
      page
        .locator('[role=progressbar][aria-label^="Epoch"]')
        .waitFor({ timeout: 90_000 })
        .then(() => screenshot(page, '05-training'))
        .catch(() => {}),
      finished.waitFor({ timeout: 90_000 }),
    ]);
    await finished.waitFor({ timeout: 90_000 });
    assert.equal(count('SELECT COUNT(*) FROM models'), 1);
    const classes = JSON.parse(dbValue<string>(project, 'SELECT classes FROM models')) as string[];
    assert.deepEqual([...classes].sort(), [...CLASSES]);
    await page.locator('table[aria-label^="Confusion matrix"]').waitFor();
    await screenshot(page, '05-trained');
    await page.locator('section[aria-label="Model details"]').scrollIntoViewIfNeeded();
    await screenshot(page, '05-model-details');
    // A confusion-matrix cell opens its validation images in the grid.
    const cell = page.locator('.cell:not([disabled])').first();
    await cell.click();
    await page.locator('.chip', { hasText: 'predicted as' }).waitFor();
    await page.locator('#cell-0').waitFor();
  });

  await step(t, 'classify a directory', async () => {
    await page.click('nav >> text=Classify & sort');
    await page.fill('input[name=classify-dir]', inbox);
    await page.click('form[aria-label="Classify a folder"] button[type=submit]');
    await page.locator('.toast', { hasText: 'Classified 9 files' }).waitFor({ timeout: 60_000 });
    assert.equal(count("SELECT COUNT(*) FROM jobs WHERE kind = 'classify' AND state = 'done'"), 1);
    assert.equal(count('SELECT COUNT(*) FROM job_predictions WHERE error IS NULL'), 9);
    await page.locator('section[aria-label=Predictions] li').nth(8).waitFor();
    await page.locator('table[aria-label="Sort plan"]').waitFor();
    await screenshot(page, '06-classified');
    // "Review least confident" lists the doubtful predictions first.
    await page.click('button:has-text("Review least confident")');
    await until('least confident first', async () => {
      const shown = (await page.locator('section[aria-label=Predictions] .conf').allTextContents()).map(
        parseFloat,
      );
      return shown.length === 9 && shown.every((value, i) => i === 0 || shown[i - 1] <= value);
    });
    // The predictions manifest as CSV: a header and one row per file.
    const csv = join(tmp, 'predictions.csv');
    await page.fill('input[name=csv-path]', csv);
    await page.click('button:has-text("Export CSV")');
    await until('the CSV file', () => existsSync(csv));
    const rows = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    assert.equal(rows.length, 10);
    for (const file of inboxFiles)
      assert.ok(
        rows.some((row) => row.includes(basename(file.path))),
        file.path,
      );
    // The untrained-looking small backbone is unsure of everything; threshold 0 sends every file to its class.
    await page.fill('input[name=threshold]', '0');
    await until('a plan without _unsure', async () => {
      const folders = await page.locator('table[aria-label="Sort plan"] td.mono').allTextContents();
      return folders.length > 0 && !folders.includes('_unsure/');
    });
  });

  const before = new Map<string, string>();
  await step(t, 'sort with move', async () => {
    for (const file of inboxFiles) before.set(file.path, sha256(file.path));
    const out = `${inbox}-sorted`;
    assert.equal(await page.inputValue('input[name=out-dir]'), out);
    await page.check('input[name=mode][value=move]');
    await page.click('button:has-text("Move files")');
    await page.locator('.toast', { hasText: 'Moved 9 files' }).waitFor({ timeout: 60_000 });
    assert.deepEqual(filesUnder(inbox), []);
    const sorted = filesUnder(out);
    assert.equal(sorted.length, 9);
    for (const file of sorted) assert.match(file, /^(bag|sneaker|trouser)\/new-/);
    const contents = new Set(sorted.map((file) => sha256(join(out, file))));
    assert.deepEqual(contents, new Set(before.values()));
    assert.equal(count("SELECT COUNT(*) FROM jobs WHERE kind = 'sort' AND state = 'done'"), 1);
    assert.equal(count("SELECT COUNT(*) FROM file_ops WHERE op = 'move' AND state = 'done'"), 9);
    await screenshot(page, '07-sorted');
  });

  await step(t, 'undo puts every file back with the same bytes', async () => {
    await page.click('button:has-text("Undo sort")');
    await page.locator('.toast', { hasText: 'Undone: 9 files' }).waitFor({ timeout: 60_000 });
    for (const [path, hash] of before) assert.equal(sha256(path), hash, path);
    // The folders the sort created are removed again when empty; nothing is left behind either way.
    const out = `${inbox}-sorted`;
    assert.ok(!existsSync(out) || filesUnder(out).length === 0, `${out} holds no files`);
    assert.equal(count("SELECT COUNT(*) FROM file_ops WHERE state = 'undone'"), 9);
  });

  await step(t, 'close the project, reopen it from the recent list', async () => {
    await page.click('button:has-text("Close project")');
    const recent = page.locator('section:has(h2:has-text("Recent projects")) button.open', {
      hasText: 'e2e',
    });
    await recent.waitFor();
    await screenshot(page, '08-start-recent');
    await recent.click();
    await page.locator('[role=grid]').waitFor();
    await page.locator('.status', { hasText: '30 labelled' }).waitFor();
  });

  await step(t, 'dark theme', async () => {
    await page.click('button[aria-label^="Switch to"]');
    await until('dark theme', async () => (await page.locator('html').getAttribute('data-theme')) !== null);
    await page.click('nav >> text=Label');
    await screenshot(page, '09-dark');
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

/** Serves one file on 127.0.0.1 in 16 KiB chunks 15 ms apart (about half a second for the test weights). */
async function slowFileServer(path: string): Promise<{ url: string; close(): Promise<void> }> {
  const body = readFileSync(path);
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    let offset = 0;
    const timer = setInterval(() => {
      response.write(body.subarray(offset, offset + 16_384));
      offset += 16_384;
      if (offset >= body.length) {
        clearInterval(timer);
        response.end();
      }
    }, 15);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function sha256(path: string): string {
  assert.ok(existsSync(path), `${path} exists`);
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
