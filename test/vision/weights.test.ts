import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { vggSpec } from '../../electron/vision/arch.js';
import { readSafetensorsHeader, readSafetensorsTensors } from '../../electron/vision/safetensors.js';
import { loadVggWeights, validateVggHeader } from '../../electron/vision/weights.js';
import { randomTensors, rawSafetensors, tempDir, writeSafetensors } from './helpers.js';

const tmp = tempDir();
after(tmp.cleanup);
const small = vggSpec('vgg11_bn', { widthScale: 1 / 16, hidden: 32, numClasses: 5 });

async function refused(
  path: string,
  pattern: RegExp,
  load: () => Promise<unknown> = () => loadVggWeights(path, 'vgg11_bn'),
) {
  await assert.rejects(load, (error: Error & { code?: string }) => {
    assert.equal(error.code, 'invalid-weights', error.message);
    assert.match(error.message, pattern);
    assert.ok(error.message.includes(path), `message names the file: ${error.message}`);
    return true;
  });
}

describe('safetensors reader', () => {
  it('reads F32, F16 and BF16 tensors as Float32Array, exactly', async () => {
    const f32 = new Float32Array([1.5, -2.25, 3e-8]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555, 0x8000]);
    const bf16 = new Uint16Array([0x3f80, 0xc040, 0x0000]);
    const data = Buffer.concat([
      Buffer.from(f32.buffer),
      Buffer.from(f16.buffer),
      Buffer.from(bf16.buffer),
      Buffer.alloc(2),
    ]);
    const path = join(tmp.dir, 'dtypes.safetensors');
    writeFileSync(
      path,
      rawSafetensors(
        {
          __metadata__: { format: 'pt' },
          a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
          h: { dtype: 'F16', shape: [2, 3], data_offsets: [12, 24] },
          b: { dtype: 'BF16', shape: [3], data_offsets: [24, 30] },
          s: { dtype: 'I16', shape: [1], data_offsets: [30, 32] },
        },
        data,
      ),
    );
    const header = await readSafetensorsHeader(path);
    assert.deepEqual(header.metadata, { format: 'pt' });
    assert.deepEqual(header.tensors.get('h'), { dtype: 'F16', shape: [2, 3], begin: 12, end: 24 });
    const tensors = await readSafetensorsTensors(path, ['a', 'h', 'b']);
    assert.deepEqual([...tensors.get('a')!.data], [...f32]);
    assert.deepEqual(tensors.get('h')!.shape, [2, 3]);
    assert.deepEqual([...tensors.get('h')!.data], [1, -2, 2 ** -24, Infinity, 0.333251953125, -0]);
    assert.deepEqual([...tensors.get('b')!.data], [1, -3, 0]);
    await refused(path, /'s' has unsupported dtype I16/, () => readSafetensorsTensors(path));
  });

  it('refuses files that are not safetensors, truncated, or with a bad header', async () => {
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /not a safetensors file/],
      [
        'png',
        await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } })
          .png()
          .toBuffer(),
        /not a safetensors file/,
      ],
      ['text', Buffer.from('hello world, this is not a weights file'), /not a safetensors file/],
      ['json', rawSafetensors({ a: 1 }, Buffer.alloc(0)).subarray(0, 12), /truncated/],
      [
        'badjson',
        Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":')]),
        /not valid JSON/,
      ],
      [
        'outside',
        rawSafetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)),
        /truncated/,
      ],
      [
        'size',
        rawSafetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, Buffer.alloc(16)),
        /'a' has 16 bytes but shape \[3\] of F32 needs 12/,
      ],
      [
        'dtype',
        rawSafetensors({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)),
        /'a' has unsupported dtype "Q4"/,
      ],
      ['array', rawSafetensors([1, 2], Buffer.alloc(0)), /not a safetensors file|not a JSON object/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const path = join(tmp.dir, `${name}.safetensors`);
      writeFileSync(path, bytes);
      await refused(path, pattern, () => readSafetensorsHeader(path));
    }
  });

  it('says when the file does not exist', async () => {
    await assert.rejects(readSafetensorsHeader(join(tmp.dir, 'nope.safetensors')), /no such file/);
  });
});

