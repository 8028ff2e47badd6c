/**
 * Speed and memory benchmark (never a unit test). On the HC18 originals by default:
 *
 * - encoder and decoder latency (median of repeated runs), each against a GEMM roofline measured
 *   in the same run with the same onnxruntime (bench/onnx-compute.ts), and the encoder's GFLOP/s;
 * - click latency on a cached image: prompt → decoder → mask at the original size → cleaning →
 *   outline → measurements, with each part;
 * - automatic mode end to end (decode, encoder and decoder passes with the zoom, post-processing,
 *   measurement, mask PNG), with and without the zoomed passes, and the same images' onnxruntime
 *   time alone (inference only), whose ratio is the pipeline's efficiency;
 * - a batch over a large folder (`--batch-images N`, hard links to the sample images) writing
 *   masks, overlays, JSON, CSV and COCO, with images per second and memory along the way: with one
 *   engine (one image on the model at a time) and, in the same run, with the engine pool `medus
 *   batch` uses by default (`--workers N` to choose: engines in worker threads, electron/engine/pool.ts).
 *
 * `--baseline DIR` runs the same measurements in the same process on another checkout of this
 * repository (e.g. `git worktree add --detach /tmp/medus-base <commit>`), interleaved with this
 * one, so that ratios against the code before a change do not depend on how busy the machine was.
 *
 *   npm run bench [-- --folder DIR] [--runs N] [--repeats N] [--provider P] [--threads T]
 *                 [--batch-images N] [--workers N] [--baseline DIR] [--json FILE]
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { DEFAULT_MODEL } from '../electron/cli/main';
import { CalibrationResolver } from '../electron/calibration/resolve';
import { defaultDatasetsDir } from '../electron/evaluation/datasets';
import { percentile } from '../electron/evaluation/metrics';
import type { Calibration } from '../electron/imaging/types';
import { presetFor } from '../electron/shared/presets';
import { ResultsWriter } from '../electron/study/save';
import { Study, type StudyEngine } from '../electron/study/study';
import { type BatchEngine, openBatchEngine } from '../electron/engine/pool';
import { inferenceOnlyPool } from './inference-only';
import { sessionOptions } from '../electron/engine/engine';
import { countGflop, gemmRoofline } from './onnx-compute';

const { values: v } = parseArgs({
  options: {
    folder: { type: 'string' },
    runs: { type: 'string', default: '30' },
    repeats: { type: 'string', default: '2' },
    provider: { type: 'string' },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
    model: { type: 'string' },
    limit: { type: 'string', default: '60' },
    'batch-images': { type: 'string', default: '300' },
    // the pooled batch's workers (default: as medus batch chooses for the provider and threads)
    workers: { type: 'string' },
    baseline: { type: 'string' },
    // 'off': both sides' sessions with the intra-op pool's spinning off (engine's options otherwise), to weigh that option
    spinning: { type: 'string', default: 'on' },
  },
});

/** The parts of a checkout the benchmark drives; an older checkout has the same shapes. */
interface Pipeline {
  label: string;
  SegmentationEngine: typeof import('../electron/engine/engine').SegmentationEngine;
  loadFrame: typeof import('../electron/imaging/load').loadFrame;
  maskPng: typeof import('../electron/export/mask').maskPng;
  measureMask: typeof import('../electron/measurement/measure').measureMask;
  runBatch: typeof import('../electron/batch/batch').runBatch;
  /** The engines `medus batch` opens; absent in a checkout from before engine pools. */
  openBatchEngine: typeof openBatchEngine | null;
}
type Engine = Awaited<ReturnType<Pipeline['SegmentationEngine']['create']>>;

async function pipelineAt(root: string, label: string): Promise<Pipeline> {
  const load = <T>(rel: string) => import(pathToFileURL(join(root, rel)).href) as Promise<T>;
  const [engine, imaging, mask, measure, batch] = await Promise.all([
    load<typeof import('../electron/engine/engine')>('electron/engine/engine.ts'),
    load<typeof import('../electron/imaging/load')>('electron/imaging/load.ts'),
    load<typeof import('../electron/export/mask')>('electron/export/mask.ts'),
    load<typeof import('../electron/measurement/measure')>('electron/measurement/measure.ts'),
    load<typeof import('../electron/batch/batch')>('electron/batch/batch.ts'),
  ]);
  const pool = existsSync(join(root, 'electron/engine/pool.ts')) ? await load<typeof import('../electron/engine/pool')>('electron/engine/pool.ts') : null;
  return { label, SegmentationEngine: engine.SegmentationEngine, loadFrame: imaging.loadFrame, maskPng: mask.maskPng, measureMask: measure.measureMask, runBatch: batch.runBatch, openBatchEngine: pool?.openBatchEngine ?? null };
}

