/**
 * The headless command line over the same engine as the app:
 *   medus segment <files or folders> --anatomy <preset> [--box x0,y0,x1,y1] [--point x,y[,label]]... --out <dir>
 *   medus eval --data <datasets dir> [--prompt box|point|point3|auto[,...]] [--json FILE]
 *   medus batch <folder> --anatomy <preset> --out <dir>
 *   medus eval --hc --data <datasets dir>
 *   medus info
 *   medus pacs find|pull --server URL ...   and   medus send <files or folders> --server URL
 *   medus batch --from-pacs URL --study UID | --query ... --anatomy <preset> --out <dir>
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cudaMissingMessage, probeCudaHere } from '../engine/cuda';
import { type EngineOptions, SegmentationEngine } from '../engine/engine';
import { ModelLoadError, type ModelFolder } from '../engine/model';
import { EnginePool, openBatchEngine } from '../engine/pool';
import type { SiteThresholds } from '../engine/presence';
import { defaultDatasetsDir } from '../evaluation/datasets';
import { EVAL_PROMPTS, type EvalPrompt, evaluate } from '../evaluation/evaluate';
import { evaluateAop } from '../evaluation/aop';
import { evaluateTracking, evaluateTrackingLoops } from '../evaluation/tracking';
import { proposeSiteThresholds, siteReviewsIn } from '../study/site-reviews';
import { SiteThresholdStore, entryFromProposal } from '../study/site-store';
import { evaluateHc } from '../evaluation/hc';
import { runBatch } from '../batch/batch';
import { PromptsCsvError } from '../batch/prompts-csv';
import { PRESETS, PRESET_GROUPS, presetGroupFor, resolveAnatomy } from '../shared/presets';
import { UserCalibrationStore } from '../calibration/store';
import { FileError } from '../files/errors';
import { CliError, EXIT } from './exit-codes';
import { Progress } from './progress';
import { batchFromPacs, checkFromPacs, pacsFind, pacsPull, pacsSend } from './pacs';
import { parseBox, parsePoint, runSegment } from './segment';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The model shipped with the app. In a checkout it sits beside the sources (electron/cli and the
 * bundle in out/cli are both two folders below it); in an installed app the bundle is in
 * resources/app.asar.unpacked/out/cli and electron-builder puts the model in resources/models.
 */
export function bundledModelDir(here: string = HERE): string {
  const candidates = [resolve(here, '..', '..', 'models', 'medus-s-v1'), resolve(here, '..', '..', '..', 'models', 'medus-s-v1')];
  return candidates.find((d) => existsSync(join(d, 'model.json'))) ?? candidates[0]!;
}
export const DEFAULT_MODEL = bundledModelDir();

/** Which model a run uses and why: --model, then MEDUS_MODEL, then the one shipped with the app. */
function chosenModel(option: string | undefined): { dir: string; source: '--model' | 'MEDUS_MODEL' | 'bundled' } {
  if (option) return { dir: resolve(option), source: '--model' };
  if (process.env.MEDUS_MODEL) return { dir: resolve(process.env.MEDUS_MODEL), source: 'MEDUS_MODEL' };
  return { dir: DEFAULT_MODEL, source: 'bundled' };
}

