/**
 * Image input hardening: pixels checked against PIL's decoding, size limits enforced from the
 * header before decoding, and file size caps enforced before reading. Every input is generated here.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskPng, readMaskPng } from '../electron/export/mask';
import { loadFrame } from '../electron/imaging/load';
import { MAX_DICOM_FILE_BYTES, MAX_DIMENSION, MAX_IMAGE_FILE_BYTES, MAX_PIXELS } from '../electron/imaging/limits';
import { openImage } from '../electron/imaging/open';
import { ImageReadError } from '../electron/imaging/types';
import { ultrasoundImage, writeDicom } from './helpers/dicom';
import { bmpHeader, pngBomb, webpHeader } from './helpers/hostile';
import { tempDir } from './helpers/synth';

const PYTHON = '/usr/bin/python3';
const hasPil = spawnSync(PYTHON, ['-c', 'import PIL, numpy'], { encoding: 'utf8' }).status === 0;
if (!hasPil) console.warn(`imaging-hostile: skipping the PIL comparisons: ${PYTHON} with PIL (python3-pil) and numpy is not available`);

/**
 * Writes the test images (PIL's own writer where it has one, hand-built BMP variants where it
 * has not) and, for each, PIL's convert('L') as <name>.L. Odd sizes catch row-padding mistakes.
 */