// onnxruntime's own time, whoever calls it in this thread: the inference-only baseline of the same
// passes; and how many encoder and decoder passes there were
let ortMs = 0;
let encoderRuns = 0;
let decoderRuns = 0;
const sessionProto = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;
const run = sessionProto.run;
sessionProto.run = async function (this: ort.InferenceSession, ...args: Parameters<typeof run>) {
  if (this.inputNames.includes('image')) encoderRuns++;
  else decoderRuns++;
  const t = performance.now();
  try {
    return await run.apply(this, args);
  } finally {
    ortMs += performance.now() - t;
  }
} as typeof run;

let peakRss = process.memoryUsage().rss;
const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

const current = await pipelineAt(resolve(import.meta.dirname, '..'), 'this checkout');
const baselineRoot = v.baseline ? resolve(v.baseline) : null;
if (baselineRoot && !existsSync(join(baselineRoot, 'electron/engine/engine.ts'))) throw new Error(`--baseline ${baselineRoot} is not a checkout of this repository`);
const base = baselineRoot ? await pipelineAt(baselineRoot, `baseline ${baselineRoot}`) : null;

const modelDir = resolve(v.model ?? process.env.MEDUS_MODEL ?? DEFAULT_MODEL);
// --spinning off: the engine's session options (engine.ts, sessionOptions) with the thread pool's
// spinning off whatever MEDUS_SPINNING says, on the CPU, for both sides (a baseline checkout may spin)
const noSpin = v.spinning === 'off';
const noSpinFactory = (path: string, provider: string, threads: number) => {
  if (provider !== 'cpu') throw new Error('--spinning off is for the CPU provider');
  return ort.InferenceSession.create(path, { ...sessionOptions('cpu', threads), extra: { session: { intra_op: { allow_spinning: '0' } } } });
};
const common = { ...(v.provider ? { provider: v.provider } : {}), ...(noSpin ? { provider: 'cpu', sessionFactory: noSpinFactory } : {}), threads: Number(v.threads), cacheBytes: 64 * 1024 * 1024 };
const runs = Number(v.runs);
const repeats = Math.max(1, Number(v.repeats));
const folder = resolve(v.folder ?? join(defaultDatasetsDir(), 'hc18', 'orig'));
const files = readdirSync(folder).filter((f) => /\.(jpe?g|png|bmp|tiff?|webp|dcm)$/i.test(f) && !f.includes('_mask')).sort().slice(0, Number(v.limit)).map((f) => join(folder, f));
if (!files.length) throw new Error(`no images in ${folder}`);
const anatomyOf = (e: Pick<Engine, 'anatomies'>) => (e.anatomies.includes('fetal-head') ? 'fetal-head' : e.anatomies[0]!);
// calibrated, as HC18's sidecar makes it, so that a fetal head's whole measurement (GA too) is timed
const calibration: Calibration = { source: 'sidecar-csv', mmPerPixelX: 0.1, mmPerPixelY: 0.1, notes: [] };
const median = (xs: number[]) => percentile(xs, 50);

