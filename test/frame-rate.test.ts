import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineHost } from '../electron/engine/host';
import { DEFAULT_FPS, frameRateOf } from '../electron/imaging/frame-rate';
import { openImage } from '../electron/imaging/open';
import { ultrasoundImage, writeDicom } from './helpers/dicom';

describe('frameRateOf: a cine loop rate from the DICOM header, with its source', () => {
  it('prefers Frame Time (ms per frame) over Cine Rate and the recommended rate', () => {
    expect(frameRateOf({ frameTime: '40', cineRate: '30', recommendedDisplayFrameRate: '15' })).toEqual({ fps: 25, source: 'frame-time' });
    expect(frameRateOf({ frameTime: '33.333' }).fps).toBeCloseTo(30, 2);
  });
  it('falls back to Cine Rate, then Recommended Display Frame Rate, then the default, naming each', () => {
    expect(frameRateOf({ frameTime: '', cineRate: '30' })).toEqual({ fps: 30, source: 'cine-rate' });
    expect(frameRateOf({ frameTime: '0', cineRate: 'abc', recommendedDisplayFrameRate: '12' })).toEqual({ fps: 12, source: 'recommended-display-frame-rate' });
    expect(frameRateOf({})).toEqual({ fps: DEFAULT_FPS, source: 'default' });
    expect(DEFAULT_FPS).toBe(25);
  });
  it('skips malformed or implausible values rather than playing at them', () => {
    expect(frameRateOf({ frameTime: '-40', cineRate: '1e9' })).toEqual({ fps: DEFAULT_FPS, source: 'default' });
    expect(frameRateOf({ frameTime: '0.0001', cineRate: '20' })).toEqual({ fps: 20, source: 'cine-rate' });
    // a multi-valued DS takes its first value
    expect(frameRateOf({ frameTime: '50\\60' })).toEqual({ fps: 20, source: 'frame-time' });
  });
  it('reads the attributes from a multi-frame DICOM file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medus-fps-'));
    const w = 8, h = 6, n = 3;
    const write = (name: string, fields: Record<string, unknown>) => {
      const file = join(dir, name);
      writeFileSync(file, writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.77', w, h, new Uint8Array(w * h * n), { NumberOfFrames: n, ...fields })));
      return file;
    };
    const timed = await openImage(write('timed.dcm', { FrameTime: 50, CineRate: 10 }));
    expect(timed.frameCount).toBe(3);
    expect(frameRateOf(timed.details)).toEqual({ fps: 20, source: 'frame-time' });
    const cine = await openImage(write('cine.dcm', { CineRate: 15 }));
    expect(frameRateOf(cine.details)).toEqual({ fps: 15, source: 'cine-rate' });
    const bare = await openImage(write('bare.dcm', {}));
    expect(frameRateOf(bare.details)).toEqual({ fps: DEFAULT_FPS, source: 'default' });
  });

  it('the engine host names the rate on open and decodes the next frames ahead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medus-cine-'));
    const w = 8, h = 6, n = 5;
    const pixels = new Uint8Array(w * h * n).map((_, i) => Math.floor(i / (w * h)) * 40);
    const file = join(dir, 'loop.dcm');
    writeFileSync(file, writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.78', w, h, pixels, { NumberOfFrames: n, CineRate: 30 })));
    const host = createEngineHost();
    const first = await host.handle({ id: 1, type: 'open', path: file, frame: 0 });
    expect(first.ok && (first.value as { frameRate?: unknown }).frameRate).toEqual({ fps: 30, source: 'cine-rate' });
    await new Promise((r) => setTimeout(r, 300)); // decoding ahead runs after the reply
    rmSync(file);
    // frames 1 and 4 (AHEAD after 0) were decoded ahead, so they open without the file
    for (const frame of [1, 4]) {
      const r = await host.handle({ id: 2 + frame, type: 'open', path: file, frame });
      expect(r.ok).toBe(true);
      if (r.ok) expect((r.value as { pixels: Uint8Array }).pixels[0]).toBe(frame * 40);
    }
    await host.dispose();
  });
});

