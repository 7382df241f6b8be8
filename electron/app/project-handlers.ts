/** project.*: open / create / close the one project this shell works on, and the recent list. */
import type { ProjectInfo } from '../contract/index.js';
import { recoverInterruptedJobs } from '../sort/recover.js';
import { classCounts } from '../store/classes.js';
import { imageStatusCounts } from '../store/images-query.js';
import type { Project } from '../store/project.js';
import { projectName, type AppContext } from './context.js';
import type { Registry } from './registry.js';
import { forgetProject, recentProjects, rememberProject } from './recent.js';

/** Counted by the store; models are counted once the models repository exists (0 until then). */
export function describeProject(project: Project, modelCount = 0): ProjectInfo {
  const status = imageStatusCounts(project);
  const classes = classCounts(project);
  return {
    path: project.path,
    name: projectName(project.path),
    cacheDir: project.cacheDir,
    imageCount: status.ok + status.error + status.missing,
    labelledCount: classes.reduce((sum, c) => sum + c.labeled, 0),
    errorCount: status.error + status.missing,
    classCount: classes.length,
    modelCount,
  };
}

export function setupProject(
  registry: Registry,
  ctx: AppContext,
  countModels: (project: Project) => number = () => 0,
): void {
  const info = (project: Project) => describeProject(project, countModels(project));

  registry.handle('project.current', async () => (ctx.openProject ? info(ctx.openProject) : null));
  registry.handle('project.open', async ({ path, create }) => {
    // Jobs of the previous project stop before its database closes.
    if (ctx.openProject) await ctx.jobs.cancelAndWait();
    const project = ctx.open(path, create ?? true);
    // A sort or undo that a crash interrupted is finished (or rolled back) before anything else touches the project.
    const recovered = await recoverInterruptedJobs(project);
    if (recovered.length > 0) ctx.emit({ type: 'data.changed', topics: ['jobs', 'images'] });
    rememberProject(ctx.dataDir, project.path);
    const described = info(project);
    ctx.emit({ type: 'project.changed', project: described });
    return described;
  });
  registry.handle('project.close', async () => {
    await ctx.jobs.cancelAndWait();
    ctx.close();
    ctx.emit({ type: 'project.changed', project: null });
    return null;
  });
  registry.handle('project.recent', async () => recentProjects(ctx.dataDir));
  registry.handle('project.forgetRecent', async ({ path }) => {
    forgetProject(ctx.dataDir, path);
    return recentProjects(ctx.dataDir);
  });
}
