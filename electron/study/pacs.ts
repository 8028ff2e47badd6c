/**
 * The study model and the PACS: a study found on a DICOMweb server is pulled into a local cache
 * folder and opened like any folder; the results made on it go back as DICOM Segmentation,
 * measurement reports (SR) and the printable report (Encapsulated PDF), into the same study, with a
 * result per instance.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newUid } from '../export/dicom-common';
import { Deidentifier, deidentifyDicom, hasBurnedInAnnotation } from '../export/deidentify';
import { dicomResults } from '../export/dicom-results';
import { buildEncapsulatedPdf } from '../export/encapsulated-pdf';
import { buildImageReport } from '../export/report';
import { readMaskPng } from '../export/mask';
import type { ImageRecord } from '../export/record';
import { writeAtomic } from '../files/atomic';
import { openImage } from '../imaging/open';
import { instances, type PacsServer, retrieveInstance, store, UID } from '../pacs/dicomweb';

export interface PulledStudy {
  folder: string;
  /** The series folders inside it, to open as one study (the folder itself holds no images). */
  paths: string[];
  files: number;
  /** Instances that could not be fetched, with why (the rest of the study is still opened). */
  failed: Array<{ sopInstanceUid: string; message: string }>;
}

/**
 * The study's instances as `<folder>/<SeriesUID>/<SOPInstanceUID>.dcm`; instances already in the
 * cache are not fetched again (a PACS instance never changes under its UID).
 */
export async function pullStudy(server: PacsServer, studyUid: string, folder: string, onProgress: (done: number, total: number) => void = () => undefined): Promise<PulledStudy> {
  if (!UID.test(studyUid)) throw new Error(`"${studyUid}" is not a study UID`);
  const list = (await instances(server, studyUid)).filter((i) => UID.test(i.seriesUid) && UID.test(i.sopInstanceUid));
  const failed: PulledStudy['failed'] = [];
  let files = 0;
  for (const [n, i] of list.entries()) {
    const file = join(folder, i.seriesUid, `${i.sopInstanceUid}.dcm`);
    try {
      if (!existsSync(file)) await writeAtomic(file, await retrieveInstance(server, studyUid, i.seriesUid, i.sopInstanceUid), { overwrite: true });
      files++;
    } catch (err) {
      failed.push({ sopInstanceUid: i.sopInstanceUid, message: err instanceof Error ? err.message : String(err) });
    }
    onProgress(n + 1, list.length);
  }
  const paths = [...new Set(list.map((i) => join(folder, i.seriesUid)))].filter((p) => existsSync(p));
  return { folder, paths, files, failed };
}

export interface SentResult {
  file: string;
  kind: 'SEG' | 'SR' | 'PDF' | 'IMAGE';
  ok: boolean;
  message?: string;
}

/**
 * Builds the Segmentation and SR of every saved result on a DICOM source and stores them on the
 * server; results on other images (PNG, JPEG…) have nothing to send and are said so.
 */
export async function sendResults(
  server: PacsServer,
  records: AsyncIterable<ImageRecord>,
  resultsFolder: string,
  onProgress: (done: number, total: number) => void = () => undefined,
  options: { deidentify?: boolean } = {},
): Promise<{ sent: SentResult[]; skipped: string[] }> {
  // de-identified (for a research PACS): the images go too, all under one consistent new identity,
  // so that the Segmentations and reports still reference what was sent with them
  const deid = options.deidentify ? new Deidentifier() : null;
  const objects: Array<{ file: string; kind: 'SEG' | 'SR' | 'PDF' | 'IMAGE'; bytes: Uint8Array }> = [];
  const skipped: string[] = [];
  // the reports of one sending share a series, beside the Segmentations and SRs
  const reportSeries = newUid();
  let reports = 0;
  for await (const r of records) {
    // an image measured only by hand still has its SR (and report) to send
    if ((r.empty || !r.outputs.mask) && !r.manual?.length) continue;
    const source = await openImage(r.file).catch(() => null);
    if (!source || source.format !== 'dicom') {
      skipped.push(`${r.relative}: not a DICOM image, nothing to send`);
      continue;
    }
    if (deid && hasBurnedInAnnotation(source.details)) {
      skipped.push(`${r.relative}: its pixels carry burned-in annotation (0028,0301 = YES): not sent de-identified`);
      continue;
    }
    const details = deid ? deid.details(source.details) : source.details;
    if (deid) objects.push({ file: r.relative, kind: 'IMAGE', bytes: deidentifyDicom(new Uint8Array(await readFile(r.file)), deid) });
    const mask = r.outputs.mask && !r.empty ? await readMaskPng(join(resultsFolder, r.outputs.mask), r.width, r.height) : null;
    const made = dicomResults({ details, frame: r.frame, frameCount: source.frameCount, width: r.width, height: r.height, mask, anatomy: r.anatomy, promptMode: r.promptMode, measurement: r.measurement, calibration: r.calibration, model: r.model, ...(r.worksheets ? { worksheets: r.worksheets } : {}), ...(r.manual?.length ? { manual: r.manual } : {}) });
    skipped.push(...made.warnings.map((w) => `${r.relative}: ${w}`));
    if (made.seg) objects.push({ file: r.relative, kind: 'SEG', bytes: made.seg });
    if (made.sr) objects.push({ file: r.relative, kind: 'SR', bytes: made.sr });
    try {
      // the printable report too, as an Encapsulated PDF, drawn on the overlay saved with the result
      const picture = r.outputs.overlay ? await readFile(join(resultsFolder, r.outputs.overlay)).then((b) => new Uint8Array(b), () => null) : null;
      const pdf = await buildImageReport(r, picture, { generatedAt: new Date(), patientLine: '' });
      objects.push({ file: r.relative, kind: 'PDF', bytes: buildEncapsulatedPdf({ details }, pdf, { seriesInstanceUid: reportSeries, instanceNumber: ++reports }) });
    } catch (err) {
      skipped.push(`${r.relative}: no report sent (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (!objects.length) return { sent: [], skipped };
  const results = await store(
    server,
    objects.map((o) => o.bytes),
    onProgress,
  );
  return { sent: results.map((x) => ({ file: objects[x.index]!.file, kind: objects[x.index]!.kind, ok: x.ok, ...(x.message ? { message: x.message } : {}) })), skipped };
}