// --- encoder and decoder latency, one pass each (this checkout; the model and onnxruntime are the same in a baseline)
const engine = await current.SegmentationEngine.create(modelDir, common);
const plain = await current.SegmentationEngine.create(modelDir, { ...common, zoom: false });
const first = await current.loadFrame(files[0]!);
await plain.embed({ key: 'warmup', image: first.image });
const enc: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await plain.embed({ key: `bench-${i}`, image: first.image });
  enc.push(performance.now() - t);
}
const dec: number[] = [];
const { width: w0, height: h0 } = first.image;
const box = { x0: w0 * 0.2, y0: h0 * 0.2, x1: w0 * 0.8, y1: h0 * 0.8 };
for (let i = 0; i < runs; i++) {
  const s = await plain.segment({ key: 'warmup', image: first.image }, { clicks: [], box, anatomy: anatomyOf(plain) });
  dec.push(s.timings.decodeMs);
}
// onnxruntime alone on the same tensors: what the engine's timings add around it
const ortEnc: number[] = [];
const ortDec: number[] = [];
let encoderGflop = Number.NaN;
let decoderGflop = Number.NaN;
{
  const s = engine.model.manifest.input_size;
  const image = new ort.Tensor('float32', engine.preprocess(first.image), [1, engine.model.manifest.channels, s, s]);
  // the engine's own session options, the decoder on one thread as the engine runs it on the CPU
  const encoder = await ort.InferenceSession.create(engine.model.encoderPath, sessionOptions('cpu', engine.threads));
  const decoder = await ort.InferenceSession.create(engine.model.decoderPath, sessionOptions('cpu', 1));
  const emb = await encoder.run({ image });
  const decFeeds: Record<string, ort.Tensor> = {
    ...emb,
    point_coords: new ort.Tensor('float32', new Float32Array([60, 40, 200, 210]), [1, 2, 2]),
    point_labels: new ort.Tensor('float32', new Float32Array([2, 3]), [1, 2]),
    mask_input: new ort.Tensor('float32', new Float32Array(64 * 64), [1, 1, 64, 64]),
    has_mask_input: new ort.Tensor('float32', new Float32Array([0]), [1]),
    ...(engine.model.manifest.anatomies ? { anatomy: new ort.Tensor('int64', BigInt64Array.from([3n]), [1]) } : {}),
  };
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await encoder.run({ image });
    ortEnc.push(performance.now() - t);
    t = performance.now();
    await decoder.run(decFeeds);
    ortDec.push(performance.now() - t);
  }
  encoderGflop = await countGflop(engine.model.encoderPath, { image }, engine.threads);
  decoderGflop = await countGflop(engine.model.decoderPath, decFeeds, engine.threads);
  await encoder.release();
  await decoder.release();
}
const roofline = await gemmRoofline(engine.threads);

// --- end to end over the folder, automatic mode: decode, passes, post-process, measure, mask PNG;
// as the batch does it, the next file is decoded while this one is on the model, and the PNG is
// encoded while the next image goes on (at most 4 in flight)
async function endToEnd(p: Pipeline, e: Engine): Promise<{ perS: number; inferencePerS: number; zoomed: number; encoderPasses: number; decoderPasses: number }> {
  const anatomy = anatomyOf(e);
  const family = presetFor(anatomy).family;
  const ort0 = ortMs;
  const runs0 = [encoderRuns, decoderRuns];
  const t0 = performance.now();
  let zoomed = 0;
  const pngs = new Set<Promise<unknown>>();
  let next = p.loadFrame(files[0]!);
  for (let i = 0; i < files.length; i++) {
    const fr = await next;
    if (i + 1 < files.length) next = p.loadFrame(files[i + 1]!);
    const s = await e.segment({ key: fr.key, image: fr.image }, { clicks: [], anatomy });
    if (s.zoomedTo) zoomed++;
    p.measureMask(s.mask, s.width, s.height, family, calibration, s.polygons);
    const png = p.maskPng(s.mask, s.width, s.height);
    pngs.add(png);
    void png.finally(() => pngs.delete(png));
    while (pngs.size >= 4) await Promise.race(pngs);
  }
  await Promise.all(pngs);
  const secs = (performance.now() - t0) / 1000;
  return { perS: files.length / secs, inferencePerS: files.length / ((ortMs - ort0) / 1000), zoomed, encoderPasses: (encoderRuns - runs0[0]!) / files.length, decoderPasses: (decoderRuns - runs0[1]!) / files.length };
}

// --- the same, through the engines `medus batch` opens (a pool of workers on the CPU): as many
// images in flight as workers, plus one being decoded, measured and written
async function endToEndPooled(p: Pipeline, e: BatchEngine & Pick<Engine, 'anatomies'>): Promise<number> {
  const anatomy = anatomyOf(e);
  const family = presetFor(anatomy).family;
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const fr = await p.loadFrame(files[next++]!);
      const s = await e.segment({ key: `pooled ${performance.now()} ${fr.key}`, image: fr.image }, { clicks: [], anatomy });
      p.measureMask(s.mask, s.width, s.height, family, calibration, s.polygons);
      await p.maskPng(s.mask, s.width, s.height);
    }
  };
  await Promise.all(Array.from({ length: (e.concurrency ?? 1) + 1 }, lane));
  return files.length / ((performance.now() - t0) / 1000);
}

