/**
 * The pure parts of main's security checklist, free of Electron so they are tested under Node:
 * the app:// scheme's file lookup, the page's CSP, which frames may call main, which links may leave.
 */
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The page is served from app://medus/, never file://, so it has a real origin and no access to the disk. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'medus';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

const BASE_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  // Vue applies bound `:style` through CSSOM, which CSP does not police; the built CSS is a file
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'none'"],
};

function render(policy: Record<string, string[]>): string {
  return Object.entries(policy)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

/** The shipped page's CSP: no inline styles or scripts, no sockets, nothing from outside the app. */
export const APP_CSP = render(BASE_CSP);

/** The same policy for a <meta> tag, which may not carry frame-ancestors (Chromium warns and ignores it). */
export const APP_CSP_META = render(Object.fromEntries(Object.entries(BASE_CSP).filter(([k]) => k !== 'frame-ancestors')));

/**
 * Vite's dev server injects <style> tags and talks HMR over a WebSocket on its own origin, so dev
 * (and only dev) gets those two; `devUrl` is ELECTRON_RENDERER_URL.
 */
export function devCsp(devUrl: string): string {
  const u = new URL(devUrl);
  const ws = `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}`;
  return render({ ...BASE_CSP, 'style-src': ["'self'", "'unsafe-inline'"], 'connect-src': ["'self'", ws] });
}

/** A CSP for a page that also opens a WebSocket to `wsOrigin` (the browser-test transport). */
export function cspWithSocket(wsOrigin: string): string {
  return render({ ...BASE_CSP, 'connect-src': ["'self'", wsOrigin] });
}

/**
 * Only our own top-level page may call main: app://medus/… when packaged or built, or exactly the
 * dev server's origin in dev. Compares parsed origins, never string prefixes (`file://` or
 * `http://localhost:5173.evil` would pass a prefix check).
 */
export function isTrustedSender(frameUrl: string | null | undefined, devUrl?: string | null): boolean {
  if (!frameUrl) return false;
  let u: URL;
  try {
    u = new URL(frameUrl);
  } catch {
    return false;
  }
  // custom schemes have an opaque URL.origin ('null') under WHATWG rules, so compare the parts
  if (u.protocol === `${APP_SCHEME}:`) return u.host === APP_HOST && u.username === '' && u.password === '';
  if (!devUrl) return false;
  try {
    const dev = new URL(devUrl);
    return (dev.protocol === 'http:' || dev.protocol === 'https:') && u.origin === dev.origin;
  } catch {
    return false;
  }
}

/** Origins a link in the page may open in the system browser; add one here when the page gains such a link. */
export const EXTERNAL_ORIGINS: readonly string[] = ['https://www.apache.org', 'https://zenodo.org'];

/** `shell.openExternal` only for https links to an allowed origin: never file:, smb:, custom handlers or look-alike hosts. */
export function isAllowedExternal(url: string, allowed: readonly string[] = EXTERNAL_ORIGINS): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.username === '' && u.password === '' && allowed.includes(u.origin);
}

/**
 * The file under `root` that an app:// URL names, or null: another host, an encoded NUL, or a
 * path that leaves `root` (`..`, encoded `%2e%2e`, `%2f`, a drive or absolute path) is refused.
 */
export function resolveAppFile(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null; // malformed escapes
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  const base = resolve(root);
  const file = resolve(base, '.' + (path === '/' || path === '' ? '/index.html' : path));
  const rel = relative(base, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null;
  return join(base, rel);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
};

/** The answer to one app:// request (what `protocol.handle` returns): the built file with the app's CSP, or 404. */
export async function appResponse(root: string, url: string, csp: string = APP_CSP, read: (file: string) => Promise<Uint8Array<ArrayBuffer>> = readFile): Promise<Response> {
  const headers = { 'content-security-policy': csp, 'x-content-type-options': 'nosniff' };
  const file = resolveAppFile(root, url);
  if (!file) return new Response(null, { status: 404, headers });
  try {
    const body = await read(file);
    return new Response(body, { status: 200, headers: { ...headers, 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' } });
  } catch {
    return new Response(null, { status: 404, headers });
  }
}
