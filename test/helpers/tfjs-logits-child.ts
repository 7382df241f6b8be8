/**
 * Child process for tests that need TF.js on a backend other than the test process's (a process holds one backend):
 * `SORTA_BACKEND=cpu node --import tsx test/helpers/tfjs-logits-child.ts <weights> <arch> <size> <image>…` prints
 * {"backend", "logits": [[…], …]} for the images, through the real preprocessing and the TF.js engine.
 */
import { loadTf } from '../../electron/compute/tf-backend.js';
import type { ArchName } from '../../electron/vision/arch.js';
import { preprocessImage } from '../../electron/vision/preprocess.js';
import { TfjsVggEngine } from '../../electron/vision/tfjs-engine.js';
import { loadVggWeights } from '../../electron/vision/weights.js';

const [weightsPath, arch, sizeArg, ...images] = process.argv.slice(2);
const inputSize = Number(sizeArg);
const runtime = await loadTf();
const engine = await TfjsVggEngine.create(await loadVggWeights(weightsPath, arch as ArchName), {
  inputSize,
  outputs: ['logits'],
  runtime,
});
const logits: number[][] = [];
for (const image of images) {
  const out = await engine.run(await preprocessImage(image, inputSize), 1);
  logits.push(Array.from(out.logits));
}
await engine.close();
process.stdout.write(JSON.stringify({ backend: runtime.backend, logits }));