// --- a click on a cached image, from prompt to outline and measurements ready for the page
async function clicks(p: Pipeline, e: Engine): Promise<{ total: number[]; decoder: number[]; upsampling: number[]; cleaning: number[]; contour: number[]; measurement: number[] }> {
  const fr = await p.loadFrame(files[0]!);
  const anatomy = anatomyOf(e);
  const family = presetFor(anatomy).family;
  const r = { total: [] as number[], decoder: [] as number[], upsampling: [] as number[], cleaning: [] as number[], contour: [] as number[], measurement: [] as number[] };
  await e.embed({ key: fr.key, image: fr.image });
  const { width: w, height: h } = fr.image;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const s = await e.segment({ key: fr.key, image: fr.image }, { clicks: [{ x: w / 2 + (i % 5) - 2, y: h / 2, label: 'positive' }], anatomy });
    const t1 = performance.now();
    p.measureMask(s.mask, s.width, s.height, family, calibration, s.polygons);
    const t2 = performance.now();
    r.total.push(t2 - t0);
    r.decoder.push(s.timings.decodeMs);
    r.upsampling.push(s.timings.upsampleMs ?? Number.NaN);
    r.cleaning.push(s.timings.cleanMs ?? Number.NaN);
    r.contour.push(s.timings.contourMs ?? Number.NaN);
    r.measurement.push(t2 - t1);
  }
  return r;
}

// --- batch: a large folder (hard links to the sample images, so no disk is used), everything written
async function batchRun(p: Pipeline, e: Parameters<Pipeline['runBatch']>[0] & Pick<Engine, 'anatomies'>, n: number, overlays: boolean) {
  const tmp = mkdtempSync(join(tmpdir(), 'medus-bench-'));
  try {
    const inDir = join(tmp, 'in');
    mkdirSync(inDir);
    for (let i = 0; i < n; i++) linkSync(files[i % files.length]!, join(inDir, `img${String(i).padStart(6, '0')}${extname(files[i % files.length]!)}`));
    peakRss = process.memoryUsage().rss;
    let quarter = 0;
    const tb = performance.now();
    await p.runBatch(e, { inputs: [inDir], anatomy: anatomyOf(e), out: join(tmp, 'out'), frame: 0, overlays }, (pr) => {
      if (!quarter && pr.done >= n / 4) quarter = process.memoryUsage().rss;
    }, () => undefined, () => false);
    const secs = (performance.now() - tb) / 1000;
    return { images: n, images_per_s: n / secs, peak_rss_mb: Math.max(peakRss, process.memoryUsage().rss) / 2 ** 20, rss_at_quarter_mb: quarter / 2 ** 20, rss_at_end_mb: process.memoryUsage().rss / 2 ** 20 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface Side {
  p: Pipeline;
  zoom: Engine;
  plain: Engine;
  e2e: number[];
  e2eInference: number[];
  e2eNoZoom: number[];
  zoomed: number;
  encoderPasses: number;
  decoderPasses: number;
  click: Awaited<ReturnType<typeof clicks>> | null;
}
const sides: Side[] = [{ p: current, zoom: engine, plain, e2e: [], e2eInference: [], e2eNoZoom: [], zoomed: 0, encoderPasses: 0, decoderPasses: 0, click: null }];
if (base) sides.unshift({ p: base, zoom: await base.SegmentationEngine.create(modelDir, common), plain: await base.SegmentationEngine.create(modelDir, { ...common, zoom: false }), e2e: [], e2eInference: [], e2eNoZoom: [], zoomed: 0, encoderPasses: 0, decoderPasses: 0, click: null });
// interleaved, so that a busy spell of the machine falls on both sides alike
for (let r = 0; r < repeats; r++)
  for (const s of sides) {
    const z = await endToEnd(s.p, s.zoom);
    s.e2e.push(z.perS);
    s.e2eInference.push(z.inferencePerS);
    s.zoomed = z.zoomed;
    s.encoderPasses = z.encoderPasses;
    s.decoderPasses = z.decoderPasses;
    s.e2eNoZoom.push((await endToEnd(s.p, s.plain)).perS);
  }
for (const s of sides) s.click = await clicks(s.p, s.zoom);
const singleRss = peakRss;

// a click in Review: through the study model (segment, measure, save the record, mask and results.csv)
// against the engine's own answer to the same clicks on the same cached image, in this run
const review = await (async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'medus-bench-review-'));
  const image = files[0]!;
  // decoded once and kept, as the app's engine host keeps the frames the user is looking at (host.ts)
  const decoded = new Map<string, ReturnType<Pipeline['loadFrame']>>();
  const frameOf = (path: string, frame: number) => {
    const k = `${path}#${frame}`;
    if (!decoded.has(k)) decoded.set(k, current.loadFrame(path, frame));
    return decoded.get(k)!;
  };
  const studyEngine: StudyEngine = {
    open: async (path, frame) => {
      const f = await frameOf(path, frame);
      return { path, frame, frameCount: f.source.frameCount, width: f.image.width, height: f.image.height, format: f.source.format, pixels: f.image.data, calibration: f.source.calibration, regions: f.source.regions, details: {} };
    },
    segment: async (path, frame, prompt) => {
      const f = await frameOf(path, frame);
      return engine.segment({ key: f.key, image: f.image }, prompt);
    },
    model: async () => ({ name: engine.model.manifest.name, version: engine.model.manifest.version, provider: engine.provider.active }),
  };
  const study = await Study.open({ root: folder, files: [{ path: image, name: 'a', relative: 'a', stem: 'a' }], engine: studyEngine, resolver: new CalibrationResolver(), writer: new ResultsWriter(tmp), resultsNote: null });
  const anatomy = anatomyOf(engine);
  await study.openImage(image, 0);
  await study.intent(image, 0, { type: 'automatic', object: 1, anatomy });
  const fr = await current.loadFrame(image);
  const w = fr.image.width;
  const h = fr.image.height;
  const viaStudy: number[] = [];
  const viaEngine: number[] = [];
  for (let i = 0; i < Math.min(runs, 12); i++) {
    const x = w / 2 + (i % 5) - 2;
    const t0 = performance.now();
    await engine.segment({ key: fr.key, image: fr.image }, { clicks: [{ x, y: h / 2, label: 'positive' }], anatomy });
    viaEngine.push(performance.now() - t0);
    const t1 = performance.now();
    await study.intent(image, 0, { type: 'add-click', object: 1, anatomy, x, y: h / 2, label: 'positive' });
    viaStudy.push(performance.now() - t1);
    await study.settled();
  }
  rmSync(tmp, { recursive: true, force: true });
  return { click_ms: median(viaStudy), engine_click_ms: median(viaEngine) };
})();

