/**
 * Gathers calibration candidates for one image (the side-effect half: reading sidecar CSVs) and
 * lets the pure `chooseCalibration` pick in trust order. The ultrasound region is the one that
 * contains the structure (its centroid), as a scanner with several tissue regions requires.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pickRegion, regionCalibration } from '../imaging/dicom/calibration';
import type { Calibration, ImageSource } from '../imaging/types';
import { chooseCalibration, parseSidecarCsv, sidecarCalibration } from '../measurement/calibration';

/** A CSV in the image's folder whose header has a file name column and a pixel-size column (HC18's form). */
export class SidecarFinder {
  private readonly byFolder = new Map<string, Promise<{ file: string; sizes: Map<string, number> } | null>>();

  constructor(private readonly explicit?: string) {}

  private async load(folder: string): Promise<{ file: string; sizes: Map<string, number> } | null> {
    const candidates = this.explicit ? [this.explicit] : (await readdir(folder)).filter((f) => f.toLowerCase().endsWith('.csv')).map((f) => join(folder, f));
    for (const file of candidates) {
      const text = await readFile(file, 'utf8');
      const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.toLowerCase();
      if (!this.explicit && !(header.includes('file') && header.includes('pixel'))) continue;
      return { file, sizes: parseSidecarCsv(text) };
    }
    return null;
  }

  async lookup(imagePath: string): Promise<Calibration | null> {
    const folder = this.explicit ? '(explicit)' : dirname(imagePath);
    let p = this.byFolder.get(folder);
    if (!p) {
      p = this.load(dirname(imagePath)).catch(() => null);
      this.byFolder.set(folder, p);
    }
    const found = await p;
    if (!found) return null;
    const name = basename(imagePath);
    const mm = found.sizes.get(name) ?? found.sizes.get(name.replace(/\.[^.]+$/, ''));
    return mm === undefined ? null : sidecarCalibration(mm, basename(found.file));
  }
}

export async function calibrationFor(source: ImageSource, centroid: readonly [number, number] | null, sidecar: SidecarFinder | null): Promise<Calibration> {
  let ultrasoundRegion: Calibration | null = null;
  if (source.regions.length) {
    const region = centroid ? pickRegion(source.regions, centroid[0], centroid[1]) : null;
    if (region) ultrasoundRegion = regionCalibration(region, [`tissue region containing the structure at (${centroid![0].toFixed(0)}, ${centroid![1].toFixed(0)})`]);
    else if (source.calibration.source === 'dicom-ultrasound-region') ultrasoundRegion = { ...source.calibration, notes: [...source.calibration.notes, 'the structure lies in no tissue region; the largest region was used'] };
  }
  return chooseCalibration({
    ultrasoundRegion,
    pixelSpacing: source.calibration.source === 'dicom-pixel-spacing' ? source.calibration : null,
    sidecar: sidecar ? await sidecar.lookup(source.path) : null,
  });
}