const GENERATE = String.raw`
import json, os, struct, sys
import numpy as np
from PIL import Image
d = sys.argv[1]
W, H = 37, 23
rng = np.random.default_rng(7)
grey = ((np.arange(W * H).reshape(H, W) * 7) % 256).astype(np.uint8)
rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
idx16 = rng.integers(0, 16, (H, W), dtype=np.uint8)
idx256 = rng.integers(0, 256, (H, W), dtype=np.uint8)
pal16 = rng.integers(0, 256, (16, 3), dtype=np.uint8)
pal256 = rng.integers(0, 256, (256, 3), dtype=np.uint8)

def bmp(name, w, h, bpp, rows, palette=None, compression=0, info=40, masks=None, topdown=False, entry=4):
    """rows: the pixel data as stored (already in file order, padded); palette: list of (r, g, b)."""
    pix = b''.join(rows)
    pal = b''
    if palette is not None:
        pal = b''.join(bytes([b, g, r]) + (b'\0' if entry == 4 else b'') for r, g, b in palette)
    if info == 12:
        hdr = struct.pack('<IHHHH', 12, w, h, 1, bpp)
    else:
        hdr = struct.pack('<IiiHHIIiiII', info, w, -h if topdown else h, 1, bpp, compression, len(pix), 2835, 2835,
                          len(palette) if palette is not None else 0, 0)
        extra = b''
        if masks is not None:
            extra = struct.pack('<' + 'I' * len(masks), *masks)
        if info == 40:
            hdr += extra  # BITFIELDS masks follow a 40-byte header
        else:
            hdr += extra.ljust(info - 40, b'\0')
    off = 14 + len(hdr) + len(pal)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(b'BM' + struct.pack('<IHHI', off + len(pix), 0, 0, off) + hdr + pal + pix)

def pad(row):
    return row + b'\0' * (-len(row) % 4)

def pack4(vals):
    vals = list(vals) + ([0] if len(vals) % 2 else [])
    return bytes((vals[i] << 4) | vals[i + 1] for i in range(0, len(vals), 2))

bottom_up = lambda a: [a[y] for y in range(a.shape[0] - 1, -1, -1)]

# PIL's own writer: 8-bit greyscale (grey palette), 1-bit, colour palette, 24- and 32-bit.
Image.fromarray(grey, 'L').save(os.path.join(d, 'grey8.bmp'))
Image.fromarray(((grey > 100) * 255).astype(np.uint8), 'L').convert('1').save(os.path.join(d, 'one-bit.bmp'))
Image.fromarray(rgb, 'RGB').quantize(200).save(os.path.join(d, 'palette8.bmp'))
Image.fromarray(rgb, 'RGB').save(os.path.join(d, 'rgb24.bmp'))
Image.fromarray(np.dstack([rgb, grey]), 'RGBA').save(os.path.join(d, 'rgba32.bmp'))
# A grey palette in reverse order: the pixel is the palette's grey, not its index.
inv = Image.fromarray(grey, 'P'); inv.putpalette([255 - i for i in range(256) for _ in range(3)]); inv.save(os.path.join(d, 'grey8-reversed.bmp'))

# Hand-built variants PIL reads but does not write.
bmp('palette4.bmp', W, H, 4, [pad(pack4(r)) for r in bottom_up(idx16)], [tuple(c) for c in pal16])
bmp('grey8-v5.bmp', W, H, 8, [pad(bytes(r)) for r in bottom_up(grey)], [(i, i, i) for i in range(256)], info=124)
bmp('core8.bmp', W, H, 8, [pad(bytes(r)) for r in bottom_up(idx256)], [tuple(c) for c in pal256], info=12, entry=3)
bmp('topdown24.bmp', W, H, 24, [pad(np.ascontiguousarray(r[:, ::-1]).tobytes()) for r in rgb], topdown=True)
r5, g5, b5 = (rgb[..., 0] >> 3).astype(np.uint16), (rgb[..., 1] >> 3).astype(np.uint16), (rgb[..., 2] >> 3).astype(np.uint16)
bmp('rgb555.bmp', W, H, 16, [pad(r.astype('<u2').tobytes()) for r in bottom_up((r5 << 10) | (g5 << 5) | b5)])
g6 = (rgb[..., 1] >> 2).astype(np.uint16)
bmp('rgb565.bmp', W, H, 16, [pad(r.astype('<u2').tobytes()) for r in bottom_up((r5 << 11) | (g6 << 5) | b5)], compression=3, masks=(0xF800, 0x07E0, 0x001F))
px32 = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2].astype(np.uint32) | (np.uint32(255) << 24)
bmp('bitfields32-v4.bmp', W, H, 32, [r.astype('<u4').tobytes() for r in bottom_up(px32)], compression=3, info=108, masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000))

def rle8(a):
    out = b''
    for row in bottom_up(a):
        x = 0
        while x < len(row):
            n = min(5, len(row) - x)
            if (x // 5) % 2 == 0 and n >= 3:  # absolute run, padded to 16 bits
                out += bytes([0, n]) + bytes(row[x:x + n]) + (b'\0' if n % 2 else b'')
            else:
                out += b''.join(bytes([1, v]) for v in row[x:x + n])
            x += n
        out += b'\0\0'
    return [out + b'\0\1']

def rle4(a):
    out = b''
    for row in bottom_up(a):
        x = 0
        while x < len(row):
            n = min(6, len(row) - x)
            if (x // 6) % 2 == 0 and n >= 3:
                data = pack4(row[x:x + n])
                out += bytes([0, n]) + data + (b'\0' if len(data) % 2 else b'')
            else:
                for i in range(0, n, 2):
                    pair = list(row[x + i:x + i + 2])
                    out += bytes([len(pair), (pair[0] << 4) | (pair[1] if len(pair) > 1 else 0)])
            x += n
        out += b'\0\0'
    return [out + b'\0\1']

bmp('rle8.bmp', W, H, 8, rle8(idx256), [tuple(c) for c in pal256], compression=1)
bmp('rle4.bmp', W, H, 4, rle4(idx16), [tuple(c) for c in pal16], compression=2)

# Through sharp: palette and 1-bit PNG, grey+alpha PNG, 1-bit TIFF, palette TIFF.
Image.fromarray(rgb, 'RGB').quantize(50).save(os.path.join(d, 'palette.png'))
Image.fromarray(((grey > 100) * 255).astype(np.uint8), 'L').convert('1').save(os.path.join(d, 'one-bit.png'))
Image.fromarray(np.dstack([grey, 255 - grey]), 'LA').save(os.path.join(d, 'grey-alpha.png'))
Image.fromarray(((grey > 100) * 255).astype(np.uint8), 'L').convert('1').save(os.path.join(d, 'one-bit.tif'))
Image.fromarray(rgb, 'RGB').quantize(50).save(os.path.join(d, 'palette.tif'))

names = sorted(f for f in os.listdir(d) if f.endswith(('.bmp', '.png', '.tif')))
for f in names:
    im = Image.open(os.path.join(d, f))
    open(os.path.join(d, f + '.L'), 'wb').write(im.convert('L').tobytes())

# Not comparable with PIL (its convert('L') clips them, a float 0-1 image becomes black): must be refused.
Image.fromarray((grey / 255.0).astype(np.float32), 'F').save(os.path.join(d, 'float32.tif'))
Image.fromarray(grey.astype(np.int32) * 1000 - 50000, 'I').save(os.path.join(d, 'int32.tif'))
print(json.dumps({'w': W, 'h': H, 'files': names}))
`;

