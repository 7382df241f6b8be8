import type { Command } from 'commander';
import { createApp } from '../../app/create-app.js';
import { startWebServer, type WebServer } from '../../server/server.js';
import { rendererDir } from '../../server/paths.js';
import { appDataDir } from '../../shared/app-paths.js';
import { defineAction, UsageError } from '../command.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port must be an integer from 0 to 65535, got '${value}'`);
  return n;
}

interface ServeOptions {
  project?: string;
  port: number;
  host: string;
}

export function registerServe(program: Command): void {
  defineAction<ServeOptions>(
    program
      .command('serve')
      .description('serve the Sorta UI to a browser on this machine (prints the address, with its token)')
      .option(
        '--project <file>',
        'open (or create) this .sorta project; without it, the page lets you choose',
      )
      .option('--port <n>', 'port to listen on; 0 picks a free one', parsePort, 0)
      .option('--host <address>', 'address to bind (the default keeps it on this machine)', '127.0.0.1'),
    async ({ opts, out }) => {
      let server: WebServer | null = null;
      const app = createApp({
        mode: 'web',
        dataDir: appDataDir(),
        emit: (event) => server?.broadcast(event),
      });
      try {
        if (opts.project) await app.handlers['project.open']({ path: opts.project, create: true });
        server = await startWebServer({
          handlers: app.handlers,
          resolveMedia: app.resolveMedia,
          staticDir: rendererDir(),
          host: opts.host,
          port: opts.port,
        });
      } catch (error) {
        await app.shutdown();
        throw error;
      }
      out.result({ url: server.url }, server.url);
      out.log('Open that address in your browser. Press Ctrl+C to stop.');
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      out.log(`Stopping (${signal})…`);
      await server.close();
      await app.shutdown();
    },
  );
}
