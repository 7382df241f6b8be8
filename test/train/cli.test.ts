import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importFolder } from '../../electron/store/import.js';
import { openProject } from '../../electron/store/project.js';
import { runSorta } from '../helpers/cli.js';
import { tempDir, writeFashionFolders, writeSmallBackbone } from './helpers.js';

describe('sorta train and sorta models', () => {
  const { dir, cleanup } = tempDir('sorta-train-cli-');
  const projectPath = join(dir, 'p.sorta');
  const weights = join(dir, 'vgg11_bn-small.safetensors');

  before(async () => {
    await writeFashionFolders(join(dir, 'images'), ['trouser', 'bag', 'sneaker'], 15);
    writeSmallBackbone(weights);
    const project = openProject(projectPath);
    try {
      await importFolder(project, join(dir, 'images'), { thumbnails: false });
    } finally {
      project.close();
    }
  });
  after(cleanup);

  it('trains and prints exactly {model, classes, epochs, metrics} with progress on stderr', async () => {
    const args = ['train', '--project', projectPath, '--weights', weights, '--arch', 'vgg11_bn'];
    const result = await runSorta([...args, '--input-size', '64', '--epochs', '3', '--seed', '2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as {
      model: number;
      classes: string[];
      epochs: number;
      metrics: { val_accuracy: number };
    };
    assert.deepEqual(Object.keys(doc), ['model', 'classes', 'epochs', 'metrics']);
    assert.equal(doc.model, 1);
    assert.deepEqual(doc.classes, ['bag', 'sneaker', 'trouser']);
    assert.ok(doc.epochs >= 1 && doc.epochs <= 3);
    assert.ok(doc.metrics.val_accuracy >= 0 && doc.metrics.val_accuracy <= 1);
    assert.match(result.stderr, /extracting features 45\/45/);
    assert.match(result.stderr, /epoch 1\/3: train loss/);
  });

  it('lists, exports and imports models', async () => {
    const listed = await runSorta(['models', '--project', projectPath, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const { models } = JSON.parse(listed.stdout) as { models: { id: number; classes: string[] }[] };
    assert.deepEqual(
      models.map((m) => m.id),
      [1],
    );

    const out = join(dir, 'exported');
    const exported = await runSorta(['models', '--project', projectPath, '--export', '1', out, '--json']);
    assert.equal(exported.code, 0, exported.stderr);
    const { exported: files } = JSON.parse(exported.stdout) as { exported: { files: string[] } };
    assert.deepEqual(files.files, [join(out, 'model.onnx'), join(out, 'metadata.json')]);

    const again = await runSorta(['models', '--project', projectPath, '--export', '1', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);

    const imported = await runSorta(['models', '--project', projectPath, '--import', out, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const doc = JSON.parse(imported.stdout) as {
      imported: { id: number; source: string; classes: string[] };
    };
    assert.equal(doc.imported.id, 2);
    assert.equal(doc.imported.source, 'imported');
    assert.deepEqual(doc.imported.classes, ['bag', 'sneaker', 'trouser']);
  });

  it('refuses a bad head mode as a usage error and missing weights with a clear line', async () => {
    const bad = await runSorta(['train', '--project', projectPath, '--weights', weights, '--head', 'middle']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--head must be last, full or auto/);
    const missing = await runSorta([
      'train',
      '--project',
      projectPath,
      '--weights',
      join(dir, 'none.safetensors'),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /none\.safetensors/);
  });
});
