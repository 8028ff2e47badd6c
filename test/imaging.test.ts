import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { encode as encodeBmp } from 'bmp-ts';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { toGrey8 } from '../electron/imaging/greyscale';
import { fileIdentity, loadFrame } from '../electron/imaging/load';
import { openImage, sniffFormat } from '../electron/imaging/open';
import { quickHeader } from '../electron/imaging/raster';
import { ImageReadError } from '../electron/imaging/types';
import { tempDir } from './helpers/synth';

const W = 37;
const H = 23; // odd, non-square sizes catch row-stride mistakes
const dir = tempDir();
const grey = new Uint8Array(W * H).map((_, i) => (i * 7) % 256);
const rgb = new Uint8Array(W * H * 3).map((_, i) => (i * 13) % 256);
const grey16 = new Uint16Array(W * H).map((_, i) => (i * 97) % 65536);

beforeAll(async () => {
  const g = () => sharp(Buffer.from(grey), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w');
  const c = () => sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } });
  writeFileSync(join(dir, 'grey.png'), await g().png().toBuffer());
  writeFileSync(join(dir, 'rgb.png'), await c().png().toBuffer());
  writeFileSync(join(dir, 'grey16.png'), await sharp(grey16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toBuffer());
  writeFileSync(join(dir, 'grey16.tif'), await sharp(grey16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').tiff({ compression: 'lzw' }).toBuffer());
  writeFileSync(join(dir, 'rgb.tif'), await c().tiff({ compression: 'lzw' }).toBuffer());
  writeFileSync(join(dir, 'grey.jpg'), await g().jpeg({ quality: 95 }).toBuffer());
  writeFileSync(join(dir, 'rgb.jpg'), await c().jpeg({ quality: 95 }).toBuffer());
  writeFileSync(join(dir, 'grey.webp'), await g().webp({ lossless: true }).toBuffer());
  writeFileSync(join(dir, 'rgb.webp'), await c().webp({ lossless: true }).toBuffer());
  // bmp-ts encodes from ABGR bytes
  const abgr = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    abgr[4 * i] = 0;
    abgr[4 * i + 1] = rgb[3 * i + 2]!;
    abgr[4 * i + 2] = rgb[3 * i + 1]!;
    abgr[4 * i + 3] = rgb[3 * i]!;
  }
  writeFileSync(join(dir, 'rgb.bmp'), encodeBmp({ data: abgr, width: W, height: H }).data);
  const abgrGrey = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) abgrGrey.fill(grey[i]!, 4 * i + 1, 4 * i + 4);
  writeFileSync(join(dir, 'grey.bmp'), encodeBmp({ data: abgrGrey, width: W, height: H }).data);
  const png = readFileSync(join(dir, 'rgb.png'));
  writeFileSync(join(dir, 'truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  writeFileSync(join(dir, 'garbage.png'), Buffer.from('this is not an image at all'));
  writeFileSync(join(dir, 'empty.jpg'), Buffer.alloc(0));
  const bmp = readFileSync(join(dir, 'rgb.bmp'));
  writeFileSync(join(dir, 'truncated.bmp'), bmp.subarray(0, 80));
});

describe('raster formats', () => {
  it('reads 8-bit greyscale PNG, TIFF-free WebP and BMP exactly', async () => {
    for (const f of ['grey.png', 'grey.webp', 'grey.bmp']) {
      const src = await openImage(join(dir, f));
      const frame = await src.readFrame(0);
      expect([frame.width, frame.height, frame.channels, frame.bitsStored], f).toEqual([W, H, 1, 8]);
      expect(Buffer.from(frame.data as Uint8Array).equals(Buffer.from(grey)), f).toBe(true);
    }
  });
  it('reads colour PNG, WebP, TIFF and BMP exactly as RGB', async () => {
    for (const f of ['rgb.png', 'rgb.webp', 'rgb.tif', 'rgb.bmp']) {
      const frame = await (await openImage(join(dir, f))).readFrame(0);
      expect([frame.width, frame.height, frame.channels], f).toEqual([W, H, 3]);
      expect(Buffer.from(frame.data as Uint8Array).equals(Buffer.from(rgb)), f).toBe(true);
    }
  });
  it('reads 16-bit greyscale PNG and TIFF with all 16 bits', async () => {
    for (const f of ['grey16.png', 'grey16.tif']) {
      const frame = await (await openImage(join(dir, f))).readFrame(0);
      expect(frame.bitsStored, f).toBe(16);
      expect(frame.data).toBeInstanceOf(Uint16Array);
      expect(Array.from(frame.data.slice(0, 50)), f).toEqual(Array.from(grey16.slice(0, 50)));
    }
  });
  it('reads JPEG (lossy) with the right shape and close values', async () => {
    const g = await (await openImage(join(dir, 'grey.jpg'))).readFrame(0);
    expect([g.width, g.height, g.channels]).toEqual([W, H, 1]);
    const c = await (await openImage(join(dir, 'rgb.jpg'))).readFrame(0);
    expect(c.channels).toBe(3);
  });
  it('identifies formats by content, not extension', () => {
    expect(sniffFormat(readFileSync(join(dir, 'rgb.bmp')))).toBe('bmp');
    expect(sniffFormat(readFileSync(join(dir, 'grey16.tif')))).toBe('tiff');
    expect(sniffFormat(Buffer.from('hello'))).toBeNull();
  });
});

describe('greyscale for the model', () => {
  it('windows 16-bit data to the full 8-bit range', async () => {
    const frame = await (await openImage(join(dir, 'grey16.tif'))).readFrame(0);
    const g = toGrey8(frame);
    expect(Math.min(...g.data)).toBe(0);
    expect(Math.max(...g.data)).toBe(255);
  });
  it('uses the file window when present', () => {
    const g = toGrey8({ width: 3, height: 1, channels: 1, bitsStored: 12, data: Uint16Array.from([0, 1000, 2000]), window: { center: 1000, width: 1000 } });
    expect(Array.from(g.data)).toEqual([0, 128, 255]);
  });
  it('converts colour by luma', () => {
    const g = toGrey8({ width: 1, height: 1, channels: 3, bitsStored: 8, data: Uint8Array.from([255, 0, 0]) });
    expect(g.data[0]).toBe(76);
  });
});

describe('bad files', () => {
  for (const [file, pattern] of [
    ['truncated.png', /cannot decode image/],
    ['garbage.png', /unsupported file type/],
    ['empty.jpg', /file is empty/],
    ['missing.png', /file not found/],
    ['truncated.bmp', /BMP/],
  ] as const) {
    it(`${file} gives a per-file error naming the file`, async () => {
      const err = await openImage(join(dir, file)).then(
        async (src) => src.readFrame(0).then(() => null, (e: unknown) => e),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ImageReadError);
      expect((err as ImageReadError).message).toContain(file);
      expect((err as ImageReadError).message).toMatch(pattern);
    });
  }
  it('refuses a frame that does not exist', async () => {
    await expect(loadFrame(join(dir, 'grey.png'), 3)).rejects.toThrow(/frame 3 does not exist/);
  });
  it('never modifies the source file', async () => {
    const before = readFileSync(join(dir, 'rgb.png'));
    await loadFrame(join(dir, 'rgb.png'));
    expect(readFileSync(join(dir, 'rgb.png')).equals(before)).toBe(true);
  });
});

describe('cache key', () => {
  it("is the file's identity when it was opened, and a rewritten file gets a fresh one", async () => {
    const file = join(dir, 'keyed.png');
    writeFileSync(file, readFileSync(join(dir, 'grey.png')));
    const first = await loadFrame(file);
    expect(first.key).toBe(`${await fileIdentity(file)}#0`);
    // same path, other size and time: the engine must not reuse the old image's embedding
    writeFileSync(file, readFileSync(join(dir, 'rgb.png')));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const second = await loadFrame(file);
    expect(second.key).toBe(`${await fileIdentity(file)}#0`);
    expect(second.key).not.toBe(first.key);
    // a frame of a source opened once carries that source's identity
    expect((await loadFrame(file, 0, second.source)).key).toBe(second.key);
  });
});

/** A 1-bit greyscale PNG (sharp writes none), checkerboard rows. */
function oneBitPng(): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(H, 4);
  ihdr[8] = 1; // bit depth
  const stride = Math.ceil(W / 8) + 1;
  const rows = Buffer.alloc(stride * H).map((_, i) => (i % stride === 0 ? 0 : 0xaa));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describe('the header read without libvips', () => {
  it('agrees with libvips on every PNG and JPEG kind, and leaves the unusual ones to it', async () => {
    const raw = (channels: number, depth = 1) => (depth === 2 ? new Uint16Array(W * H * channels).map((_, i) => (i * 331) % 65536) : new Uint8Array(W * H * channels).map((_, i) => (i * 11) % 256));
    const made: Record<string, Buffer> = {
      'grey.png': readFileSync(join(dir, 'grey.png')),
      'rgb.png': readFileSync(join(dir, 'rgb.png')),
      'grey16.png': readFileSync(join(dir, 'grey16.png')),
      'grey.jpg': readFileSync(join(dir, 'grey.jpg')),
      'rgb.jpg': readFileSync(join(dir, 'rgb.jpg')),
      'rgba.png': await sharp(raw(4), { raw: { width: W, height: H, channels: 4 } }).png().toBuffer(),
      'grey-alpha.png': await sharp(raw(2), { raw: { width: W, height: H, channels: 2 } }).png().toBuffer(),
      'rgb16.png': await sharp(raw(3, 2), { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toBuffer(),
      'one-bit.png': oneBitPng(),
      'palette.png': await sharp(raw(3), { raw: { width: W, height: H, channels: 3 } }).png({ palette: true }).toBuffer(),
      'progressive.jpg': await sharp(raw(3), { raw: { width: W, height: H, channels: 3 } }).jpeg({ progressive: true }).toBuffer(),
      'cmyk.jpg': await sharp(raw(3), { raw: { width: W, height: H, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer(),
      'exif.jpg': await sharp(raw(1), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').withMetadata({ orientation: 6 }).jpeg().toBuffer(),
    };
    const seen: string[] = [];
    for (const [name, bytes] of Object.entries(made)) {
      const quick = quickHeader(bytes);
      if (!quick) {
        seen.push(`${name}: libvips`);
        continue;
      }
      const m = await sharp(bytes).metadata();
      expect(quick, name).toEqual({ width: m.width, height: m.height, channels: m.channels, depth: m.depth });
      seen.push(name);
    }
    expect(seen).toContain('palette.png: libvips');
    expect(seen.filter((s) => !s.includes('libvips'))).toHaveLength(12);
    // not a PNG or JPEG, or cut before its size: libvips is asked (and gives the reason)
    expect(quickHeader(readFileSync(join(dir, 'rgb.bmp')))).toBeNull();
    expect(quickHeader(made['rgb.jpg']!.subarray(0, 20))).toBeNull();
  });
});