export const HELP = `medus — ultrasound segmentation from the command line (same engine as the MedUS Workstation app)

Usage:
  medus segment <files or folders>... [options]   segment each image, write mask PNG + JSON record
  medus batch <folder>... --anatomy <preset> --out <dir> [options]
                                                  segment and measure a whole folder, resumable;
                                                  writes masks, overlays, JSON, results.csv, coco.json
  medus eval --data <datasets dir> [options]      Dice / IoU / HD95 on the test split of each dataset
  medus eval --hc --data <datasets dir>           head-circumference error on the HC18 test split
  medus eval --aop --data <datasets dir>          angle-of-progression error on the PSFHS test split
  medus eval --track --data <datasets dir>        tracking through real video (TG3K, CCAUI sequences)
  medus info                                      model, anatomies and execution provider in use
  medus site-thresholds <results folders>... [--write FILE] [--json FILE]
                                                  what reviewed automatic results say about automatic
                                                  mode's "nothing here" threshold at this site, per
                                                  anatomy; --write keeps the changed ones in FILE
  medus pacs find --server URL [options]          list studies on a PACS (DICOMweb QIDO-RS)
  medus pacs pull --server URL --study UID --out <dir>
                                                  download a study (WADO-RS) as <dir>/<SeriesUID>/<SOPInstanceUID>.dcm
  medus send <files or folders>... --server URL   store DICOM files on a PACS (STOW-RS), e.g. a batch's
                                                  _seg.dcm and _sr.dcm; reports each instance
  medus batch --from-pacs URL (--study UID | --query [--patient ID] [--date RANGE] [--modality US])
        --anatomy <preset> --out <dir> [--report]
                                                  segment studies straight from the PACS and store the
                                                  Segmentation, SR (and PDF report) back into each study;
                                                  workers on several machines share the studies (claims)
  medus --help | medus <command> --help

Options for segment:
  --anatomy <preset>     anatomy preset (required for automatic mode); one of:
                         ${PRESETS.map((p) => p.key).join(', ')}
                         (aliases: nodule, thyroid, breast, head, ovary, carotid, nerve, vessel, symphysis)
                         or a group segmented in one go: ${PRESET_GROUPS.map((g) => `${g.key} (${g.anatomies.join(' + ')})`).join('; ')};
                         intrapartum also measures the angle of progression (automatic mode only)
  --box x0,y0,x1,y1      a box around the structure, in original-image pixels
  --point x,y[,label]    a click in original-image pixels; label 1 = positive (default), 0 = negative;
                         repeat for several clicks. No --box and no --point = automatic mode.
  --out <dir>            output folder (created if missing; must be writable)
  --frame <n|all>        frame of a multi-frame DICOM, from 0 (default 0), or all frames
  --overwrite            replace existing results (default: refuse and report)

Options for batch (also --anatomy, --out, --frame):
  --prompts <csv>        per-file prompts: columns file,frame,box,points (box "x0,y0,x1,y1",
                         points "x,y,1;x,y,0"); files not listed run in automatic mode
  --calibration-csv <f>  pixel sizes as filename,pixel_mm (default: a CSV in each image's folder
                         whose header names a file and a pixel size, as HC18's does)
  --user-calibrations <f>
                         the app's user-calibrations.json (in its data folder): calibrations the
                         user drew on these images in Review apply where the files have none
  --no-overlays          skip the overlay PNGs (faster)
  --report               a one-page PDF report per image (<name>_report.pdf): picture, measurements
                         with units and calibration source, GA where it applies, model and version
  --overwrite            replace files in --out that this batch did not write (default: refuse, exit 4)
  --workers <n>          images on the model at once, each worker thread with its own engine and
                         --threads / n onnxruntime threads (at least 1). Default: 2 on the CPU
                         provider with 2 or more threads (1.6× the images per second of one engine
                         on 2 cores), else 1; 1 runs one engine as before. Also batch --from-pacs
  Running the same command again resumes: finished images are skipped. Results made or corrected
  in Review (their JSON has a "study" section) are kept as they are, never overwritten.
  The output folder may not be the input folder.

Options for eval:
  --data <dir>           datasets folder in the shared layout (default: $MEDUS_DATASETS or ../shared/datasets)
  --prompt <modes>       box, point (one click), point3 (three clicks with refinement), auto, or a
                         comma list; default box
  --dataset <names>      comma list of dataset folders to include (default: all)
  --limit <n>            at most n test items per dataset (quick checks; not for reporting)
  --json <file>          write the report as JSON
  --hc                   head circumference instead of Dice: mean/median/95th-percentile absolute
                         error in mm against the sonographers' HC18 reference (--prompt auto|box)
  --aop                  angle of progression instead of Dice: AoP from the model's symphysis and
                         head masks against AoP from the expert masks, PSFHS test split, in degrees
                         (--prompt auto|box)
  --track                tracking as the app tracks a cine loop: boxed from the expert mask on each
                         sequence's first frame, then each frame from the answer before; Dice per
                         tracked frame, against the expert's box on every frame
  --split <which>        --track: test (default) or validation (held-out groups of the training
                         split, where the tracking margin is chosen)
  --track-margin <f>     --track: the box margin to try (default: the app's)
  --track-anchor on|off  --track: with the app's click at the previous answer's innermost point (on)
  --loops                --track: instead of real video, full-size pulsing loops made from training
                         images (for choosing the tracking prompt with --split validation; the
                         model has seen these images: no result to report)

Options for pacs and send:
  --server <url>         the PACS's DICOMweb root, e.g. http://pacs:8042/dicom-web (default: $MEDUS_PACS_URL)
  --patient <id>         find: Patient ID
  --date <range>         find: study date YYYYMMDD or YYYYMMDD-YYYYMMDD (either end may be left open)
  --modality <m>         find: a modality in the study, e.g. US
  --study <uid>          find: one Study Instance UID; pull: the study to download
  --json <file>          find: also write the studies as JSON
  --out <dir>            pull: output folder; existing files are refused unless --overwrite
  Credentials come from the environment only, never from a flag (flags show in the process list):
  MEDUS_PACS_USER and MEDUS_PACS_PASSWORD (HTTP basic), or MEDUS_PACS_TOKEN (bearer).
  Folders given to send are walked for .dcm files and files with the DICOM marker; files named
  directly are sent as they are.
  --deidentify           send: de-identify every file on the way (DICOM PS3.15 basic profile:
                         names and IDs replaced, dates shifted, UIDs replaced consistently within
                         the run, private attributes removed); a file whose header says its pixels
                         carry burned-in annotation is not sent. Off by default.

Options for batch --from-pacs (also --anatomy, --out, --frame, --report; --patient, --date, --modality):
  --from-pacs <url>      the PACS's DICOMweb root to read studies from and store results into
  --study <uid>          one study; or
  --query                every study the filters find (at least one of --patient, --date, --modality)
  --overlays             also write overlay PNGs into <out>/<StudyUID> (default: none)
  --worker-id <name>     how this worker is named in its claims and output (default: host:pid)
  --claim-timeout <min>  a claim older than this without results is taken over (default 30)
  Before working on a study a worker stores a claim into it ("MEDUS CLAIM" series) and goes on only
  if its claim wins; a study with MedUS results (or a "MEDUS DONE" marker) is skipped as done.

Common options:
  --model <dir>          model folder (default: $MEDUS_MODEL, else the model shipped with the app)
  --provider <name>      auto (default), cpu, cuda, dml or coreml; also $MEDUS_PROVIDER
  --threads <n>          onnxruntime threads (default 2; also $MEDUS_THREADS)
  --no-zoom              skip the model's zoomed second pass (automatic and box prompts): about
                         twice as fast, coarser outlines on small structures
  --site-thresholds <f>  automatic mode's presence thresholds this site chose from its reviews
                         (a site-thresholds.json: the app's, in its data folder, or one written by
                         medus site-thresholds --write); entries for other model versions are ignored

Exit codes:
  0 success · 1 some inputs failed (each reported, the rest processed) · 2 bad command line
  3 model missing/malformed or no provider could run it · 4 output folder unwritable, the input folder, or result exists
  5 no input images found · 6 PACS unreachable, timed out or refused the request or credentials
  130 interrupted (Ctrl-C)
`;

