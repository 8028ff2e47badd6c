/**
 * Export from Review: the current image's or the whole folder's saved results, copied or written
 * into a folder the user chose, by the same writers the batch uses (CSV, JSON, masks, overlays,
 * COCO, DICOM Segmentation for DICOM sources).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { cocoDocument, cocoParts } from '../export/coco';
import { csvHeader, csvRows, toCsv, worksheetKinds } from '../export/csv';
import { dicomResults } from '../export/dicom-results';
import { readMaskPng } from '../export/mask';
import { Deidentifier, hasBurnedInAnnotation } from '../export/deidentify';
import { buildStudyReport } from '../export/report';
import type { ImageRecord } from '../export/record';
import { writeAtomic } from '../files/atomic';
import { FileError } from '../files/errors';
import { openImage } from '../imaging/open';
import type { MeasurementFamily } from '../shared/presets';

export type ExportFormat = 'csv' | 'json' | 'masks' | 'overlays' | 'coco' | 'dicom-seg' | 'dicom-sr' | 'report';

export async function exportResults(
  records: AsyncIterable<ImageRecord>,
  resultsFolder: string,
  dest: string,
  formats: readonly ExportFormat[],
  model: { name: string; version: string },
  options: { deidentify?: boolean } = {},
): Promise<{ folder: string; files: string[]; warnings: string[] }> {
  // one de-identifier per export: the same patient, study and image get the same new identities throughout
  const deid = options.deidentify ? new Deidentifier() : null;
  const burnedInImages = new Set<string>();
  const out = resolve(dest);
  if (out === resolve(resultsFolder)) throw new FileError('output-is-input', 'export into another folder than the results folder (it already holds these files)');
  await mkdir(out, { recursive: true });
  const want = new Set(formats);
  const files: string[] = [];
  const warnings: string[] = [];
  const all: ImageRecord[] = [];
  const copy = async (name: string | undefined) => {
    if (!name) return;
    await mkdir(dirname(join(out, name)), { recursive: true });
    await copyFile(join(resultsFolder, name), join(out, name));
    files.push(join(out, name));
  };
  for await (const r of records) {
    // outlines are only needed for COCO; everything else is per image
    all.push(r);
    // a DICOM source's header says whether its pixels carry identifying text
    const header = deid ? await openImage(r.file).then((src) => (src.format === 'dicom' ? src.details : null), () => null) : null;
    const burnedIn = !!header && hasBurnedInAnnotation(header);
    if (burnedIn) burnedInImages.add(r.relative);
    if (burnedIn) warnings.push(`${r.relative}: its pixels carry burned-in annotation (0028,0301 = YES), so its overlay and report page are left out of this de-identified export`);
    if (want.has('json')) {
      if (deid && r.outputs.json) {
        // the record without the source's path (which may name the patient): the relative name stays
        const clean: ImageRecord & { deidentified: true } = { ...r, file: r.relative, deidentified: true };
        delete clean.dicom;
        await writeAtomic(join(out, r.outputs.json), JSON.stringify(clean, null, 1) + '\n', { overwrite: true });
        files.push(join(out, r.outputs.json));
      } else await copy(r.outputs.json);
    }
    if (want.has('masks')) await copy(r.outputs.mask);
    if (want.has('overlays') && !burnedIn) await copy(r.outputs.overlay);
    // an image measured only by hand has no Segmentation, but its SR carries the drawn measurements
    if ((want.has('dicom-seg') || want.has('dicom-sr')) && ((r.outputs.mask && !r.empty) || r.manual?.length)) {
      try {
        const source = await openImage(r.file);
        if (source.format !== 'dicom') continue;
        const mask = r.outputs.mask && !r.empty ? await readMaskPng(join(resultsFolder, r.outputs.mask), r.width, r.height) : null;
        const made = dicomResults({ details: deid ? deid.details(source.details) : source.details, frame: r.frame, frameCount: source.frameCount, width: r.width, height: r.height, mask, anatomy: r.anatomy, promptMode: r.promptMode, measurement: r.measurement, calibration: r.calibration, model: r.model, ...(r.worksheets ? { worksheets: r.worksheets } : {}), ...(r.manual?.length ? { manual: r.manual } : {}) });
        warnings.push(...made.warnings.map((w) => `${r.relative}: ${w}`));
        const stem = r.outputs.json!.replace(/\.json$/, '');
        for (const [format, bytes, name] of [['dicom-seg', made.seg, `${stem}_seg.dcm`], ['dicom-sr', made.sr, `${stem}_sr.dcm`]] as const) {
          if (!want.has(format) || !bytes) continue;
          await writeAtomic(join(out, name), bytes, { overwrite: true });
          files.push(join(out, name));
        }
      } catch (err) {
        warnings.push(`${r.relative}: no DICOM objects written (${err instanceof Error ? err.message : String(err)})`);
      }
    }
  }
  if (want.has('report') && all.length) {
    // one page per image, drawn on the overlay the app saved with the result (none where the pixels carry identity)
    const pictures = await Promise.all(all.map((r) => (r.outputs.overlay && !burnedInImages.has(r.relative) ? readFile(join(resultsFolder, r.outputs.overlay)).then((b) => new Uint8Array(b), () => null) : Promise.resolve(null))));
    const name = all.length === 1 ? `${all[0]!.outputs.json!.replace(/\.json$/, '')}_report.pdf` : 'report.pdf';
    await writeAtomic(join(out, name), await buildStudyReport(all.map((record, i) => ({ record, picture: pictures[i]! })), { generatedAt: new Date(), patientLine: '' }), { overwrite: true });
    files.push(join(out, name));
  }
  if (want.has('csv')) {
    const families = [...new Set(all.map((r) => r.measurement.family))] as MeasurementFamily[];
    const sheets = worksheetKinds(all);
    const body = all.flatMap((r) => csvRows(r, families, sheets));
    await writeAtomic(join(out, 'results.csv'), toCsv(body, csvHeader(families.length ? families : ['fetal-head'], sheets)), { overwrite: true });
    files.push(join(out, 'results.csv'));
  }
  if (want.has('coco')) {
    const anatomies = [...new Set(all.map((r) => r.anatomy))];
    const images: string[] = [];
    const annotations: string[] = [];
    let annId = 1;
    all.forEach((r, i) => {
      const parts = cocoParts(r, i + 1, annId, anatomies.indexOf(r.anatomy) + 1);
      annId += parts.annotations.length;
      images.push(JSON.stringify(parts.image));
      annotations.push(...parts.annotations.map((a) => JSON.stringify(a)));
    });
    const doc = cocoDocument(images.join(','), annotations.join(','), anatomies.map((a, i) => ({ id: i + 1, name: a })), { description: `MedUS Workstation results (${model.name} ${model.version})`, date_created: new Date().toISOString() });
    await writeAtomic(join(out, 'coco.json'), doc, { overwrite: true });
    files.push(join(out, 'coco.json'));
  }
  if (!all.length) warnings.push('nothing saved yet to export: segment an image first');
  return { folder: out, files, warnings };
}
