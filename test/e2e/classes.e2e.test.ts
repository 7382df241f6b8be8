/**
 * Class management in a real browser: Debian's Chromium drives the Label screen of the built `sorta serve`. Three
 * imported Fashion-MNIST classes are renamed (a duplicate name is refused with a toast), recoloured, merged and
 * deleted from the sidebar with the keyboard and mouse; the project database (opened read-only) is checked after
 * each step. Screenshots go to test-results/e2e-classes/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/cli.js';
import { loadFashionMnist, writeFashionPngs } from '../helpers/fashion-mnist-png.js';
import { dbRows, dbValue, launchChromium, serve, until, type Served } from './harness.js';

const SHOTS = join(REPO_ROOT, 'test-results', 'e2e-classes');

let tmp: string;
let project: string;
let served: Served;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'sorta-e2e-classes-'));
  project = join(tmp, 'classes.sorta');
  await writeFashionPngs(loadFashionMnist('t10k'), join(tmp, 'photos'), {
    classes: ['bag', 'sneaker', 'trouser'],
    perClass: 4,
    folders: true,
  });
  served = await serve(project, { SORTA_DATA_DIR: join(tmp, 'app-data') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await served?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type ClassRow = { name: string; color: string; labels: number };
const classRows = () =>
  dbRows<ClassRow>(
    project,
    `SELECT c.name, c.color, (SELECT COUNT(*) FROM labels l WHERE l.class_id = c.id) AS labels
       FROM classes c ORDER BY c.position`,
  );
const labelCount = () => dbValue<number>(project, 'SELECT COUNT(*) FROM labels');
const sidebarNames = () => page.locator('.classes .assign .name').allTextContents();
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

/** The grid's cells end their accessible name with the class ("…, bag" or "…, unlabelled"). */
async function cellsEndingWith(suffix: string): Promise<number> {
  const names = await page
    .locator('[role=grid] [id^=cell-]')
    .evaluateAll((cells) => cells.map((cell) => cell.getAttribute('aria-label') ?? ''));
  return names.filter((name) => name.endsWith(`, ${suffix}`)).length;
}

async function openActions(name: string): Promise<void> {
  await page.click(`button[aria-label="Manage ${name}"]`);
  await page.locator(`[role=group][aria-label="Manage ${name}"]`).waitFor();
}

test('the Label sidebar renames, recolours, merges and deletes classes', async (t) => {
  await page.goto(served.url);
  await page.fill('input[name=import-path]', join(tmp, 'photos'));
  await page.click('button:has-text("Import")');
  await page.locator('.toast', { hasText: 'Imported 12 images' }).waitFor({ timeout: 60_000 });
  await page.click('button:has-text("Start labelling")');
  await page.locator('[role=grid]').waitFor();
  await until('12 labels', () => labelCount() === 12);
  await until('grid labelled', async () => (await cellsEndingWith('bag')) === 4);

  await t.test(
    'rename in place: a duplicate name is refused with a toast, Enter saves, Esc cancels',
    async () => {
      await openActions('bag');
      // The actions panel takes focus; Enter on its Rename button opens the name field.
      await page.keyboard.press('Enter');
      const field = page.locator('input[aria-label="New name for bag"]');
      await field.waitFor();
      await field.fill('sneaker');
      await field.press('Enter');
      const toast = page.locator('.toast.error', { hasText: 'already exists' });
      await toast.waitFor();
      assert.match((await toast.textContent()) ?? '', /conflict/);
      assert.deepEqual(
        classRows().map((c) => c.name),
        ['bag', 'sneaker', 'trouser'],
      );
      // The field stays open, focused, for another try.
      assert.equal(
        await field.evaluate(
          (el) =>
            (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement ===
            el,
        ),
        true,
      );
      await field.fill('handbag');
      await field.press('Enter');
      await toast.locator('button[aria-label=Dismiss]').click();
      await until('renamed in the database', () => classRows()[0]?.name === 'handbag');
      await until('renamed in the sidebar', async () => (await sidebarNames())[0] === 'handbag');
      await until('renamed in the grid', async () => (await cellsEndingWith('handbag')) === 4);
      // Esc leaves the name as it was.
      await openActions('trouser');
      await page.click('[role=group][aria-label="Manage trouser"] button:has-text("Rename")');
      await page.fill('input[aria-label="New name for trouser"]', 'pants');
      await page.keyboard.press('Escape');
      await page.locator('input[name=rename-class]').waitFor({ state: 'detached' });
      assert.equal(classRows()[2]?.name, 'trouser');
      assert.equal(labelCount(), 12);
    },
  );

  await t.test('recolour with the native colour input', async () => {
    await openActions('handbag');
    await page.locator('input[name=class-color]').fill('#12ab34');
    await until('colour in the database', () => classRows()[0]?.color === '#12ab34');
    const dot = page.locator('.classes li').first().locator('.dot');
    await until(
      'colour in the sidebar',
      async () =>
        (await dot.evaluate(
          (el) => (el as unknown as { style: { backgroundColor: string } }).style.backgroundColor,
        )) === 'rgb(18, 171, 52)',
    );
    await shot('actions-panel');
    await page.keyboard.press('Escape');
    await page.locator('[role=group][aria-label="Manage handbag"]').waitFor({ state: 'detached' });
  });

  await t.test('merge one class into another after a confirmation', async () => {
    await openActions('sneaker');
    await page.selectOption('select[name=merge-target]', { label: 'handbag' });
    await page.click('button:has-text("Merge…")');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /4 labels will move to “handbag”/);
    await shot('merge-confirm');
    await dialog.locator('button', { hasText: /^\s*Merge\s*$/ }).click();
    await until('merged in the database', () => classRows().length === 2);
    assert.deepEqual(classRows(), [
      { name: 'handbag', color: '#12ab34', labels: 8 },
      { name: 'trouser', color: classRows()[1]!.color, labels: 4 },
    ]);
    assert.equal(labelCount(), 12);
    await until('sidebar after merge', async () => (await sidebarNames()).join() === 'handbag,trouser');
    await page.locator('.classes li', { hasText: 'handbag' }).locator('.count', { hasText: '8' }).waitFor();
    await until('grid after merge', async () => (await cellsEndingWith('handbag')) === 8);
  });

  await t.test(
    'delete a class: the confirmation counts its labels, Esc keeps it, confirming removes it',
    async () => {
      await openActions('trouser');
      await page.click('button:has-text("Delete trouser…")');
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /4 labels will be removed/);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal(classRows().length, 2);
      assert.equal(labelCount(), 12);
      await page.click('button:has-text("Delete trouser…")');
      await dialog.waitFor();
      await shot('delete-confirm');
      await dialog.locator('button', { hasText: 'Delete trouser' }).click();
      await until('deleted in the database', () => classRows().length === 1);
      assert.deepEqual(classRows(), [{ name: 'handbag', color: '#12ab34', labels: 8 }]);
      assert.equal(labelCount(), 8);
      assert.equal(dbValue<number>(project, 'SELECT COUNT(*) FROM images'), 12, 'the images stay');
      await until('sidebar after delete', async () => (await sidebarNames()).join() === 'handbag');
      await until('grid after delete', async () => (await cellsEndingWith('unlabelled')) === 4);
      await page.locator('.toast', { hasText: 'Deleted trouser' }).waitFor();
      await shot('after-delete');
    },
  );

  assert.deepEqual(pageErrors, []);
});
