/** classes.*: thin calls into electron/store/classes.ts, answering with counts so the sidebar redraws at once. */
import type { ClassInfo } from '../contract/index.js';
import {
  addClass,
  classCounts,
  deleteClass,
  mergeClasses,
  recolorClass,
  renameClass,
  reorderClasses,
} from '../store/classes.js';
import type { Project } from '../store/project.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

export function classInfos(project: Project): ClassInfo[] {
  return classCounts(project).map((c) => ({
    id: c.id,
    name: c.name,
    color: c.color,
    position: c.position,
    count: c.labeled,
  }));
}

function classInfo(project: Project, id: number): ClassInfo {
  const found = classInfos(project).find((c) => c.id === id);
  if (!found) throw new Error(`class ${id} vanished`);
  return found;
}

export function setupClasses(registry: Registry, ctx: AppContext): void {
  const changed = () => ctx.emit({ type: 'data.changed', topics: ['classes', 'labels'] });

  registry.handle('classes.list', async () => classInfos(ctx.project()));
  registry.handle('classes.create', async ({ name, color }) => {
    const project = ctx.project();
    const row = addClass(project, name, color);
    changed();
    return classInfo(project, row.id);
  });
  registry.handle('classes.update', async ({ id, name, color }) => {
    const project = ctx.project();
    project.db.transaction(() => {
      if (name !== undefined) renameClass(project, id, name);
      if (color !== undefined) recolorClass(project, id, color);
    })();
    changed();
    return classInfo(project, id);
  });
  registry.handle('classes.reorder', async ({ ids }) => {
    const project = ctx.project();
    reorderClasses(project, ids);
    changed();
    return classInfos(project);
  });
  registry.handle('classes.merge', async ({ sourceId, targetId }) => {
    const project = ctx.project();
    const { moved } = mergeClasses(project, sourceId, targetId);
    changed();
    return { moved, classes: classInfos(project) };
  });
  registry.handle('classes.delete', async ({ id }) => {
    const { labelsRemoved } = deleteClass(ctx.project(), id);
    changed();
    return { labelsRemoved };
  });
}
