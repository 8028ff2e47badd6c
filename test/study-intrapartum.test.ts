/** The intrapartum preset in the study model: one action segments both structures, the head carries the angle of progression, and it is saved. */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CalibrationResolver } from '../electron/calibration/resolve';
import type { Prompt } from '../electron/engine/types';
import { ResultsWriter } from '../electron/study/save';
import { Study, type StudyEngine } from '../electron/study/study';
import { tempDir } from './helpers/synth';

const W = 320;
const H = 360;
// the labour view of test/intrapartum.test.ts: symphysis a thin ellipse, the head a circle below and beyond its inferior end
const shapes: Record<string, (x: number, y: number) => boolean> = {
  'intrapartum-pubic-symphysis': (x, y) => ((x - 100) / 50) ** 2 + ((y - 100) / 8) ** 2 <= 1,
  'intrapartum-fetal-head': (x, y) => (x - 170) ** 2 + (y - 260) ** 2 <= 80 ** 2,
};

function engine(): StudyEngine & { asked: string[] } {
  const e = {
    asked: [] as string[],
    async open(path: string, frame: number) {
      return { path, frame, frameCount: 1, width: W, height: H, format: 'png', pixels: new Uint8Array(W * H), calibration: { source: 'uncalibrated' as const, mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: [], details: {} };
    },
    async segment(_path: string, _frame: number, prompt: Prompt) {
      e.asked.push(prompt.anatomy ?? '');
      const inside = shapes[prompt.anatomy ?? ''];
      if (!inside) throw new Error(`the stand-in model does not know ${prompt.anatomy}`);
      const mask = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask[y * W + x] = inside(x + 0.5, y + 0.5) ? 1 : 0;
      return { width: W, height: H, mask, polygons: [], score: 0.9, presence: 0.97, mode: 'automatic', empty: false, areaPixels: mask.reduce((a, v) => a + v, 0), zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
    },
    async model() {
      return { name: 'Stand-in', version: '0.0.1', provider: 'cpu' };
    },
  };
  return e;
}

describe('the intrapartum preset in Review', () => {
  it('segments the symphysis and the head in one action and measures the angle of progression on the head', async () => {
    const root = tempDir();
    const folder = join(root, 'labour');
    mkdirSync(folder);
    writeFileSync(join(folder, 'tp1.png'), 'x');
    const out = join(root, 'out');
    mkdirSync(out);
    const eng = engine();
    const study = await Study.open({ root: folder, files: [{ path: join(folder, 'tp1.png'), name: 'tp1.png', relative: 'tp1.png', stem: 'tp1' }], engine: eng, resolver: new CalibrationResolver(), writer: new ResultsWriter(out), resultsNote: null });
    await study.openImage(join(folder, 'tp1.png'), 0);
    const state = await study.intent(join(folder, 'tp1.png'), 0, { type: 'automatic', object: 1, anatomy: 'intrapartum' });
    expect(eng.asked).toEqual(['intrapartum-pubic-symphysis', 'intrapartum-fetal-head']);
    expect(state.anatomy).toBe('intrapartum');
    expect(state.objects.map((o) => o.id)).toEqual([1, 2]);
    const head = state.objects[1]!.measurement!;
    expect(head.family).toBe('intrapartum');
    const aop = head.objects[0]!.measurements.find((m) => m.key === 'aop')!;
    // the far tangent of test/intrapartum.test.ts's geometry: 126.9°
    expect(aop.unit).toBe('°');
    expect(Math.abs(aop.value - 126.9)).toBeLessThan(1.5);
    expect(state.objects[0]!.measurement!.objects[0]!.measurements.map((m) => m.key)).toEqual(['area']);
    // saved: the record names the preset and carries the angle; results.csv has the AoP column
    await study.settled();
    const json = readdirSync(out).find((f) => f.endsWith('.json') && f.startsWith('tp1'))!;
    const record = JSON.parse(readFileSync(join(out, json), 'utf8'));
    expect(record.anatomy).toBe('intrapartum');
    expect(JSON.stringify(record.measurement)).toContain('"aop"');
    const csv = readFileSync(join(out, 'results.csv'), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/aop/i);
  });
});
