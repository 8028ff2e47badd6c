/**
 * multipart/related, as DICOMweb uses it (RFC 2046 framing): building STOW-RS request bodies and
 * reading WADO-RS responses. Small on purpose: one body in memory, parts as views into it.
 */
import { randomBytes } from 'node:crypto';

export interface Part {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/**
 * The parameters of a Content-Type header (`multipart/related; type="application/dicom"; boundary=x`),
 * names in lower case, quoted values unquoted (a quoted boundary may hold `;`, spaces and `=`).
 */
export function contentTypeParams(contentType: string): { type: string; params: Record<string, string> } {
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  // name=token or name="quoted \"string\""
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g;
  const rest = semi < 0 ? '' : contentType.slice(semi);
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { type, params };
}

const CRLF = Buffer.from('\r\n');

/** A boundary that occurs in none of the parts (128 random bits make a clash unlikely; we check anyway). */
function boundaryFor(parts: readonly Uint8Array[]): string {
  for (;;) {
    const boundary = `medus-${randomBytes(16).toString('hex')}`;
    const needle = Buffer.from(`--${boundary}`);
    if (!parts.some((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).includes(needle))) return boundary;
  }
}

/** A multipart/related body of parts of one media type, and the Content-Type header that goes with it. */
export function buildMultipart(parts: readonly Uint8Array[], partType = 'application/dicom'): { contentType: string; body: Uint8Array<ArrayBuffer> } {
  const boundary = boundaryFor(parts);
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\nContent-Length: ${p.byteLength}\r\n\r\n`));
    chunks.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength), CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(chunks);
  // Buffer.concat allocates a plain ArrayBuffer; fetch's types want to know it is not a shared one
  return { contentType: `multipart/related; type="${partType}"; boundary=${boundary}`, body: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength) };
}

/** The end of the line that starts at `from` (index after its LF), or -1. */
function lineEnd(buf: Buffer, from: number): number {
  const lf = buf.indexOf(0x0a, from);
  return lf < 0 ? -1 : lf + 1;
}

/**
 * Where the next delimiter line starts at or after `from`: `--boundary` at the start of the body
 * or after a line break, followed by `--`, blanks or the line end (so a longer boundary that merely
 * begins with ours is not taken). Returns the index of the dashes and of the line break before it.
 */
function findDelimiter(buf: Buffer, delim: Buffer, from: number): { at: number; bodyEnd: number } | null {
  for (let i = buf.indexOf(delim, from); i >= 0; i = buf.indexOf(delim, i + 1)) {
    const atStart = i === 0;
    const afterLf = i > 0 && buf[i - 1] === 0x0a;
    if (!atStart && !afterLf) continue;
    const next = buf[i + delim.length];
    const ok = next === undefined || next === 0x2d /* - */ || next === 0x0d || next === 0x0a || next === 0x20 || next === 0x09;
    if (!ok) continue;
    const bodyEnd = atStart ? 0 : i >= 2 && buf[i - 2] === 0x0d ? i - 2 : i - 1;
    return { at: i, bodyEnd };
  }
  return null;
}

/** Splits a multipart body by the boundary of its Content-Type; CRLF framing, bare LF tolerated. */
export function parseMultipart(body: Uint8Array, contentType: string): Part[] {
  const { type, params } = contentTypeParams(contentType);
  if (!type.startsWith('multipart/')) throw new MultipartError(`expected a multipart response, got "${type || 'no Content-Type'}"`);
  const boundary = params.boundary;
  if (!boundary) throw new MultipartError(`the multipart Content-Type names no boundary ("${contentType}")`);
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let d = findDelimiter(buf, delim, 0);
  if (!d) throw new MultipartError('the multipart body holds no boundary line');
  for (;;) {
    const afterDelim = d.at + delim.length;
    if (buf[afterDelim] === 0x2d && buf[afterDelim + 1] === 0x2d) return parts; // the close delimiter
    const headerStart = lineEnd(buf, afterDelim);
    if (headerStart < 0) throw new MultipartError('the multipart body ends inside a boundary line');
    const headers: Record<string, string> = {};
    let pos = headerStart;
    for (;;) {
      const end = lineEnd(buf, pos);
      if (end < 0) throw new MultipartError('the multipart body ends inside the headers of a part');
      const line = buf.subarray(pos, end).toString('latin1').replace(/\r?\n$/, '');
      pos = end;
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = findDelimiter(buf, delim, pos);
    if (!next) throw new MultipartError('the multipart body ends without its closing boundary (truncated?)');
    parts.push({ headers, body: new Uint8Array(buf.buffer, buf.byteOffset + pos, Math.max(0, next.bodyEnd - pos)) });
    d = next;
  }
}