const batchN = Number(v['batch-images']);
const batches: Array<{ side: Side; result: Awaited<ReturnType<typeof batchRun>> }> = [];
const noOverlays: Array<{ side: Side; result: Awaited<ReturnType<typeof batchRun>> }> = [];
if (batchN > 0)
  for (const s of sides) {
    batches.push({ side: s, result: await batchRun(s.p, s.zoom, batchN, true) });
    noOverlays.push({ side: s, result: await batchRun(s.p, s.zoom, Math.max(1, Math.round(batchN / 3)), false) });
  }
// the same batches through the engine(s) `medus batch` opens by default: a pool of engines in
// worker threads on the CPU (1 worker = the engine used above); a baseline with engine pools runs
// its own in the same run, before this checkout's, so that batch ratios compare pool with pool
async function pooledRun(p: Pipeline, open: typeof openBatchEngine, withInferenceOnly: boolean) {
  const pe = await open(modelDir, { ...(v.provider ? { provider: v.provider } : {}), threads: Number(v.threads), cacheBytes: 64 * 1024 * 1024, ...(v.workers ? { workers: Number(v.workers) } : {}) });
  try {
    // a baseline's pool is its own module's class: asked, not checked with instanceof
    const workers = (pe as BatchEngine).concurrency ?? 1;
    const threads = pe.threads;
    const e2e: number[] = [];
    for (let r = 0; r < repeats; r++) e2e.push(await endToEndPooled(p, pe));
    // the model alone with the same workers, threads and passes per image
    const inferenceOnly = withInferenceOnly
      ? await inferenceOnlyPool(
          { provider: pe.provider.active, encoderPath: engine.model.encoderPath, decoderPath: engine.model.decoderPath, threads, encoderPasses: sides[sides.length - 1]!.encoderPasses, decoderPasses: sides[sides.length - 1]!.decoderPasses, images: files.length * 2, inputSize: engine.model.manifest.input_size, anatomy: engine.model.manifest.anatomies ? engine.model.manifest.anatomies.indexOf(anatomyOf(engine)) : null },
          workers,
        )
      : Number.NaN;
    const withOverlays = await batchRun(p, pe, batchN, true);
    const without = await batchRun(p, pe, Math.max(1, Math.round(batchN / 3)), false);
    return { workers, threads_per_worker: threads, e2e, inferenceOnly, ...withOverlays, no_overlays_images_per_s: without.images_per_s };
  } finally {
    await pe.dispose();
  }
}
const pooledBefore = batchN > 0 && base?.openBatchEngine ? await pooledRun(base, base.openBatchEngine, false) : null;
const pooled = batchN > 0 ? await pooledRun(current, openBatchEngine, true) : null;
clearInterval(sample);
for (const s of sides) await Promise.all([s.zoom.dispose(), s.plain.dispose()]);

