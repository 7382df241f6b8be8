/**
 * Two custom protocols instead of file:// — the renderer at `sorta://app/…` (only files listed in dist/renderer,
 * see StaticRoot) and pictures at `sorta-img://media/<kind>/<id>/<variant>` (only images registered in the open
 * project, looked up by id in the core; a path never comes from the URL).
 */
import { net, protocol } from 'electron';
import { pathToFileURL } from 'node:url';
import { ELECTRON_MEDIA_SCHEME, parseMediaPath } from '../contract/index.js';
import { serializeError } from '../shared/errors.js';
import { StaticRoot } from '../server/static-files.js';
import type { CoreProcess } from './core-process.js';

export const APP_SCHEME = 'sorta';

/** The renderer's Content-Security-Policy: nothing remote, no inline scripts, no eval. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' ${ELECTRON_MEDIA_SCHEME}: data: blob:`,
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Must run before the app is ready. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
    {
      scheme: ELECTRON_MEDIA_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
    },
  ]);
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

async function fileResponse(path: string, contentType: string, extraHeaders: Record<string, string> = {}) {
  const response = await net.fetch(pathToFileURL(path).toString());
  if (!response.ok) return textResponse(404, 'Not found.');
  return new Response(response.body, {
    status: 200,
    headers: { 'content-type': contentType, 'x-content-type-options': 'nosniff', ...extraHeaders },
  });
}

export function handleProtocols(rendererDir: string, core: CoreProcess): void {
  const root = new StaticRoot(rendererDir);

  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return textResponse(404, 'Not found.');
    // The raw path as requested: StaticRoot decodes it once and serves only listed files.
    const rawPath = request.url.slice(`${APP_SCHEME}://app`.length).split(/[?#]/)[0] || '/';
    const file = root.resolve(rawPath);
    if (!file) return textResponse(404, 'Not found.');
    return fileResponse(file.path, file.contentType, { 'content-security-policy': CONTENT_SECURITY_POLICY });
  });

  protocol.handle(ELECTRON_MEDIA_SCHEME, async (request) => {
    const url = new URL(request.url);
    const media = parseMediaPath(`${url.host}${url.pathname}`);
    if (!media || url.search) return textResponse(404, 'Not found.');
    try {
      const file = await core.media(media.ref, media.variant);
      return fileResponse(file.path, file.contentType ?? 'application/octet-stream', {
        'cache-control': 'private, max-age=60',
      });
    } catch (error) {
      const { code, message } = serializeError(error);
      return textResponse(code === 'not-found' ? 404 : 500, message);
    }
  });
}