interface Generated {
  w: number;
  h: number;
  files: string[];
}

function generate(): { dir: string; made: Generated } {
  const dir = tempDir('medus-pil-');
  const run = spawnSync(PYTHON, ['-c', GENERATE, dir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`generating test images with PIL failed: ${run.stderr}`);
  return { dir, made: JSON.parse(run.stdout) as Generated };
}

async function refusal(path: string): Promise<ImageReadError> {
  const err = await loadFrame(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `${path} should be refused`).toBeInstanceOf(ImageReadError);
  expect((err as ImageReadError).message).toContain(path);
  return err as ImageReadError;
}

describe.skipIf(!hasPil)('decoded pixels agree with PIL', () => {
  const { dir, made } = hasPil ? generate() : { dir: '', made: { w: 0, h: 0, files: [] } };

  it('generated every variant', () => {
    expect(made.files).toEqual(
      expect.arrayContaining(['grey8.bmp', 'one-bit.bmp', 'palette8.bmp', 'palette4.bmp', 'rle8.bmp', 'rle4.bmp', 'rgb565.bmp', 'core8.bmp', 'palette.png', 'one-bit.tif']),
    );
  });

  for (const name of [
    'grey8.bmp',
    'grey8-reversed.bmp',
    'grey8-v5.bmp',
    'one-bit.bmp',
    'palette8.bmp',
    'palette4.bmp',
    'core8.bmp',
    'rle8.bmp',
    'rle4.bmp',
    'rgb24.bmp',
    'rgba32.bmp',
    'topdown24.bmp',
    'rgb555.bmp',
    'rgb565.bmp',
    'bitfields32-v4.bmp',
    'palette.png',
    'one-bit.png',
    'grey-alpha.png',
    'one-bit.tif',
    'palette.tif',
  ]) {
    it(`${name}: greyscale within ±1 of PIL's convert('L')`, async () => {
      const { image, source } = await loadFrame(join(dir, name));
      expect([image.width, image.height]).toEqual([made.w, made.h]);
      const want = readFileSync(join(dir, `${name}.L`));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(image.data[i]! - want[i]!));
      expect(worst, name).toBeLessThanOrEqual(1);
      // Greyscale files stay one channel: they are not shown or recorded as colour.
      if (/^(grey|one-bit)/.test(name)) expect(source.details['channels'], name).toBe('1');
    });
  }

  it('refuses a float32 TIFF (values 0–1) instead of segmenting a black image', async () => {
    const err = await refusal(join(dir, 'float32.tif'));
    expect(err.message).toMatch(/32-bit floating-point samples are not supported/);
  });
  it('refuses a 32-bit integer TIFF instead of clipping it', async () => {
    expect((await refusal(join(dir, 'int32.tif'))).message).toMatch(/32-bit integer samples are not supported/);
  });
});