const now = sides[sides.length - 1]!;
const before = base ? sides[0]! : null;
const clickParts = (c: NonNullable<Side['click']>) => ({ decoder: median(c.decoder), upsampling: median(c.upsampling), cleaning: median(c.cleaning), contour: median(c.contour), measurement: median(c.measurement) });
const range = (xs: number[]) => [Math.min(...xs), Math.max(...xs)];
const encoderMs = median(enc);
const decoderMs = median(dec);
const batchOne = batches.find((b) => b.side === now)?.result;
// the batch as medus batch runs it: the default workers (one engine where that is the default)
const batchNow = pooled ?? batchOne;
const batchBefore = batches.find((b) => b.side === before)?.result;
const result = {
  provider: engine.provider.active,
  threads: engine.threads,
  spinning: noSpin ? 'off' : 'on (the engine\'s options)',
  model: `${engine.model.manifest.name} ${engine.model.manifest.version}`,
  folder,
  images: files.length,
  repeats,
  encoder_ms: encoderMs,
  decoder_ms: decoderMs,
  // onnxruntime alone on the same input, outside the engine
  encoder_onnxruntime_ms: median(ortEnc),
  decoder_onnxruntime_ms: median(ortDec),
  roofline_gflops: roofline.gflops,
  roofline: roofline.bySize,
  encoder_gflop: encoderGflop,
  decoder_gflop: decoderGflop,
  encoder_gflops_achieved: encoderGflop / (median(ortEnc) / 1000),
  decoder_gflops_achieved: decoderGflop / (median(ortDec) / 1000),
  encoder_roofline_fraction: encoderGflop / (median(ortEnc) / 1000) / roofline.gflops,
  decoder_roofline_fraction: decoderGflop / (median(ortDec) / 1000) / roofline.gflops,
  // the time each would take at the roofline: the floor for this model on these cores
  encoder_roofline_ms: (encoderGflop / roofline.gflops) * 1000,
  decoder_roofline_ms: (decoderGflop / roofline.gflops) * 1000,
  click_ms: median(now.click!.total),
  click_parts_ms: clickParts(now.click!),
  images_per_s: median(now.e2e),
  images_per_s_range: range(now.e2e),
  inference_only_images_per_s: median(now.e2eInference),
  pipeline_efficiency: median(now.e2e) / median(now.e2eInference),
  images_per_s_without_zoom: median(now.e2eNoZoom),
  zoomed_images: now.zoomed,
  encoder_passes_per_image: now.encoderPasses,
  decoder_passes_per_image: now.decoderPasses,
  // automatic mode over the folder through the engines medus batch opens (workers on the CPU), and
  // the model alone with the same workers and passes: the throughput a folder of images gets
  images_per_s_pooled: pooled ? median(pooled.e2e) : null,
  images_per_s_pooled_range: pooled ? range(pooled.e2e) : null,
  inference_only_images_per_s_pooled: pooled?.inferenceOnly ?? null,
  pipeline_efficiency_pooled: pooled ? median(pooled.e2e) / pooled.inferenceOnly : null,
  peak_rss_mb: singleRss / 2 ** 20,
  batch_images_per_s: batchNow?.images_per_s ?? null,
  batch_peak_rss_mb: batchNow?.peak_rss_mb ?? null,
  batch: batchNow ?? null,
  batch_no_overlays_images_per_s: pooled?.no_overlays_images_per_s ?? noOverlays.find((b) => b.side === now)?.result.images_per_s ?? null,
  batch_workers: pooled?.workers ?? 1,
  batch_threads_per_worker: pooled?.threads_per_worker ?? engine.threads,
  // the same batches with one engine (one image on the model at a time), same run
  batch_one_engine_images_per_s: batchOne?.images_per_s ?? null,
  batch_one_engine_peak_rss_mb: batchOne?.peak_rss_mb ?? null,
  batch_one_engine: batchOne ?? null,
  batch_one_engine_no_overlays_images_per_s: noOverlays.find((b) => b.side === now)?.result.images_per_s ?? null,
  batch_workers_speedup: pooled && batchOne ? pooled.images_per_s / batchOne.images_per_s : null,
  // a click in Review, answered with its measurement and saved, against the engine's answer alone (same run)
  review_click_ms: review.click_ms,
  review_click_engine_ms: review.engine_click_ms,
  review_click_ratio: review.click_ms / review.engine_click_ms,
  // a click without the embedding cache would cost encoder + decoder (same run)
  click_speedup_from_cache: (encoderMs + decoderMs) / decoderMs,
  ...(before
    ? {
        baseline: {
          checkout: baselineRoot,
          click_ms: median(before.click!.total),
          images_per_s: median(before.e2e),
          images_per_s_range: range(before.e2e),
          inference_only_images_per_s: median(before.e2eInference),
          pipeline_efficiency: median(before.e2e) / median(before.e2eInference),
          images_per_s_without_zoom: median(before.e2eNoZoom),
          // as its medus batch runs it by default: its engine pool where it has one, else one engine
          batch_images_per_s: (pooledBefore ?? batchBefore)?.images_per_s ?? null,
          batch_peak_rss_mb: (pooledBefore ?? batchBefore)?.peak_rss_mb ?? null,
          batch_no_overlays_images_per_s: pooledBefore?.no_overlays_images_per_s ?? noOverlays.find((b) => b.side === before)?.result.images_per_s ?? null,
          batch_one_engine_images_per_s: batchBefore?.images_per_s ?? null,
          images_per_s_pooled: pooledBefore ? median(pooledBefore.e2e) : null,
        },
        speedup: {
          click: median(before.click!.total) / median(now.click!.total),
          images_per_s: median(now.e2e) / median(before.e2e),
          images_per_s_without_zoom: median(now.e2eNoZoom) / median(before.e2eNoZoom),
          // each side as its medus batch runs it by default
          batch_images_per_s: batchNow && (pooledBefore ?? batchBefore) ? batchNow.images_per_s / (pooledBefore ?? batchBefore)!.images_per_s : null,
          batch_one_engine_images_per_s: batchOne && batchBefore ? batchOne.images_per_s / batchBefore.images_per_s : null,
          images_per_s_pooled: pooled && pooledBefore ? median(pooled.e2e) / median(pooledBefore.e2e) : null,
        },
      }
    : {}),
};

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const parts = result.click_parts_ms;
console.log(`provider ${result.provider}, ${result.threads} threads${noSpin ? ', thread-pool spinning off' : ''}, model ${result.model}`);
console.log(`roofline  ${f1(result.roofline_gflops)} GFLOP/s (onnxruntime MatMul, ${roofline.bySize.map((s) => `${s.size}³ ${f1(s.gflops)}`).join(', ')})`);
console.log(`encoder   median ${f2(encoderMs)} ms over ${runs} runs (onnxruntime alone ${f2(result.encoder_onnxruntime_ms)} ms: ${f2(encoderGflop)} GFLOP at ${f1(result.encoder_gflops_achieved)} GFLOP/s, ${(100 * result.encoder_roofline_fraction).toFixed(0)}% of the roofline, whose floor is ${f2(result.encoder_roofline_ms)} ms)`);
console.log(`decoder   median ${f2(decoderMs)} ms over ${runs} runs, box prompt, cached embedding (onnxruntime alone ${f2(result.decoder_onnxruntime_ms)} ms: ${decoderGflop.toFixed(3)} GFLOP, ${(100 * result.decoder_roofline_fraction).toFixed(1)}% of the roofline)`);
console.log(`click     median ${f2(result.click_ms)} ms on a cached ${w0}×${h0} image: decoder ${f2(parts.decoder)}, upsampling ${f2(parts.upsampling)}, cleaning ${f2(parts.cleaning)}, contour ${f2(parts.contour)}, measurement ${f2(parts.measurement)}`);
console.log(`end to end ${f2(result.images_per_s)} images/s (range ${result.images_per_s_range.map(f2).join('–')} over ${repeats} repeats) over ${files.length} images of ${folder} (automatic mode, measured; ${now.zoomed} zoomed)`);
console.log(`           inference only ${f2(result.inference_only_images_per_s)} images/s: pipeline efficiency ${f2(result.pipeline_efficiency)}; without the zoomed passes ${f2(result.images_per_s_without_zoom)} images/s`);
if (pooled) console.log(`           through ${pooled.workers} worker(s) × ${pooled.threads_per_worker} thread(s) as medus batch runs it: ${f2(median(pooled.e2e))} images/s (range ${range(pooled.e2e).map(f2).join('–')}); the model alone with the same workers and passes (${f2(now.encoderPasses)} encoder, ${f2(now.decoderPasses)} decoder per image) ${f2(pooled.inferenceOnly)} images/s: efficiency ${f2(result.pipeline_efficiency_pooled!)}`);
console.log(`peak RSS  ${result.peak_rss_mb.toFixed(0)} MB`);
if (batchNow) console.log(`batch     ${f2(batchNow.images_per_s)} images/s over ${batchNow.images} images with ${result.batch_workers} worker(s) × ${result.batch_threads_per_worker} thread(s), masks + overlays + JSON + CSV + COCO; RSS ${batchNow.rss_at_quarter_mb.toFixed(0)} MB at 1/4, ${batchNow.rss_at_end_mb.toFixed(0)} MB at the end, peak ${batchNow.peak_rss_mb.toFixed(0)} MB; without overlays ${f2(result.batch_no_overlays_images_per_s ?? Number.NaN)} images/s`);
if (pooled && batchOne) console.log(`          one engine (${engine.threads} threads, same run): ${f2(batchOne.images_per_s)} images/s (${f2(result.batch_workers_speedup!)}× with the workers), RSS ${batchOne.rss_at_quarter_mb.toFixed(0)} → ${batchOne.rss_at_end_mb.toFixed(0)} MB, peak ${batchOne.peak_rss_mb.toFixed(0)} MB; without overlays ${f2(result.batch_one_engine_no_overlays_images_per_s ?? Number.NaN)} images/s`);
console.log(`a click in Review (segment + measure + save) ${f1(result.review_click_ms)} ms median, ${f2(result.review_click_ratio)}× the engine's answer alone (${f1(result.review_click_engine_ms)} ms, same run)`);
if (result.baseline && result.speedup) {
  const b = result.baseline;
  const s = result.speedup;
  console.log(`baseline (${b.checkout}, same run, interleaved):`);
  console.log(`  end to end ${f2(b.images_per_s)} images/s (range ${b.images_per_s_range.map(f2).join('–')}) → ${f2(s.images_per_s)}× ; without zoom ${f2(b.images_per_s_without_zoom)} → ${f2(s.images_per_s_without_zoom)}×; pipeline efficiency ${f2(b.pipeline_efficiency)} → ${f2(result.pipeline_efficiency)}`);
  console.log(`  click ${f2(b.click_ms)} ms → ${f2(s.click)}× faster; batch as its medus batch runs it ${b.batch_images_per_s === null ? '–' : f2(b.batch_images_per_s)} images/s → ${s.batch_images_per_s === null ? '–' : f2(s.batch_images_per_s) + '×'}; without overlays ${b.batch_no_overlays_images_per_s === null ? '–' : f2(b.batch_no_overlays_images_per_s)} images/s`);
  if (s.images_per_s_pooled !== null) console.log(`  through its engine pool: end to end ${f2(b.images_per_s_pooled!)} images/s → ${f2(s.images_per_s_pooled)}×; one engine's batch ${f2(b.batch_one_engine_images_per_s!)} images/s → ${f2(s.batch_one_engine_images_per_s!)}×`);
}
if (v.json) writeFileSync(resolve(v.json), JSON.stringify(result, null, 2) + '\n');
