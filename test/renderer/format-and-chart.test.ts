/** Small pure helpers of the screens: counts in words and the loss chart's y range. */
import assert from 'node:assert/strict';
import test from 'node:test';
import { chartBounds } from '../../renderer/src/lib/chart.js';
import { plural } from '../../renderer/src/lib/format.js';

test('counts in words: one image, many images', () => {
  assert.equal(plural(1, 'image'), '1 image');
  assert.equal(plural(0, 'image'), '0 images');
  assert.equal(plural(1234, 'image'), '1,234 images');
  assert.equal(plural(1, 'class', 'classes'), '1 class');
  assert.equal(plural(3, 'class', 'classes'), '3 classes');
});

test('a loss curve whose first epoch towers over the rest is clipped, a steady one is not', () => {
  const loss = [9.5, 0.9, 0.7, 0.6, 0.55, 0.5, 0.48, 0.47, 0.46, 0.45, 0.44];
  const bounds = chartBounds(loss);
  assert.equal(bounds.clipped, true);
  assert.equal(bounds.low, 0);
  // Every epoch but the first fits under the top, which is far below epoch 1.
  assert.ok(loss.slice(1).every((v) => v <= bounds.high));
  assert.ok(bounds.high < loss[0]! / 5, `top ${bounds.high}`);
  assert.deepEqual(chartBounds([0.9, 0.8, 0.7, 0.65, 0.6]), { low: 0, high: 0.9, clipped: false });
  assert.deepEqual(chartBounds([]), { low: 0, high: 1, clipped: false });
  assert.deepEqual(chartBounds([2, 2]), { low: 0, high: 2, clipped: false });
});