const OPTIONS = {
  anatomy: { type: 'string' },
  box: { type: 'string' },
  point: { type: 'string', multiple: true },
  out: { type: 'string' },
  frame: { type: 'string' },
  overwrite: { type: 'boolean' },
  prompts: { type: 'string' },
  'calibration-csv': { type: 'string' },
  'user-calibrations': { type: 'string' },
  'no-overlays': { type: 'boolean' },
  report: { type: 'boolean' },
  hc: { type: 'boolean' },
  aop: { type: 'boolean' },
  track: { type: 'boolean' },
  split: { type: 'string' },
  'track-margin': { type: 'string' },
  'track-anchor': { type: 'string' },
  loops: { type: 'boolean' },
  'site-thresholds': { type: 'string' },
  write: { type: 'string' },
  data: { type: 'string' },
  prompt: { type: 'string' },
  dataset: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  'no-zoom': { type: 'boolean' },
  server: { type: 'string' },
  patient: { type: 'string' },
  date: { type: 'string' },
  modality: { type: 'string' },
  study: { type: 'string' },
  'from-pacs': { type: 'string' },
  query: { type: 'boolean' },
  overlays: { type: 'boolean' },
  'worker-id': { type: 'string' },
  'claim-timeout': { type: 'string' },
  workers: { type: 'string' },
  deidentify: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

type EngineFlags = { model?: string | undefined; provider?: string | undefined; threads?: string | undefined; 'no-zoom'?: boolean | undefined; 'site-thresholds'?: string | undefined };

function openEngine(v: EngineFlags, cacheBytes?: number): Promise<SegmentationEngine> {
  return opened(v, cacheBytes, (dir, o) => SegmentationEngine.create(dir, o));
}

/** A batch's engine: a pool of engines in worker threads where that is faster (`--workers`, pool.ts), else one here. */
function openBatch(v: EngineFlags & { workers?: string | undefined }, io: Io): Promise<SegmentationEngine | EnginePool> {
  const workers = v.workers === undefined ? undefined : Number(v.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0)) throw new CliError(`--workers needs a positive whole number, got "${v.workers}"`, EXIT.USAGE);
  return opened(v, 16 * 1024 * 1024, (dir, o) => openBatchEngine(dir, { ...o, ...(workers ? { workers } : {}), onFallback: (why) => io.err(`note: the engine's worker threads did not start (${why}); the batch runs one engine in this thread`) }));
}

