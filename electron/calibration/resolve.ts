/**
 * The one calibration resolver, used by the app's study model, `medus segment`, `medus batch` and
 * `medus eval`: it gathers the candidates for one image (the DICOM ultrasound region containing
 * the structure, DICOM Pixel Spacing, a sidecar CSV in the image's folder, a calibration the user
 * drew) and lets the pure `chooseCalibration` pick in the README's trust order.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pickRegion, regionCalibration } from '../imaging/dicom/calibration';
import { fileIdentity } from '../imaging/load';
import type { Calibration, UltrasoundRegion } from '../imaging/types';
import { chooseCalibration, parseSidecarCsv, sidecarCalibration, userCalibration } from '../measurement/calibration';
import type { Point } from '../measurement/geometry';
import type { StoredCalibration, UserCalibrationStore } from './store';

/** What the resolver needs of an opened image (an ImageSource has all of it). */
export interface CalibrationInputs {
  path: string;
  /** The file's own calibration (DICOM region or Pixel Spacing), 'uncalibrated' otherwise. */
  calibration: Calibration;
  regions: readonly UltrasoundRegion[];
  /** The file's identity when it was opened (ImageSource.identity), the key of a user-drawn calibration. */
  identity?: string;
}

/** A line the user drew along the depth scale and the millimetres it spans. */
export interface DrawnLine {
  p0: Point;
  p1: Point;
  mm: number;
}

interface SidecarTable {
  file: string;
  sizes: Map<string, number>;
  fileMtime: number;
}

/** A CSV in the image's folder whose header has a file name column and a pixel-size column (HC18's form). */
export class SidecarFinder {
  /** Per folder: the table read (or null) and the folder's modification time then; a change on disk reads it again. */
  private readonly byFolder = new Map<string, { folderMtime: number; table: Promise<SidecarTable | null> }>();

  constructor(private readonly explicit?: string) {}

  private async load(folder: string): Promise<SidecarTable | null> {
    const candidates = this.explicit ? [this.explicit] : (await readdir(folder)).filter((f) => f.toLowerCase().endsWith('.csv')).sort().map((f) => join(folder, f));
    for (const file of candidates) {
      const text = await readFile(file, 'utf8');
      const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.toLowerCase();
      if (!this.explicit && !(header.includes('file') && header.includes('pixel'))) continue;
      return { file, sizes: parseSidecarCsv(text), fileMtime: (await stat(file)).mtimeMs };
    }
    return null;
  }

  async lookup(imagePath: string): Promise<Calibration | null> {
    const folder = this.explicit ? dirname(this.explicit) : dirname(imagePath);
    const folderMtime = (await stat(folder).catch(() => null))?.mtimeMs ?? -1;
    let entry = this.byFolder.get(folder);
    if (entry && entry.folderMtime === folderMtime) {
      const t = await entry.table;
      // an edited CSV keeps the folder's time: check the file's own
      if (t && (await stat(t.file).catch(() => null))?.mtimeMs !== t.fileMtime) entry = undefined;
    } else entry = undefined;
    if (!entry) {
      entry = { folderMtime, table: this.load(folder).catch(() => null) };
      this.byFolder.set(folder, entry);
    }
    const found = await entry.table;
    if (!found) return null;
    const name = basename(imagePath);
    const mm = found.sizes.get(name) ?? found.sizes.get(name.replace(/\.[^.]+$/, ''));
    return mm === undefined ? null : sidecarCalibration(mm, basename(found.file));
  }
}

export interface ResolverOptions {
  /** `--calibration-csv`: one CSV for every image instead of one per folder. */
  sidecarCsv?: string;
  /** A dataset's own pixel-size table (file name or stem → mm per pixel), read like a sidecar CSV. */
  sidecarTable?: { name: string; sizes: ReadonlyMap<string, number> };
  /** Where user-drawn calibrations are kept (the app's data folder); none: they are not used. */
  userDrawn?: UserCalibrationStore | null;
}

export class CalibrationResolver {
  private readonly sidecars: SidecarFinder;

  constructor(private readonly options: ResolverOptions = {}) {
    this.sidecars = new SidecarFinder(options.sidecarCsv);
  }

  /**
   * The calibration to measure a structure with. `structure` (a point inside it, image pixels)
   * picks the ultrasound region it lies in; without one the file's own choice stands.
   */
  async resolve(image: CalibrationInputs, structure: Point | null): Promise<Calibration> {
    let ultrasoundRegion: Calibration | null = null;
    if (image.regions.length) {
      const region = structure ? pickRegion(image.regions, structure[0], structure[1]) : null;
      if (region) ultrasoundRegion = regionCalibration(region, [`tissue region containing the structure at (${structure![0].toFixed(0)}, ${structure![1].toFixed(0)})`]);
      else if (image.calibration.source === 'dicom-ultrasound-region')
        ultrasoundRegion = { ...image.calibration, notes: [...image.calibration.notes, structure ? 'the structure lies in no tissue region; the largest region was used' : 'no structure yet: the largest tissue region is shown'] };
    }
    // the identity the image was opened with, where it has one: no second look at the file
    const stored = await this.userDrawn(image.path, image.identity);
    const userDrawn: Calibration | null = stored ? { source: stored.source, mmPerPixelX: stored.mmPerPixelX, mmPerPixelY: stored.mmPerPixelY, notes: stored.notes } : null;
    const chosen = chooseCalibration({
      ultrasoundRegion,
      pixelSpacing: image.calibration.source === 'dicom-pixel-spacing' ? image.calibration : null,
      sidecar: this.fromTable(image.path) ?? (await this.sidecars.lookup(image.path).catch(() => null)),
      userDrawn,
    });
    if (userDrawn && chosen.source !== 'user-drawn') chosen.notes.push(`a user-drawn calibration is stored for this image but ${chosen.source} is trusted before it`);
    return chosen;
  }

  private fromTable(path: string): Calibration | null {
    const t = this.options.sidecarTable;
    if (!t) return null;
    const name = basename(path);
    const mm = t.sizes.get(name) ?? t.sizes.get(name.replace(/\.[^.]+$/, ''));
    return mm === undefined ? null : sidecarCalibration(mm, t.name);
  }

  private async userDrawn(path: string, identity?: string): Promise<StoredCalibration | null> {
    const store = this.options.userDrawn;
    if (!store) return null;
    const key = identity ?? (await fileIdentity(path).catch(() => null));
    return key ? store.get(key) : null;
  }

  /** Stores (or, with null, removes) the calibration the user drew on this image. */
  async setUserDrawn(path: string, line: DrawnLine | null): Promise<void> {
    const store = this.options.userDrawn;
    if (!store) return;
    const key = await fileIdentity(path);
    if (line) await store.set(key, { ...userCalibration(line.p0, line.p1, line.mm), line: { p0: line.p0, p1: line.p1, mm: line.mm } });
    else await store.remove(key);
  }

  /** The line behind this image's stored user-drawn calibration, to draw it again. */
  async drawnLine(path: string): Promise<DrawnLine | null> {
    const c = await this.userDrawn(path);
    return c?.line ?? null;
  }
}

/** The centre of mass of a mask (image pixels), to pick the ultrasound region the structure lies in. */
export function structurePoint(mask: Uint8Array, width: number): Point | null {
  let n = 0;
  let sx = 0;
  let sy = 0;
  const height = Math.floor(mask.length / width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (!mask[row + x]) continue;
      n++;
      sx += x;
      sy += y;
    }
  }
  return n ? [sx / n + 0.5, sy / n + 0.5] : null;
}
