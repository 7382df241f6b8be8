/**
 * Serves the built renderer (dist/renderer) and nothing else. Instead of mapping request paths onto the disk
 * (where `%2e%2e`, `%2f`, backslashes, double encoding, NUL bytes, absolute paths and symlinks all need
 * defending), it lists the regular files under the root once and answers only exact matches from that list.
 * Symlinks are never followed; a file replaced by a symlink after the listing is refused when served.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { extname, join, sep } from 'node:path';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export interface StaticFile {
  path: string;
  contentType: string;
}

const RESCAN_INTERVAL_MS = 1000;
const MAX_FILES = 20_000;

export class StaticRoot {
  private files = new Map<string, string>();
  private scannedAt = 0;
  private readonly realRoot: string | null;

  constructor(readonly root: string) {
    try {
      this.realRoot = realpathSync(root);
    } catch {
      this.realRoot = null;
    }
    this.scan();
  }

  /** Whether there is a built UI to serve at all. */
  get available(): boolean {
    return this.files.has('/index.html');
  }

  /**
   * The file for a URL path (`/`, `/index.html`, `/assets/app-1234.js`), or null. The path is the raw one from
   * the request line, before the query; it is decoded exactly once and must then be a listed file.
   */
  resolve(rawPath: string): StaticFile | null {
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return null;
    }
    if (path === '/') path = '/index.html';
    let file = this.files.get(path);
    if (!file && Date.now() - this.scannedAt > RESCAN_INTERVAL_MS) {
      this.scan();
      file = this.files.get(path);
    }
    if (!file || !this.stillInside(file)) return null;
    return { path: file, contentType: contentTypeOf(file) };
  }

  private stillInside(file: string): boolean {
    try {
      if (!lstatSync(file).isFile() || !this.realRoot) return false;
      return realpathSync(file).startsWith(this.realRoot + sep);
    } catch {
      return false;
    }
  }

  private scan(): void {
    const files = new Map<string, string>();
    this.scannedAt = Date.now();
    if (this.realRoot) {
      const walk = (dir: string, prefix: string) => {
        let entries;
        try {
          entries = readdirSync(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const entry of entries) {
          if (files.size >= MAX_FILES) return;
          const full = join(dir, entry.name);
          // Dirent types come from lstat: symlinks are neither files nor directories here.
          if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
          else if (entry.isFile()) files.set(`${prefix}${entry.name}`, full);
        }
      };
      walk(this.realRoot, '/');
    }
    this.files = files;
  }
}
