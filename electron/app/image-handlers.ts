/** images.* and labels.*: the grid's queries and label edits (store/images-query.ts, store/labels.ts). */
import { basename } from 'node:path';
import type { ImageFilter, ImageItem } from '../contract/index.js';
import {
  countImages,
  queryImages,
  type ImageFilter as StoreFilter,
  type ImageItem as StoreItem,
} from '../store/images-query.js';
import { exportFormatFor, exportImageFolder, exportLabels } from '../store/exports.js';
import { clearLabels, labelHistory, redoLabels, setLabels, undoLabels } from '../store/labels.js';
import { findImage } from '../store/ui-queries.js';
import { SortaError } from '../shared/errors.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

const PAGE = 1000;

export function toStoreFilter(filter: ImageFilter | undefined): StoreFilter {
  if (!filter) return {};
  return {
    classId: filter.classId,
    unlabelled: filter.unlabelled,
    errors: filter.errors,
    predictedClassId: filter.predictedClassId,
    confidenceMin: filter.minConfidence,
    confidenceMax: filter.maxConfidence,
    pathContains: filter.text,
  };
}

export function toImageItem(item: StoreItem): ImageItem {
  return {
    id: item.id,
    path: item.path,
    name: basename(item.path),
    width: item.width,
    height: item.height,
    status: item.status,
    error: item.error,
    classId: item.label?.classId ?? null,
    labelSource: item.label?.source ?? null,
    confidence: item.label?.confidence ?? null,
    predictedClassId: item.prediction?.classId ?? null,
    predictedConfidence: item.prediction?.confidence ?? null,
  };
}

export function setupImages(registry: Registry, ctx: AppContext): void {
  const labelsChanged = () => ctx.emit({ type: 'data.changed', topics: ['labels'] });
  const history = () => labelHistory(ctx.project());

  registry.handle('images.query', async ({ filter, offset, limit }) => {
    const project = ctx.project();
    const storeFilter = toStoreFilter(filter);
    return {
      total: countImages(project, storeFilter),
      offset,
      items: queryImages(project, { ...storeFilter, offset, limit }).map(toImageItem),
    };
  });
  registry.handle('images.ids', async ({ filter }) => {
    const project = ctx.project();
    const storeFilter = toStoreFilter(filter);
    const ids: number[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = queryImages(project, { ...storeFilter, offset, limit: PAGE });
      for (const item of page) ids.push(item.id);
      if (page.length < PAGE) return ids;
    }
  });
  registry.handle('images.get', async ({ id }) => {
    const image = findImage(ctx.project(), id);
    if (!image) throw new SortaError('not-found', `There is no image with id ${id} in the open project.`);
    return {
      ...toImageItem({
        ...image,
        rootId: null,
        label: image.label && { ...image.label, modelId: null },
        prediction: image.prediction && { ...image.prediction, modelId: null },
      }),
      size: image.size,
      mtimeMs: image.mtimeMs,
      hash: image.hash,
      addedAt: image.addedAt,
      rootPath: image.rootPath,
    };
  });
  registry.handle('labels.export', async ({ path, format }) => {
    const project = ctx.project();
    if (format === 'folder') {
      const result = await ctx.jobs.run('export', `Copying labelled images to ${path}`, undefined, (job) =>
        exportImageFolder(project, path, {
          signal: job.signal,
          onProgress: (p) => job.progress({ done: p.copied, total: p.total, unit: 'files' }),
        }),
      );
      return { path, count: result.copied };
    }
    if (exportFormatFor(path) !== format)
      throw new SortaError('invalid-input', `${path} does not end in .${format}; name the file *.${format}.`);
    const result = await exportLabels(project, path);
    return { path: result.file, count: result.labels };
  });
  registry.handle('labels.set', async ({ imageIds, classId }) => {
    const project = ctx.project();
    const result = classId === null ? clearLabels(project, imageIds) : setLabels(project, imageIds, classId);
    if (result.changed > 0) labelsChanged();
    return { changed: result.changed, ...history() };
  });
  registry.handle('labels.history', async () => history());
  registry.handle('labels.undo', async () => {
    const result = undoLabels(ctx.project());
    if (result.images > 0) labelsChanged();
    return { changed: result.images, ...history() };
  });
  registry.handle('labels.redo', async () => {
    const result = redoLabels(ctx.project());
    if (result.images > 0) labelsChanged();
    return { changed: result.images, ...history() };
  });
}
