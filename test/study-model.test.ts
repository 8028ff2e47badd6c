/** The study model with a stand-in engine: memory stays bounded without losing work, and export writes DICOM SEG for DICOM sources. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { CalibrationResolver } from '../electron/calibration/resolve';
import type { Prompt } from '../electron/engine/types';
import { openImage } from '../electron/imaging/open';
import { exportResults } from '../electron/study/export';
import { ResultsWriter } from '../electron/study/save';
import { Study, type StudyEngine, type StudyFile } from '../electron/study/study';
import { ultrasoundImage, writeDicom } from './helpers/dicom';
import { tempDir } from './helpers/synth';

const W = 48;
const H = 32;

/** Opens any file as a W×H image (DICOM through the real reader); a box gives the filled box. */
function engine(): StudyEngine & { segments: number } {
  const e = {
    segments: 0,
    async open(path: string, frame: number) {
      const src = await openImage(path).catch(() => null);
      return { path, frame, frameCount: 1, width: W, height: H, format: src?.format ?? 'png', pixels: new Uint8Array(W * H), calibration: src?.calibration ?? { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: src?.regions ?? [], details: src?.details ?? {} };
    },
    async segment(_path: string, _frame: number, prompt: Prompt) {
      e.segments++;
      const mask = new Uint8Array(W * H);
      const b = prompt.box ?? { x0: 10, y0: 8, x1: 30, y1: 24 };
      for (let y = Math.round(b.y0); y < b.y1; y++) for (let x = Math.round(b.x0); x < b.x1; x++) mask[y * W + x] = 1;
      return { width: W, height: H, mask, polygons: [], score: 0.9, mode: prompt.box ? 'box' : 'automatic', empty: false, areaPixels: mask.reduce((a, v) => a + v, 0), zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
    },
    async model() {
      return { name: 'Stand-in', version: '0.0.1', provider: 'cpu' };
    },
  };
  return e;
}

function files(folder: string, names: string[]): StudyFile[] {
  return names.map((n) => ({ path: join(folder, n), name: n, relative: n, stem: n.replace(/\.[^.]+$/, '') }));
}

describe('the study model', () => {
  it('keeps memory bounded over a long session and gives back every result from disk', async () => {
    const root = tempDir();
    const folder = join(root, 'scans');
    mkdirSync(folder);
    const names = Array.from({ length: 40 }, (_, i) => `img${String(i).padStart(2, '0')}.png`);
    for (const n of names) writeFileSync(join(folder, n), 'x');
    const out = join(root, 'out');
    mkdirSync(out);
    const eng = engine();
    const study = await Study.open({ root: folder, files: files(folder, names), engine: eng, resolver: new CalibrationResolver(), writer: new ResultsWriter(out), resultsNote: null });
    for (const [i, n] of names.entries()) {
      await study.openImage(join(folder, n), 0);
      await study.intent(join(folder, n), 0, { type: 'set-box', object: 1, anatomy: 'thyroid-nodule', box: { x0: 4 + (i % 10), y0: 4, x1: 30, y1: 20 }, keepClicks: false });
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(study.inMemory).toBeLessThanOrEqual(16);
    const first = await study.openImage(join(folder, names[0]!), 0);
    expect(first.state.restored).toBe(true);
    expect(first.state.objects[0]!.result?.areaPixels).toBe((30 - 4) * (20 - 4));
    expect(eng.segments).toBe(names.length);
    const rows = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(names.length + 1);
  });

  it('exports a DICOM Segmentation that references the DICOM source it was made on', async () => {
    const root = tempDir();
    const folder = join(root, 'scans');
    mkdirSync(folder);
    const uid = '1.2.826.0.1.3680043.9.7433.55';
    writeFileSync(join(folder, 'scan.dcm'), writeDicom(ultrasoundImage(uid, W, H, new Uint8Array(W * H).fill(90), { PixelSpacing: [0.2, 0.2] })));
    writeFileSync(join(folder, 'photo.png'), 'x');
    const out = join(root, 'out');
    mkdirSync(out);
    const study = await Study.open({ root: folder, files: files(folder, ['photo.png', 'scan.dcm']), engine: engine(), resolver: new CalibrationResolver(), writer: new ResultsWriter(out), resultsNote: null });
    for (const n of ['scan.dcm', 'photo.png']) {
      await study.openImage(join(folder, n), 0);
      await study.intent(join(folder, n), 0, { type: 'set-box', object: 1, anatomy: 'breast-lesion', box: { x0: 8, y0: 6, x1: 28, y1: 22 }, keepClicks: false });
    }
    const dest = join(root, 'export');
    const r = await exportResults(study.records(), out, dest, ['dicom-seg', 'csv'], { name: 'Stand-in', version: '0.0.1' });
    expect(r.files).toEqual([join(dest, 'scan_seg.dcm'), join(dest, 'results.csv')]); // a PNG source gets none
    const bytes = readFileSync(join(dest, 'scan_seg.dcm'));
    const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
    const seg = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).dict) as Record<string, unknown>;
    expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(seg.StudyInstanceUID).toBe(`${uid}.2`);
    expect(JSON.stringify(seg.ReferencedSeriesSequence)).toContain(`${uid}.1`);
    await expect(exportResults(study.records(), out, out, ['csv'], { name: 'x', version: '1' })).rejects.toThrow(/another folder/);
    // the printable report of the folder: one page per image
    const printed = await exportResults(study.records(), out, join(root, 'print'), ['report', 'dicom-sr'], { name: 'Stand-in', version: '0.0.1' });
    expect(printed.files).toEqual([join(root, 'print', 'scan_sr.dcm'), join(root, 'print', 'report.pdf')]);
    if (existsSync('/usr/bin/pdfinfo')) expect(spawnSync('/usr/bin/pdfinfo', [join(root, 'print', 'report.pdf')], { encoding: 'utf8' }).stdout).toMatch(/Pages:\s+2/);
  });
});
