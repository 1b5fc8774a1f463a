/**
 * Map-local's file lookup (issue 6): which file under a configured root answers a request path,
 * refusing anything that would escape the root. Opening and streaming the file is the caller's.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import type { HeaderPairs } from '../core/flow.js';

export type LocalFileResult = LocalFile | { kind: 'not-found'; reason: string } | { kind: 'forbidden'; reason: string };

export interface LocalFile {
  kind: 'file';
  /** Real path of the file (symlinks resolved, checked to lie inside the root's real path): open this one. */
  path: string;
  /** Size in bytes when looked up. */
  size: number;
  mtime: Date;
  /** From the extension; text types carry `; charset=utf-8`. @default application/octet-stream */
  contentType: string;
}

const TEXT = '; charset=utf-8';
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': `text/html${TEXT}`,
  '.htm': `text/html${TEXT}`,
  '.css': `text/css${TEXT}`,
  '.js': `text/javascript${TEXT}`,
  '.mjs': `text/javascript${TEXT}`,
  '.json': `application/json${TEXT}`,
  '.map': `application/json${TEXT}`,
  '.txt': `text/plain${TEXT}`,
  '.xml': `application/xml${TEXT}`,
  '.svg': `image/svg+xml${TEXT}`,
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Content type for a file name, by extension (case-insensitive). */
export function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Look `urlPath` up under `root`. `root` is an absolute path to a file (served for every request,
 * the path is not looked at) or to a directory (the percent-decoded path is looked up inside it;
 * `/` or a directory means its `index.html`). A query string or fragment on `urlPath` is ignored.
 * Never throws: a bad path is `not-found` or `forbidden` with a reason for the flow.
 */
export async function resolveLocalFile(root: string, urlPath: string): Promise<LocalFileResult> {
  if (!isAbsolute(root)) return { kind: 'not-found', reason: `map-local root is not an absolute path: ${root}` };
  const realRoot = await real(root);
  if (typeof realRoot !== 'string') return realRoot;
  const rootStat = await statOf(realRoot);
  if (!('isFile' in rootStat)) return rootStat;
  if (rootStat.isFile()) return fileResult(realRoot, rootStat);
  if (!rootStat.isDirectory()) return { kind: 'forbidden', reason: 'map-local root is neither a file nor a directory' };

  const segments = pathSegments(urlPath);
  if (!Array.isArray(segments)) return segments;
  // join() normalizes, but no segment can be '..' or hold a separator any more; the containment
  // check is a second line of defence, not the first.
  const candidate = join(realRoot, ...segments);
  if (!inside(realRoot, candidate)) return { kind: 'forbidden', reason: 'path escapes the map-local root' };
  return lookUp(realRoot, candidate, true);
}

/** The header pairs for answering with `file`. */
export function localFileHeaders(file: LocalFile): HeaderPairs {
  return [
    ['Content-Type', file.contentType],
    ['Content-Length', String(file.size)],
    ['Last-Modified', file.mtime.toUTCString()],
  ];
}

/**
 * Split and percent-decode a URL path into safe segments. Each segment is decoded on its own, so
 * an encoded `%2f` cannot create a separator and `%2e%2e` is seen as the `..` it decodes to.
 */
function pathSegments(urlPath: string): string[] | LocalFileResult {
  const path = urlPath.replace(/[?#].*$/s, '');
  if (path.includes('\\')) return { kind: 'forbidden', reason: 'backslash in path' };
  const out: string[] = [];
  for (const raw of path.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      // URIError: a '%' not followed by two hex digits, or bytes that are not UTF-8.
      return { kind: 'not-found', reason: `bad percent-encoding in path segment "${raw}"` };
    }
    if (segment.includes('\0')) return { kind: 'forbidden', reason: 'NUL byte in path' };
    if (segment.includes('/') || segment.includes('\\')) return { kind: 'forbidden', reason: 'encoded path separator in path' };
    if (segment === '..') return { kind: 'forbidden', reason: "'..' segment in path" };
    // On Windows a ':' names a drive or an alternate data stream.
    if (process.platform === 'win32' && segment.includes(':')) return { kind: 'forbidden', reason: "':' in path" };
    if (segment === '' || segment === '.') continue;
    out.push(segment);
  }
  return out;
}

async function lookUp(realRoot: string, candidate: string, allowIndex: boolean): Promise<LocalFileResult> {
  const target = await real(candidate);
  if (typeof target !== 'string') return target;
  // The candidate had no '..' but one of its components may be a symlink pointing anywhere.
  if (!inside(realRoot, target)) return { kind: 'forbidden', reason: 'symlink resolves outside the map-local root' };
  const st = await statOf(target);
  if (!('isFile' in st)) return st;
  if (st.isFile()) return fileResult(target, st);
  if (st.isDirectory() && allowIndex) return lookUp(realRoot, join(target, 'index.html'), false);
  if (st.isDirectory()) return { kind: 'not-found', reason: 'index.html is a directory' };
  return { kind: 'forbidden', reason: 'not a regular file' };
}

function fileResult(path: string, st: { size: number; mtime: Date }): LocalFile {
  return { kind: 'file', path, size: st.size, mtime: st.mtime, contentType: contentTypeFor(path) };
}

/** `child` equals `root` or lies below it (both real, absolute paths). */
function inside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function real(path: string): Promise<string | LocalFileResult> {
  try {
    return await realpath(path);
  } catch (err) {
    return fsFailure(err);
  }
}

async function statOf(path: string): Promise<Stats | LocalFileResult> {
  try {
    return await stat(path);
  } catch (err) {
    return fsFailure(err);
  }
}

function fsFailure(err: unknown): LocalFileResult {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'forbidden', reason: `permission denied (${code})` };
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'not-found', reason: 'no such file' };
  return { kind: 'not-found', reason: code ?? (err instanceof Error ? err.message : String(err)) };
}