describe('size limits from the header, before decoding', () => {
  const dir = tempDir('medus-limits-');
  const bomb = pngBomb(20000, 20000);

  it('the limits are the ones documented', () => {
    expect(MAX_PIXELS).toBeLessThanOrEqual(100_000_000);
    expect(MAX_DIMENSION * MAX_DIMENSION).toBeGreaterThanOrEqual(MAX_PIXELS);
  });

  it('a 70-byte BMP claiming 0 × 2^31 pixels is refused at once', async () => {
    const file = join(dir, 'zero-by-huge.bmp');
    writeFileSync(file, bmpHeader(0, 2 ** 31));
    const started = performance.now();
    const err = await refusal(file);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message).toMatch(/positive width and height/);
  });

  it('BMP headers beyond the side or pixel limit are refused before the pixel data is read', async () => {
    for (const [name, w, h, pattern] of [
      ['wide.bmp', 2 ** 31 - 1, 1, /most either side may have is 16384/],
      ['tall-topdown.bmp', 1, -(2 ** 31), /most either side may have/],
      ['many.bmp', 10000, 10000, /100\.0 million pixels; the most an image may have is 67\.1 million/],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, bmpHeader(w, h));
      expect((await refusal(file)).message, name).toMatch(pattern);
    }
  });

  it('a PNG bomb of 20000 × 20000 pixels is refused from its header', async () => {
    const file = join(dir, 'bomb.png');
    writeFileSync(file, bomb);
    expect(bomb.length).toBeLessThan(200_000);
    const rss = process.memoryUsage().rss;
    expect((await refusal(file)).message).toMatch(/20000 × 20000 pixels; the most either side may have is 16384/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
  });

  it('a tiny WebP declaring 16383 × 16383 pixels is refused from its header', async () => {
    const file = join(dir, 'bomb.webp');
    writeFileSync(file, webpHeader(16383, 16383));
    const rss = process.memoryUsage().rss;
    expect((await refusal(file)).message).toMatch(/16383 × 16383 = 268\.4 million pixels/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
  });

  it('an image just inside the limit decodes', async () => {
    const file = join(dir, 'wide-ok.bmp');
    const w = MAX_DIMENSION;
    const stride = Math.ceil((w * 24) / 32) * 4;
    const b = bmpHeader(w, 2, 24, 54 + stride * 2);
    b.fill(200, 54);
    writeFileSync(file, b);
    const { image } = await loadFrame(file);
    expect([image.width, image.height, image.data[0]]).toEqual([w, 2, 200]);
  });

  it('a DICOM file wider than the limit is refused at open, before any frame is decoded', async () => {
    const file = join(dir, 'wide.dcm');
    const w = MAX_DIMENSION + 1;
    writeFileSync(file, writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.99', w, 1, new Uint8Array(w + (w % 2)))));
    expect((await refusal(file)).message).toMatch(/16385 × 1 pixels; the most either side may have is 16384/);
  });

  it('the mask writer and reader use the same limit', async () => {
    await expect(maskPng(new Uint8Array(0), 10000, 10000)).rejects.toThrow(/cannot write the mask: .*67\.1 million/);
    const file = join(dir, 'mask-bomb.png');
    writeFileSync(file, bomb);
    await expect(readMaskPng(file, 20000, 20000)).rejects.toThrow(/cannot read the mask .*most either side may have is 16384/);
    // A mask of another size is refused from its header too.
    await expect(readMaskPng(file, 10, 10)).rejects.toThrow(/is 20000×20000 but the image is 10×10/);
  });
});

/** A sparse file of `size` bytes whose first bytes are `head`: no disk or memory spent. */
function sparse(file: string, size: number, head: Buffer): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, Buffer.from([0]), 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
}

describe('file size caps, before reading the file', () => {
  const dir = tempDir('medus-caps-');

  it('a 1.5 GB file of an unknown type is refused from its first bytes', async () => {
    const file = join(dir, 'huge.bin');
    sparse(file, 1.5e9, Buffer.from('not an image'));
    const rss = process.memoryUsage().rss;
    expect((await refusal(file)).message).toMatch(/unsupported file type/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
  });

  it('a PNG over the image file cap is refused without being read', async () => {
    const file = join(dir, 'huge.png');
    sparse(file, MAX_IMAGE_FILE_BYTES + 1, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const rss = process.memoryUsage().rss;
    expect((await refusal(file)).message).toMatch(/file is 1\.0 GiB, more than the 1\.0 GiB a PNG file may have/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
  });

  it('a DICOM file over the DICOM cap is refused; the DICM marker at 128 is still recognised first', async () => {
    const file = join(dir, 'huge.dcm');
    const head = Buffer.alloc(132);
    head.write('II*\0', 0, 'latin1'); // a TIFF-looking preamble, as some scanners write
    head.write('DICM', 128, 'latin1');
    sparse(file, MAX_DICOM_FILE_BYTES + 1, head);
    expect((await refusal(file)).message).toMatch(/file is 2\.0 GiB, more than the 2\.0 GiB a DICOM file may have/);
  });

  it('a file shorter than the sniffing window still opens', async () => {
    const file = join(dir, 'tiny.bmp');
    const b = bmpHeader(1, 1, 24, 58);
    b.writeUIntLE(0x102030, 54, 3);
    writeFileSync(file, b);
    const frame = await (await openImage(file)).readFrame(0);
    expect(Array.from(frame.data)).toEqual([0x10, 0x20, 0x30]);
  });
});
