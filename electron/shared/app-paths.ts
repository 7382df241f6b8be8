/**
 * Where Sorta keeps its own files, by each OS's convention: data (downloaded weights) in
 * ~/.local/share/sorta ($XDG_DATA_HOME), ~/Library/Application Support/Sorta or %APPDATA%\Sorta; caches in
 * ~/.cache/sorta ($XDG_CACHE_HOME), ~/Library/Caches/Sorta or %LOCALAPPDATA%\Sorta\Cache. SORTA_DATA_DIR moves
 * everything (caches then go in its `cache` folder unless SORTA_CACHE_DIR says otherwise) — tests and portable
 * installs use it. Plain Node: the same folders whether the CLI, web mode or Electron asks.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface AppPathsContext {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

function context(ctx: AppPathsContext): Required<AppPathsContext> {
  return {
    env: ctx.env ?? process.env,
    platform: ctx.platform ?? process.platform,
    home: ctx.home ?? homedir(),
  };
}

/** An environment variable holding a usable absolute path (XDG says relative ones must be ignored). */
function absoluteEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value && isAbsolute(value) ? value : undefined;
}

export function appDataDir(ctx: AppPathsContext = {}): string {
  const { env, platform, home } = context(ctx);
  const override = env.SORTA_DATA_DIR?.trim();
  if (override) return resolve(override);
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Sorta');
    case 'win32':
      return join(absoluteEnv(env, 'APPDATA') ?? join(home, 'AppData', 'Roaming'), 'Sorta');
    default:
      return join(absoluteEnv(env, 'XDG_DATA_HOME') ?? join(home, '.local', 'share'), 'sorta');
  }
}

export function appCacheDir(ctx: AppPathsContext = {}): string {
  const { env, platform, home } = context(ctx);
  const override = env.SORTA_CACHE_DIR?.trim();
  if (override) return resolve(override);
  if (env.SORTA_DATA_DIR?.trim()) return join(appDataDir(ctx), 'cache');
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Caches', 'Sorta');
    case 'win32':
      return join(absoluteEnv(env, 'LOCALAPPDATA') ?? join(home, 'AppData', 'Local'), 'Sorta', 'Cache');
    default:
      return join(absoluteEnv(env, 'XDG_CACHE_HOME') ?? join(home, '.cache'), 'sorta');
  }
}

/** Installed model weights (the weights manager's folder). */
export function weightsDir(ctx: AppPathsContext = {}): string {
  return join(appDataDir(ctx), 'weights');
}