async function opened<E extends { siteThresholds: SiteThresholds; model: { manifest: ModelFolder['manifest'] } }>(v: EngineFlags, cacheBytes: number | undefined, create: (dir: string, o: EngineOptions) => Promise<E>): Promise<E> {
  const { dir } = chosenModel(v.model);
  const threads = v.threads === undefined ? undefined : Number(v.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) throw new CliError(`--threads needs a positive whole number, got "${v.threads}"`, EXIT.USAGE);
  if (v['site-thresholds'] && !existsSync(v['site-thresholds'])) throw new CliError(`--site-thresholds: ${v['site-thresholds']} does not exist`, EXIT.USAGE);
  try {
    const engine = await create(dir, { ...(v.provider ? { provider: v.provider } : {}), ...(threads ? { threads } : {}), ...(cacheBytes ? { cacheBytes } : {}), zoom: !v['no-zoom'] });
    if (v['site-thresholds']) engine.siteThresholds = (await SiteThresholdStore.open(resolve(v['site-thresholds']))).thresholds(engine.model.manifest);
    return engine;
  } catch (err) {
    if (err instanceof ModelLoadError) throw new CliError(err.message, EXIT.MODEL);
    const msg = err instanceof Error ? err.message : String(err);
    throw new CliError(msg, msg.startsWith('unknown execution provider') ? EXIT.USAGE : EXIT.MODEL);
  }
}

/** Batches measure one anatomy per image; a preset group (intrapartum) is for Review and `segment`. */
function singleAnatomy(key: string): string {
  const group = presetGroupFor(key);
  if (group) throw new CliError(`batch takes one anatomy per run; ${group.key} segments ${group.anatomies.join(' and ')} together, which Review and "medus segment --anatomy ${group.key}" do (or batch each anatomy on its own)`, EXIT.USAGE);
  return key;
}

/** `medus info`'s CUDA section: ready, or exactly which files are missing and where they come from. */
function cudaInfo(): { ready: boolean; missing: Array<{ file: string; from: string }>; message: string | null } {
  const report = probeCudaHere();
  return { ready: report.complete, missing: report.missing.map(({ file, from }) => ({ file, from })), message: cudaMissingMessage(report) };
}

/** " on cpu", or " on cpu, 2 workers × 1 thread" for a batch's pool. */
function onWhat(engine: SegmentationEngine | EnginePool): string {
  return `on ${engine.provider.active}${engine instanceof EnginePool ? `, ${engine.concurrency} workers × ${engine.threads} thread${engine.threads > 1 ? 's' : ''}` : ''}`;
}

function anatomyFor(engine: Pick<SegmentationEngine, 'anatomies' | 'model'>, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const key = resolveAnatomy(name);
  const group = presetGroupFor(key);
  const missing = (group ? group.anatomies : [key]).filter((a) => engine.anatomies.length && !engine.anatomies.includes(a));
  if (missing.length) {
    const groups = PRESET_GROUPS.filter((g) => g.anatomies.every((a) => engine.anatomies.includes(a))).map((g) => g.key);
    throw new CliError(`unknown anatomy "${name}" for ${engine.model.manifest.name} ${engine.model.manifest.version}; choose one of: ${[...engine.anatomies, ...groups].join(', ')}`, EXIT.USAGE);
  }
  return key;
}