describe('VGG weights', () => {
  it('loads torchvision names, infers the reduced width, ignores num_batches_tracked, hashes the file', async () => {
    const tensors = randomTensors(small);
    const entries = [
      ...tensors,
      ['features.1.num_batches_tracked', { shape: [], data: new Float32Array(1) }],
    ];
    const path = join(tmp.dir, 'tv.safetensors');
    writeSafetensors(path, entries as never);
    const loaded = await loadVggWeights(path, 'vgg11_bn');
    assert.deepEqual(loaded.spec, small);
    assert.equal(loaded.hasClassifier, true);
    assert.equal(loaded.tensors.size, tensors.size);
    for (const [name, tensor] of tensors) {
      assert.deepEqual(loaded.tensors.get(name)!.shape, tensor.shape, name);
      assert.deepEqual(loaded.tensors.get(name)!.data, tensor.data, name);
    }
    assert.equal(loaded.checksum, createHash('sha256').update(readFileSync(path)).digest('hex'));
    await refused(path, /'classifier.6.weight' has 5 classes, expected 7/, () =>
      loadVggWeights(path, 'vgg11_bn', { numClasses: 7 }),
    );
  });

  it("accepts timm's vgg16_bn.tv_in1k names (conv-form pre_logits, head.fc)", async () => {
    const tensors = randomTensors(small, { seed: 2 });
    const c = small.lastChannels;
    const renamed = [...tensors].map(([name, t]) => {
      if (name === 'classifier.0.weight')
        return ['pre_logits.fc1.weight', { shape: [32, c, 7, 7], data: t.data }];
      if (name === 'classifier.3.weight')
        return ['pre_logits.fc2.weight', { shape: [32, 32, 1, 1], data: t.data }];
      const map: Record<string, string> = {
        'classifier.0.bias': 'pre_logits.fc1.bias',
        'classifier.3.bias': 'pre_logits.fc2.bias',
        'classifier.6.weight': 'head.fc.weight',
        'classifier.6.bias': 'head.fc.bias',
      };
      return [map[name] ?? name, t];
    });
    const path = join(tmp.dir, 'timm.safetensors');
    writeSafetensors(path, renamed as never);
    const loaded = await loadVggWeights(path, 'vgg11_bn');
    assert.deepEqual(loaded.tensors.get('classifier.0.weight')!.shape, [32, c * 49]);
    assert.deepEqual(
      loaded.tensors.get('classifier.0.weight')!.data,
      tensors.get('classifier.0.weight')!.data,
    );
    assert.deepEqual(loaded.tensors.get('classifier.3.weight')!.shape, [32, 32]);
    assert.deepEqual(loaded.tensors.get('classifier.6.bias')!.data, tensors.get('classifier.6.bias')!.data);
  });

  it('a file with only features.* is valid and has no classifier', async () => {
    const path = join(tmp.dir, 'features.safetensors');
    writeSafetensors(path, randomTensors(small, { classifier: false }));
    const loaded = await loadVggWeights(path, 'vgg11_bn', { numClasses: 3 });
    assert.equal(loaded.hasClassifier, false);
    assert.equal(loaded.spec.numClasses, 3);
    assert.ok([...loaded.tensors.keys()].every((k) => k.startsWith('features.')));
  });

  it('refuses a missing key, an unexpected key, a wrong shape and the wrong architecture, naming the key', async () => {
    const base = randomTensors(small);
    const variants: [string, (m: typeof base) => void, RegExp][] = [
      ['missing', (m) => m.delete('features.5.running_var'), /missing key 'features.5.running_var'/],
      [
        'unexpected',
        (m) => m.set('features.99.weight', { shape: [1], data: new Float32Array(1) }),
        /unexpected key 'features.99.weight'/,
      ],
      [
        'shape',
        (m) => m.set('classifier.3.weight', { shape: [32, 31], data: new Float32Array(32 * 31) }),
        /'classifier.3.weight' has shape \[32, 31\], expected \[32, 32\]/,
      ],
      ['partial', (m) => m.delete('classifier.6.bias'), /missing key 'classifier.6.bias'/],
    ];
    for (const [name, change, pattern] of variants) {
      const copy = new Map(base);
      change(copy);
      const path = join(tmp.dir, `${name}.safetensors`);
      writeSafetensors(path, copy);
      await refused(path, pattern);
    }
    const path = join(tmp.dir, 'arch.safetensors');
    writeSafetensors(path, base);
    await refused(path, /does not fit vgg16_bn: .*shape.*The file fits vgg11_bn$/, () =>
      loadVggWeights(path, 'vgg16_bn'),
    );
    await refused(path, /does not fit vgg11: .*unexpected key 'features.1.weight'/, () =>
      loadVggWeights(path, 'vgg11'),
    );
  });

  it('validateVggHeader checks a header without reading data', async () => {
    const path = join(tmp.dir, 'header.safetensors');
    writeSafetensors(path, randomTensors(small));
    const layout = validateVggHeader(await readSafetensorsHeader(path), 'vgg11_bn');
    assert.equal(layout.hasClassifier, true);
    assert.equal(layout.spec.hidden, 32);
    assert.equal(layout.sources.get('classifier.6.weight')!.source, 'classifier.6.weight');
  });
});
