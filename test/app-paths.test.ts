import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { appCacheDir, appDataDir, weightsDir } from '../electron/shared/app-paths.js';

const home = '/home/ada';

describe('app paths', () => {
  it('follow each OS convention', () => {
    assert.equal(appDataDir({ env: {}, platform: 'linux', home }), join(home, '.local', 'share', 'sorta'));
    assert.equal(appCacheDir({ env: {}, platform: 'linux', home }), join(home, '.cache', 'sorta'));
    assert.equal(
      appDataDir({ env: {}, platform: 'darwin', home }),
      join(home, 'Library', 'Application Support', 'Sorta'),
    );
    assert.equal(
      appCacheDir({ env: {}, platform: 'darwin', home }),
      join(home, 'Library', 'Caches', 'Sorta'),
    );
    const winEnv = { APPDATA: '/c/Users/ada/AppData/Roaming', LOCALAPPDATA: '/c/Users/ada/AppData/Local' };
    assert.equal(appDataDir({ env: winEnv, platform: 'win32', home }), join(winEnv.APPDATA, 'Sorta'));
    assert.equal(
      appCacheDir({ env: winEnv, platform: 'win32', home }),
      join(winEnv.LOCALAPPDATA, 'Sorta', 'Cache'),
    );
  });

  it('honour XDG_DATA_HOME / XDG_CACHE_HOME on Linux, ignoring relative values as the spec says', () => {
    const env = { XDG_DATA_HOME: '/data', XDG_CACHE_HOME: '/cache' };
    assert.equal(appDataDir({ env, platform: 'linux', home }), join('/data', 'sorta'));
    assert.equal(appCacheDir({ env, platform: 'linux', home }), join('/cache', 'sorta'));
    assert.equal(
      appDataDir({ env: { XDG_DATA_HOME: 'relative' }, platform: 'linux', home }),
      join(home, '.local', 'share', 'sorta'),
    );
  });

  it('SORTA_DATA_DIR moves data, caches and weights; SORTA_CACHE_DIR moves caches alone', () => {
    const env = { SORTA_DATA_DIR: '/portable/sorta', XDG_DATA_HOME: '/data' };
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      assert.equal(appDataDir({ env, platform, home }), resolve('/portable/sorta'));
      assert.equal(appCacheDir({ env, platform, home }), join(resolve('/portable/sorta'), 'cache'));
      assert.equal(weightsDir({ env, platform, home }), join(resolve('/portable/sorta'), 'weights'));
    }
    assert.equal(
      appCacheDir({ env: { ...env, SORTA_CACHE_DIR: '/fast/cache' }, platform: 'linux', home }),
      resolve('/fast/cache'),
    );
  });
});