export async function main(argv: string[], io: Io, isCancelled: () => boolean = () => false): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\nRun "medus --help" for usage.`);
    return EXIT.USAGE;
  }
  const { values: v, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (v.help || !command) {
    io.out(HELP);
    return command || v.help ? EXIT.OK : EXIT.USAGE;
  }
  try {
    if (command === 'segment') {
      if (!rest.length) throw new CliError('segment needs at least one file or folder', EXIT.USAGE);
      if (!v.out) throw new CliError('segment needs --out <dir>', EXIT.USAGE);
      const box = v.box ? parseBox(v.box) : undefined;
      const clicks = (v.point ?? []).map(parsePoint);
      let frame: number | 'all' = 0;
      if (v.frame !== undefined) {
        frame = v.frame === 'all' ? 'all' : Number(v.frame);
        if (frame !== 'all' && !(Number.isInteger(frame) && frame >= 0)) throw new CliError(`--frame needs a frame number from 0 or "all", got "${v.frame}"`, EXIT.USAGE);
      }
      if (!box && !clicks.length && !v.anatomy) throw new CliError('automatic mode (no --box, no --point) needs --anatomy', EXIT.USAGE);
      const engine = await openEngine(v);
      try {
        const anatomy = anatomyFor(engine, v.anatomy);
        io.err(`model ${engine.model.manifest.name} ${engine.model.manifest.version} on ${engine.provider.active}`);
        const s = await runSegment(engine, { inputs: rest, ...(anatomy ? { anatomy } : {}), ...(box ? { box } : {}), clicks, out: v.out, frame, overwrite: Boolean(v.overwrite) }, io.err, isCancelled);
        io.out(`${s.processed} image(s) segmented, ${s.failed.length} failed; results in ${resolve(v.out)}`);
        if (isCancelled()) return EXIT.INTERRUPTED;
        return s.failed.length ? EXIT.SOME_FAILED : EXIT.OK;
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'batch' && v['from-pacs'] !== undefined) {
      if (rest.length) throw new CliError(`batch --from-pacs reads its images from the PACS, not from ${rest.join(' ')}`, EXIT.USAGE);
      if (!v.out) throw new CliError('batch needs --out <dir>', EXIT.USAGE);
      if (!v.anatomy) throw new CliError('batch needs --anatomy <preset>', EXIT.USAGE);
      let frame: number | 'all' = 0;
      if (v.frame !== undefined) {
        frame = v.frame === 'all' ? 'all' : Number(v.frame);
        if (frame !== 'all' && !(Number.isInteger(frame) && frame >= 0)) throw new CliError(`--frame needs a frame number from 0 or "all", got "${v.frame}"`, EXIT.USAGE);
      }
      checkFromPacs(v);
      const engine = await openBatch(v, io);
      try {
        const anatomy = singleAnatomy(anatomyFor(engine, v.anatomy)!);
        io.err(`model ${engine.model.manifest.name} ${engine.model.manifest.version} ${onWhat(engine)}`);
        return await batchFromPacs(engine, v, { anatomy, out: v.out, frame, overlays: Boolean(v.overlays), report: Boolean(v.report) }, io, isCancelled);
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'batch') {
      if (!rest.length) throw new CliError('batch needs at least one folder or file', EXIT.USAGE);
      if (!v.out) throw new CliError('batch needs --out <dir>', EXIT.USAGE);
      if (!v.anatomy) throw new CliError('batch needs --anatomy <preset>', EXIT.USAGE);
      let frame: number | 'all' = 0;
      if (v.frame !== undefined) {
        frame = v.frame === 'all' ? 'all' : Number(v.frame);
        if (frame !== 'all' && !(Number.isInteger(frame) && frame >= 0)) throw new CliError(`--frame needs a frame number from 0 or "all", got "${v.frame}"`, EXIT.USAGE);
      }
      const engine = await openBatch(v, io);
      try {
        const anatomy = singleAnatomy(anatomyFor(engine, v.anatomy)!);
        io.err(`model ${engine.model.manifest.name} ${engine.model.manifest.version} ${onWhat(engine)}`);
        let progress: Progress | undefined;
        let s;
        try {
          s = await runBatch(
            engine,
            {
              inputs: rest,
              anatomy,
              out: v.out,
              frame,
              overlays: !v['no-overlays'],
              overwrite: Boolean(v.overwrite),
              report: Boolean(v.report),
              ...(v.prompts ? { promptsCsv: resolve(v.prompts) } : {}),
              ...(v['calibration-csv'] ? { sidecarCsv: resolve(v['calibration-csv']) } : {}),
              ...(v['user-calibrations'] ? { userCalibrations: await UserCalibrationStore.open(resolve(v['user-calibrations'])) } : {}),
            },
            (p) => {
              progress ??= new Progress(p.total, 'batch');
              progress.tick(p.done, `${p.failed} failed  ${p.current}`);
            },
            (file, msg) => io.err(`\nerror: ${msg.includes(file) ? msg : `${file}: ${msg}`}`),
            isCancelled,
          );
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          if (err instanceof CliError || err instanceof FileError) throw err;
          if (/different batch job/.test(msg)) throw new CliError(msg, EXIT.OUTPUT);
          if (err instanceof PromptsCsvError) throw new CliError(msg, EXIT.USAGE);
          throw err;
        }
        progress?.end();
        io.out(`${s.processed} processed, ${s.skipped} already done, ${s.failed.length} failed${s.cancelled ? ' (cancelled: run the same command to resume)' : ''}; results in ${resolve(v.out)} (results.csv, coco.json)`);
        if (s.cancelled) return EXIT.INTERRUPTED;
        if (!s.total) return EXIT.NO_INPUT;
        return s.failed.length ? EXIT.SOME_FAILED : EXIT.OK;
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'eval' && v.track) {
      const data = resolve(v.data ?? defaultDatasetsDir());
      const split = v.split ?? 'test';
      if (split !== 'test' && split !== 'validation') throw new CliError('--split takes test or validation', EXIT.USAGE);
      const margin = v['track-margin'] === undefined ? undefined : Number(v['track-margin']);
      if (margin !== undefined && !(margin >= 0 && margin <= 1)) throw new CliError('--track-margin takes a fraction from 0 to 1', EXIT.USAGE);
      const limit = v.limit === undefined ? undefined : Number(v.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new CliError(`--limit needs a positive whole number`, EXIT.USAGE);
      const anchorFlag = v['track-anchor'] ?? 'on';
      if (anchorFlag !== 'on' && anchorFlag !== 'off') throw new CliError('--track-anchor takes on or off', EXIT.USAGE);
      const anchor = anchorFlag === 'on';
      const engine = await openEngine(v);
      try {
        let progress: Progress | undefined;
        if (v.loops) {
          const r = await evaluateTrackingLoops(engine, data, {
            ...(margin !== undefined ? { margin } : {}),
            anchor,
            onProgress: (d, t) => {
              progress ??= new Progress(t, 'loops');
              progress.tick(d, '');
            },
          });
          progress?.end();
          io.out(`tracking, full-size pulsing loops from training images (not a result: the model has seen them), box margin ${r.margin}, anchor click ${r.anchor ? 'on' : 'off'}`);
          io.out(`${r.loops} loops, ${r.frames} frames after the first: Dice ${r.dice_mean.toFixed(3)}; last frame ${r.last_frame_dice_mean.toFixed(3)} (lowest ${r.last_frame_dice_min.toFixed(3)})`);
          if (v.json) await writeFile(resolve(v.json), JSON.stringify(r, null, 2) + '\n');
          return EXIT.OK;
        }
        const reports = await evaluateTracking(engine, data, {
          anchor,
          split,
          ...(margin !== undefined ? { margin } : {}),
          ...(limit ? { maxSequences: limit } : {}),
          onProgress: (d, t) => {
            progress ??= new Progress(t, 'track');
            progress.tick(d, '');
          },
        });
        progress?.end();
        io.out(`tracking, ${split} (${engine.model.manifest.name} ${engine.model.manifest.version}), box margin ${reports[0]?.margin ?? ''}`);
        for (const r of reports)
          io.out(
            r.sequences
              ? `${r.dataset} (${r.anatomy}): ${r.sequences} sequences, ${r.frames} frames after the first; Dice ${r.dice_mean.toFixed(3)} (a frame after a loss counting 0), lost in ${r.lost}; on the ${r.tracked_frames} tracked frames ${r.tracked_dice_mean.toFixed(3)} (10th percentile ${r.tracked_dice_p10.toFixed(3)}), with the expert's box on each ${r.expert_box_dice_mean.toFixed(3)}`
              : `${r.dataset} (${r.anatomy}): no sequences in this split`,
          );
        if (v.json) await writeFile(resolve(v.json), JSON.stringify(reports, null, 2) + '\n');
        return EXIT.OK;
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'eval' && (v.aop || v.hc)) {
      const which = v.aop ? 'aop' : 'hc';
      const data = resolve(v.data ?? defaultDatasetsDir());
      const prompt = (v.prompt ?? 'auto') as 'auto' | 'box';
      if (prompt !== 'auto' && prompt !== 'box') throw new CliError(`--${which} takes --prompt auto or box`, EXIT.USAGE);
      const limit = v.limit === undefined ? undefined : Number(v.limit);
      const engine = await openEngine(v);
      try {
        let progress: Progress | undefined;
        const onProgress = (d: number, t: number) => {
          progress ??= new Progress(t, which);
          progress.tick(d, '');
        };
        const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
        const model = `${engine.model.manifest.name} ${engine.model.manifest.version}`;
        let report: object;
        if (which === 'aop') {
          const r = await evaluateAop(engine, data, prompt, limit, onProgress);
          progress?.end();
          io.out(`PSFHS test split, ${r.n} images, prompt ${r.prompt} (${model})`);
          io.out(`AoP absolute error against the expert masks: mean ${r.aop_mae_deg.toFixed(2)}°, median ${r.aop_median_deg.toFixed(2)}°, 95th percentile ${r.aop_p95_deg.toFixed(2)}°; mean signed ${sign(r.aop_mean_signed_deg)}°; no angle in ${r.not_found}`);
          io.out(`Dice: pubic symphysis ${r.dice.symphysis.toFixed(4)}, fetal head ${r.dice.head.toFixed(4)}; expert masks with no angle (left out): ${r.expert_unmeasurable}`);
          report = r;
        } else {
          const r = await evaluateHc(engine, data, prompt, limit, onProgress);
          progress?.end();
          io.out(`HC18 test split, ${r.n} images, prompt ${r.prompt} (${model})`);
          io.out(`HC absolute error: mean ${r.hc_mae_mm.toFixed(2)} mm, median ${r.hc_median_mm.toFixed(2)} mm, 95th percentile ${r.hc_p95_mm.toFixed(2)} mm; no head found in ${r.not_found}; mean signed error ${sign(r.hc_mean_signed_mm)} mm`);
          for (const s of r.by_reference_hc) io.out(`  reference HC ${s.range}: n ${s.n}, mean ${s.n - s.not_found ? s.hc_mae_mm.toFixed(2) : '–'} mm, median ${s.n - s.not_found ? s.hc_median_mm.toFixed(2) : '–'} mm, no head found in ${s.not_found}`);
          io.out(`from the ground-truth masks: mean ${r.gt_mask_hc_mae_mm.toFixed(2)} mm (the bound a mask can reach), signed ${sign(r.gt_mask_hc_mean_signed_mm)} mm`);
          io.out(`outline offset from the reference ellipse (radial, image pixels): model ${sign(r.hc_outline_offset_px)} px, ground-truth masks ${sign(r.gt_mask_outline_offset_px)} px`);
          report = r;
        }
        if (v.json) await writeFile(resolve(v.json), JSON.stringify(report, null, 2) + '\n');
        return EXIT.OK;
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'eval') {
      const data = resolve(v.data ?? defaultDatasetsDir());
      const prompts = (v.prompt ?? 'box').split(',').map((s) => s.trim()) as EvalPrompt[];
      const bad = prompts.filter((p) => !EVAL_PROMPTS.includes(p));
      if (bad.length) throw new CliError(`unknown --prompt ${bad.join(', ')}; choose from ${EVAL_PROMPTS.join(', ')}`, EXIT.USAGE);
      const limit = v.limit === undefined ? undefined : Number(v.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new CliError(`--limit needs a positive whole number`, EXIT.USAGE);
      const engine = await openEngine(v);
      try {
        io.err(`evaluating ${engine.model.manifest.name} ${engine.model.manifest.version} on ${engine.provider.active}, test split of ${data}`);
        let progress: Progress | undefined;
        const reports = await evaluate(engine, {
          datasetsDir: data,
          prompts,
          ...(v.dataset ? { only: v.dataset.split(',') } : {}),
          ...(limit ? { limit } : {}),
          onSkip: (message) => io.err(message),
          onProgress: (done, total, item) => {
            progress ??= new Progress(total, 'eval');
            progress.tick(done, `${item.dataset}/${item.id}`);
          },
        });
        progress?.end();
        for (const r of reports) {
          io.out(`\nprompt: ${r.prompt}   (${r.model}, ${r.provider}, test split)`);
          io.out(`${'dataset'.padEnd(10)} ${'n'.padStart(5)} ${'Dice'.padStart(7)} ${'IoU'.padStart(7)} ${'HD95px'.padStart(8)}`);
          for (const [name, d] of Object.entries(r.datasets)) {
            const fe = d.false_empty_rate !== undefined ? `   false-empty ${(100 * d.false_empty_rate).toFixed(1)}%` : '';
            const nt = `${fe}${d.no_target ? `   no-target empty ${(100 * d.no_target.empty_rate).toFixed(0)}% of ${d.no_target.n}` : ''}`;
            io.out(`${name.padEnd(10)} ${String(d.n).padStart(5)} ${d.dice.toFixed(4).padStart(7)} ${d.iou.toFixed(4).padStart(7)} ${d.hd95.toFixed(2).padStart(8)}${nt}`);
          }
          io.out(`${'mean'.padEnd(10)} ${''.padStart(5)} ${r.mean.dice.toFixed(4).padStart(7)} ${r.mean.iou.toFixed(4).padStart(7)} ${r.mean.hd95.toFixed(2).padStart(8)}`);
          if (r.no_target) io.out(`no-target images returned empty: ${(100 * r.no_target.empty_rate).toFixed(1)}% of ${r.no_target.n}`);
        }
        if (v.json) {
          const body = reports.length === 1 ? reports[0] : { model: reports[0]?.model, runs: reports };
          await writeFile(resolve(v.json), JSON.stringify(body, null, 2) + '\n');
        }
        return EXIT.OK;
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'pacs') {
      const [sub, ...extra] = rest;
      if (extra.length) throw new CliError(`pacs ${sub ?? ''} takes no file arguments (got ${extra.join(' ')})`, EXIT.USAGE);
      if (sub === 'find') return await pacsFind(v, io);
      if (sub === 'pull') return await pacsPull(v, io);
      throw new CliError(`pacs needs "find" or "pull"${sub ? `, not "${sub}"` : ''}; run "medus --help"`, EXIT.USAGE);
    }
    if (command === 'send') return await pacsSend(rest, v, io);
    if (command === 'site-thresholds') {
      if (!rest.length) throw new CliError('site-thresholds needs at least one results folder (a batch --out folder, or the <folder>-medus folder the app saves Review results in)', EXIT.USAGE);
      const engine = await openEngine(v);
      try {
        const m = engine.model.manifest;
        const reviews = await siteReviewsIn(rest.map((f) => resolve(f)), m);
        const proposals = proposeSiteThresholds(reviews, m);
        io.out(`${reviews.length} reviewed automatic answers for ${m.name} ${m.version} in ${rest.join(', ')}`);
        for (const p of proposals) {
          const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(0)}%`);
          io.out(`${p.anatomy}: ${p.changed ? `${p.modelThreshold.toFixed(2)} -> ${p.threshold.toFixed(2)}` : `stays ${p.modelThreshold.toFixed(2)}`} (${p.positives} with a target, ${p.negatives} without; targets called empty ${pct(p.before.falseEmpty)} -> ${pct(p.after.falseEmpty)}, empties kept empty ${pct(p.before.trueEmpty)} -> ${pct(p.after.trueEmpty)}): ${p.reason}`);
        }
        if (v.write) {
          const store = await SiteThresholdStore.open(resolve(v.write));
          for (const p of proposals.filter((x) => x.changed))
            await store.set(m, p.anatomy, entryFromProposal(p));
          io.out(`written to ${resolve(v.write)} (use with --site-thresholds, or copy over the app's site-thresholds.json)`);
        }
        if (v.json) await writeFile(resolve(v.json), JSON.stringify({ model: { name: m.name, version: m.version }, reviews: reviews.length, proposals }, null, 2) + '\n');
        return EXIT.OK;
      } finally {
        await engine.dispose();
      }
    }
    if (command === 'info') {
      const engine = await openEngine(v);
      const m = engine.model.manifest;
      const { source } = chosenModel(v.model);
      // what runs the command line: the installed app's own binary (its --medus-cli mode) or a Node.js
      const runtime = process.versions.electron ? `MedUS Workstation (Electron ${process.versions.electron})` : `Node.js ${process.versions.node}`;
      // on Linux x64, every piece the CUDA provider lacks, whichever provider ended up active
      const cuda = process.platform === 'linux' && process.arch === 'x64' ? cudaInfo() : undefined;
      io.out(JSON.stringify({ model: { name: m.name, version: m.version, dir: engine.model.dir, source, anatomies: m.anatomies ?? [] }, provider: engine.provider, threads: engine.threads, runtime, ...(cuda ? { cuda } : {}) }, null, 2));
      await engine.dispose();
      return EXIT.OK;
    }
    throw new CliError(`unknown command "${command}"; run "medus --help"`, EXIT.USAGE);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      return err.code;
    }
    if (err instanceof FileError) {
      io.err(`error: ${err.message}`);
      return err.code === 'no-input' ? EXIT.NO_INPUT : EXIT.OUTPUT;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.SOME_FAILED;
  }
}

/**
 * The process entry: Ctrl-C (or SIGTERM, as a service manager or `kill` sends) finishes the current
 * image and writes the tables (nothing half-written); a second signal quits at once.
 */
export async function cliEntry(argv: string[]): Promise<number> {
  let cancelled = false;
  const stop = (signal: string) => {
    if (cancelled) process.exit(EXIT.INTERRUPTED);
    cancelled = true;
    process.stderr.write(`\n${signal}: stopping after the current image (again to quit now)\n`);
  };
  const onInt = () => stop('interrupted');
  const onTerm = () => stop('terminated');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let code: number;
  try {
    code = await main(argv, { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }, () => cancelled);
  } finally {
    // the run is over: signals mean what they normally do again (the process may live on, as a host of this call)
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  process.exitCode = code;
  // the installed app's command-line mode exits with it (electron/main/cli-mode.ts)
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await cliEntry(process.argv.slice(2));
