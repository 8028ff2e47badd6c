/** `medus segment`: one prompt applied to each image; a mask PNG and a JSON record per image. */
import { basename } from 'node:path';
import type { SegmentationEngine } from '../engine/engine';
import type { Box, Click, Prompt } from '../engine/types';
import { loadFrame } from '../imaging/load';
import { openImage } from '../imaging/open';
import { CliError, EXIT } from './exit-codes';
import { CalibrationResolver, structurePoint } from '../calibration/resolve';
import { writeAtomic } from '../files/atomic';
import { FileError } from '../files/errors';
import { collectInputs, outputStem, prepareOutputDir } from '../files/inputs';
import { maskPng } from '../export/mask';
import { measureIntrapartum } from '../measurement/intrapartum';
import { presetGroupFor } from '../shared/presets';
import { Progress } from './progress';

export interface SegmentArgs {
  inputs: string[];
  anatomy?: string;
  box?: Box;
  clicks: Click[];
  out: string;
  frame: number | 'all';
  overwrite: boolean;
}

export function parseBox(s: string): Box {
  const v = s.split(',').map(Number);
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n))) throw new CliError(`--box needs x0,y0,x1,y1 in image pixels, got "${s}"`, EXIT.USAGE);
  const [x0, y0, x1, y1] = v as [number, number, number, number];
  if (!(x1 > x0 && y1 > y0)) throw new CliError(`--box ${s}: x1 must exceed x0 and y1 exceed y0`, EXIT.USAGE);
  return { x0, y0, x1, y1 };
}

export function parsePoint(s: string): Click {
  const v = s.split(',');
  const [x, y] = [Number(v[0]), Number(v[1])];
  const lab = v[2]?.trim().toLowerCase() ?? '1';
  if (v.length < 2 || v.length > 3 || !Number.isFinite(x) || !Number.isFinite(y)) throw new CliError(`--point needs x,y[,label] in image pixels, got "${s}"`, EXIT.USAGE);
  const positive = ['1', 'pos', 'positive', '+'].includes(lab);
  const negative = ['0', 'neg', 'negative', '-'].includes(lab);
  if (!positive && !negative) throw new CliError(`--point ${s}: label must be 1 (positive) or 0 (negative)`, EXIT.USAGE);
  return { x, y, label: positive ? 'positive' : 'negative' };
}

export interface SegmentSummary {
  processed: number;
  failed: Array<{ file: string; error: string }>;
}

export async function runSegment(engine: SegmentationEngine, a: SegmentArgs, log: (s: string) => void, isCancelled: () => boolean = () => false): Promise<SegmentSummary> {
  const inputs = await collectInputs(a.inputs);
  if (!inputs.length) throw new FileError('no-input', 'no image files found in the given inputs');
  const outDir = await prepareOutputDir(a.out, a.inputs);
  const progress = new Progress(inputs.length, 'segment');
  const summary: SegmentSummary = { processed: 0, failed: [] };
  const m = engine.model.manifest;
  const resolver = new CalibrationResolver();
  const group = a.anatomy ? presetGroupFor(a.anatomy) : undefined;
  if (group && (a.box || a.clicks.length)) throw new CliError(`--anatomy ${group.key} segments ${group.anatomies.join(' and ')} in automatic mode: give no --box or --point (segment each anatomy on its own to prompt it)`, EXIT.USAGE);
  for (const [i, input] of inputs.entries()) {
    if (isCancelled()) break;
    progress.tick(i, basename(input.path));
    try {
      const source = await openImage(input.bytes ?? input.path);
      const frames = a.frame === 'all' ? [...Array(source.frameCount).keys()] : [a.frame];
      for (const f of frames) {
        const loaded = await loadFrame(input.bytes ?? input.path, f, source);
        const stem = outputStem(input, f, frames.length > 1 ? source.frameCount : 1);
        if (group) {
          await writeGroup(engine, group.anatomies, { key: loaded.key, image: loaded.image }, { file: input.path, frame: f, frames: source.frameCount, stem, outDir, overwrite: a.overwrite, calibration: await resolver.resolve(source, null) });
          continue;
        }
        const prompt: Prompt = { clicks: a.clicks, ...(a.box ? { box: a.box } : {}), ...(a.anatomy ? { anatomy: a.anatomy } : {}) };
        const seg = await engine.segment({ key: loaded.key, image: loaded.image }, prompt);
        const maskFile = `${stem}_mask.png`;
        const record = {
          file: input.path,
          frame: f,
          frames: source.frameCount,
          width: seg.width,
          height: seg.height,
          model: { name: m.name, version: m.version },
          provider: engine.provider.active,
          prompt: { mode: seg.mode, anatomy: a.anatomy ?? null, box: a.box ?? null, points: a.clicks },
          score: seg.score,
          empty: seg.empty,
          zoomed_to: seg.zoomedTo,
          area_pixels: seg.areaPixels,
          calibration: await resolver.resolve(source, source.regions.length ? structurePoint(seg.mask, seg.width) : null),
          mask: maskFile,
          timings_ms: seg.timings,
        };
        await writeAtomic(`${outDir}/${maskFile}`, await maskPng(seg.mask, seg.width, seg.height), { overwrite: a.overwrite });
        await writeAtomic(`${outDir}/${stem}.json`, JSON.stringify(record, null, 2) + '\n', { overwrite: a.overwrite });
      }
      summary.processed++;
    } catch (err) {
      if (err instanceof FileError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      summary.failed.push({ file: input.path, error: msg });
      // every per-file error names its file, whatever raised it
      log(`error: ${msg.includes(input.path) ? msg : `${input.path}: ${msg}`}`);
    }
  }
  progress.end();
  return summary;
}

/**
 * A preset group (the intrapartum view): each anatomy in automatic mode, a mask per anatomy, and one
 * record with the measurement made between them (the angle of progression and head–symphysis distance).
 */
async function writeGroup(
  engine: SegmentationEngine,
  anatomies: readonly string[],
  input: { key: string; image: { width: number; height: number; data: Uint8Array } },
  o: { file: string; frame: number; frames: number; stem: string; outDir: string; overwrite: boolean; calibration: Awaited<ReturnType<CalibrationResolver['resolve']>> },
): Promise<void> {
  const m = engine.model.manifest;
  const parts = [];
  const masks: Uint8Array[] = [];
  for (const anatomy of anatomies) {
    const seg = await engine.segment(input, { clicks: [], anatomy });
    const maskFile = `${o.stem}_${anatomy}_mask.png`;
    await writeAtomic(`${o.outDir}/${maskFile}`, await maskPng(seg.mask, seg.width, seg.height), { overwrite: o.overwrite });
    masks.push(seg.mask);
    parts.push({ anatomy, score: seg.score, presence: seg.presence ?? null, empty: seg.empty, zoomed_to: seg.zoomedTo, area_pixels: seg.areaPixels, mask: maskFile, timings_ms: seg.timings });
  }
  const { width, height } = input.image;
  const measurement = masks.length === 2 ? measureIntrapartum({ symphysis: masks[0]!, head: masks[1]!, width, height }, o.calibration) : null;
  const record = {
    file: o.file,
    frame: o.frame,
    frames: o.frames,
    width,
    height,
    model: { name: m.name, version: m.version },
    provider: engine.provider.active,
    prompt: { mode: 'automatic', anatomy: anatomies.join('+'), box: null, points: [] },
    structures: parts,
    calibration: o.calibration,
    measurement,
  };
  await writeAtomic(`${o.outDir}/${o.stem}.json`, JSON.stringify(record, null, 2) + '\n', { overwrite: o.overwrite });
}
