/**
 * The pure parts of the Label screen: the virtual grid's geometry (what gets rendered for 100,000 images) and the
 * keyboard map.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { labelAction, type KeyLike } from '../../renderer/src/lib/label-keys.js';
import { gridLayout, pagesFor, scrollToReveal, visibleRows } from '../../renderer/src/lib/virtual.js';

test('the grid lays out fixed cells that fill the width', () => {
  // 1000 px, cells of at least 140 px with 8 px gaps: 6 columns (6·140 + 5·8 = 880 ≤ 1000 < 7·140 + 6·8 = 1028).
  const layout = gridLayout(100_000, 1000, 140, 8);
  assert.equal(layout.columns, 6);
  assert.equal(layout.cellSize, Math.floor((1000 - 5 * 8) / 6));
  assert.equal(layout.rowCount, Math.ceil(100_000 / 6));
  assert.equal(layout.totalHeight, layout.rowCount * layout.rowHeight);
  assert.equal(gridLayout(5, 50, 140, 8).columns, 1);
  assert.equal(gridLayout(0, 1000, 140, 8).rowCount, 0);
});

test('only the rows in view plus the overscan are rendered, wherever the scroll is', () => {
  const layout = gridLayout(100_000, 1000, 140, 8);
  const viewHeight = 700;
  const inView = Math.ceil(viewHeight / layout.rowHeight) + 1;
  for (const scrollTop of [0, 12_345, layout.totalHeight / 2, layout.totalHeight - viewHeight]) {
    const { first, last } = visibleRows(layout, scrollTop, viewHeight, 3);
    assert.ok(last - first <= inView + 6, `${last - first} rows at ${scrollTop}`);
    assert.ok(first * layout.rowHeight <= scrollTop);
    assert.ok(last * layout.rowHeight >= Math.min(layout.totalHeight, scrollTop + viewHeight));
  }
  const end = visibleRows(layout, layout.totalHeight - viewHeight, viewHeight, 3);
  assert.equal(end.last, layout.rowCount);
});

test('moving the cursor scrolls just enough to reveal it', () => {
  const layout = gridLayout(1000, 1000, 140, 8);
  const h = layout.rowHeight;
  assert.equal(scrollToReveal(layout, 0, 0, 500), undefined);
  assert.equal(scrollToReveal(layout, 6 * 10, 0, 500), 11 * h - 500);
  assert.equal(scrollToReveal(layout, 6, 5 * h, 500), h);
});

test('pages cover a range of items', () => {
  assert.deepEqual(pagesFor(0, 1, 200), [0]);
  assert.deepEqual(pagesFor(150, 450, 200), [0, 1, 2]);
  assert.deepEqual(pagesFor(400, 400, 200), []);
});

test('the keyboard map of the Label screen', () => {
  const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    ...mods,
  });
  assert.deepEqual(labelAction(key('1')), { kind: 'assign', hotkey: 1 });
  assert.deepEqual(labelAction(key('9')), { kind: 'assign', hotkey: 9 });
  assert.deepEqual(labelAction(key('0')), { kind: 'clear' });
  assert.deepEqual(labelAction(key('Backspace')), { kind: 'clear' });
  assert.deepEqual(labelAction(key('j')), { kind: 'move', delta: 'next' });
  assert.deepEqual(labelAction(key('K')), { kind: 'move', delta: 'previous' });
  assert.deepEqual(labelAction(key('ArrowDown')), { kind: 'move', delta: 'down' });
  assert.deepEqual(labelAction(key(' ')), { kind: 'preview' });
  assert.deepEqual(labelAction(key('z', { ctrlKey: true })), { kind: 'undo' });
  assert.deepEqual(labelAction(key('Z', { metaKey: true, shiftKey: true })), { kind: 'redo' });
  assert.deepEqual(labelAction(key('y', { ctrlKey: true })), { kind: 'redo' });
  assert.equal(labelAction(key('1', { ctrlKey: true })), null);
  assert.equal(labelAction(key('1', { altKey: true })), null);
  assert.equal(labelAction(key('x')), null);
});
