#!/usr/bin/env node
// `npm start`: launches the Electron app, or explains politely why it cannot and what to use instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let electronBinary = null;
try {
  const pkgDir = dirname(require.resolve('electron/package.json'));
  if (existsSync(join(pkgDir, 'path.txt'))) electronBinary = require('electron');
} catch {
  electronBinary = null;
}

if (!electronBinary || !existsSync(electronBinary)) {
  process.stderr.write(
    [
      'Sorta cannot start the desktop app: the Electron binary is not installed. It is downloaded by',
      "electron's install step, which was skipped (ELECTRON_SKIP_BINARY_DOWNLOAD=1) or could not reach its",
      'download server. Reinstall with network access (`rm -rf node_modules/electron && npm install`) to get it,',
      'or run the same app in your browser with `npm run web` (it prints the address to open).',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const child = spawn(electronBinary, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
