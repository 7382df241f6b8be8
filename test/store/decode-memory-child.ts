/**
 * Child process of decode-memory.test.ts: decodes every image of a folder the way classify (`pipeline`) or import
 * (`import`) does, and prints its peak resident memory beyond what it had before the first big decode.
 * Usage: tsx decode-memory-child.ts pipeline|import DIR WORK
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importFolder } from '../../electron/store/import.js';
import { openProject } from '../../electron/store/project.js';
import type { InferenceEngine } from '../../electron/vision/ort-engine.js';
import { runPipeline } from '../../electron/vision/pipeline.js';
import { preprocessImage } from '../../electron/vision/preprocess.js';

const [mode, dir, work] = process.argv.slice(2);
const maxRss = () => process.resourceUsage().maxRSS * 1024;

/** Not the network: what is measured is the decoding in front of it. */
const engine: InferenceEngine = {
  inputSize: 32,
  outputs: [],
  run: async (_input, count) => ({ probs: new Float32Array(count) }),
  close: async () => {},
};

const files = readdirSync(dir)
  .filter((name) => name.endsWith('.png'))
  .map((name) => join(dir, name));
// Warm up: sharp, libvips' PNG loader and the pool's code are loaded before the baseline is taken.
await preprocessImage(join(dir, 'small', 'warm.png'), 32);
const baseline = maxRss();
if (mode === 'pipeline') {
  const result = await runPipeline(engine, files, { batchSize: files.length, onBatch: () => {} });
  if (result.errors.length) throw new Error(JSON.stringify(result.errors));
} else {
  const project = openProject(join(work, 'memory.sorta'));
  const result = await importFolder(project, dir);
  project.close();
  if (result.errors.length || result.imported !== files.length + 1) throw new Error(JSON.stringify(result));
}
process.stdout.write(`${JSON.stringify({ baseline, peak: maxRss() })}\n`);
