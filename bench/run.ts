/**
 * Speed and memory benchmark (never a unit test): encoder and decoder latency (median of repeated
 * runs), end-to-end images per second over a folder (decode → encode → decode → post-process →
 * write mask), with the provider and thread count used. End to end runs twice in the same process:
 * with the model's zoomed second pass (what users get) and without it (the baseline it costs against).
 *
 * Then a batch over a large folder (`--batch-images N`, default 300: hard links to the sample
 * images), writing everything, with images per second and memory at a quarter and at the end.
 *
 *   npm run bench [-- --folder DIR] [--runs N] [--provider P] [--threads T] [--batch-images N] [--json FILE]
 */
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { runBatch } from '../electron/batch/batch';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL } from '../electron/cli/main';
import { maskPng } from '../electron/export/mask';
import { SegmentationEngine } from '../electron/engine/engine';
import { defaultDatasetsDir } from '../electron/evaluation/datasets';
import { percentile } from '../electron/evaluation/metrics';
import { loadFrame } from '../electron/imaging/load';
import { CalibrationResolver } from '../electron/calibration/resolve';
import { ResultsWriter } from '../electron/study/save';
import { Study, type StudyEngine } from '../electron/study/study';

const { values: v } = parseArgs({
  options: {
    folder: { type: 'string' },
    runs: { type: 'string', default: '30' },
    provider: { type: 'string' },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
    model: { type: 'string' },
    limit: { type: 'string', default: '60' },
    'batch-images': { type: 'string', default: '300' },
  },
});

let peakRss = process.memoryUsage().rss;
const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

const modelDir = resolve(v.model ?? process.env.MEDUS_MODEL ?? DEFAULT_MODEL);
const common = { ...(v.provider ? { provider: v.provider } : {}), threads: Number(v.threads), cacheBytes: 64 * 1024 * 1024 };
const engine = await SegmentationEngine.create(modelDir, common);
// one encoder and one decoder pass per call: the latencies below, and the end-to-end baseline
const plain = await SegmentationEngine.create(modelDir, { ...common, zoom: false });
const runs = Number(v.runs);
const folder = resolve(v.folder ?? join(defaultDatasetsDir(), 'hc18', 'orig'));
const files = readdirSync(folder).filter((f) => /\.(jpe?g|png|bmp|tiff?|webp|dcm)$/i.test(f) && !f.includes('_mask')).sort().slice(0, Number(v.limit)).map((f) => join(folder, f));
if (!files.length) throw new Error(`no images in ${folder}`);

// encoder: distinct keys so every run really encodes; decoder: box prompt on a cached embedding
const first = await loadFrame(files[0]!);
await plain.embed({ key: 'warmup', image: first.image });
const enc: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await plain.embed({ key: `bench-${i}`, image: first.image });
  enc.push(performance.now() - t);
}
const dec: number[] = [];
const { width: w, height: h } = first.image;
const box = { x0: w * 0.2, y0: h * 0.2, x1: w * 0.8, y1: h * 0.8 };
for (let i = 0; i < runs; i++) {
  const s = await plain.segment({ key: 'warmup', image: first.image }, { clicks: [], box, anatomy: engine.anatomies[3] ?? engine.anatomies[0]! });
  dec.push(s.timings.decodeMs);
}
// end to end over the folder, automatic mode, masks encoded to PNG in memory
async function endToEnd(e: SegmentationEngine): Promise<{ secs: number; zoomed: number }> {
  const t0 = performance.now();
  let zoomed = 0;
  for (const f of files) {
    const fr = await loadFrame(f);
    const s = await e.segment({ key: fr.key, image: fr.image }, { clicks: [], anatomy: e.anatomies[3] ?? e.anatomies[0]! });
    if (s.zoomedTo) zoomed++;
    await maskPng(s.mask, s.width, s.height);
  }
  return { secs: (performance.now() - t0) / 1000, zoomed };
}
const baseline = await endToEnd(plain);
await plain.dispose();
const { secs, zoomed } = await endToEnd(engine);
const singleRss = peakRss;

// a click in Review: through the study model (segment, measure, save the record, mask and results.csv)
// against the engine's own answer to the same clicks on the same cached image, in this run
const review = await (async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'medus-bench-review-'));
  const image = files[0]!;
  const studyEngine: StudyEngine = {
    open: async (path, frame) => {
      const f = await loadFrame(path, frame);
      return { path, frame, frameCount: f.source.frameCount, width: f.image.width, height: f.image.height, format: f.source.format, pixels: f.image.data, calibration: f.source.calibration, regions: f.source.regions, details: {} };
    },
    segment: async (path, frame, prompt) => {
      const f = await loadFrame(path, frame);
      return engine.segment({ key: f.key, image: f.image }, prompt);
    },
    model: async () => ({ name: engine.model.manifest.name, version: engine.model.manifest.version, provider: engine.provider.active }),
  };
  const study = await Study.open({ root: folder, files: [{ path: image, name: 'a', relative: 'a', stem: 'a' }], engine: studyEngine, resolver: new CalibrationResolver(), writer: new ResultsWriter(tmp), resultsNote: null });
  const anatomy = engine.anatomies.includes('fetal-head') ? 'fetal-head' : engine.anatomies[0]!;
  await study.openImage(image, 0);
  await study.intent(image, 0, { type: 'automatic', object: 1, anatomy });
  const fr = await loadFrame(image);
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
  return { click_ms: percentile(viaStudy, 50), engine_click_ms: percentile(viaEngine, 50) };
})();

// batch: a large folder (hard links to the sample images, so no disk is used), everything written
const batchN = Number(v['batch-images']);
let batch = { images: 0, images_per_s: 0, peak_rss_mb: 0, rss_at_quarter_mb: 0, rss_at_end_mb: 0 };
if (batchN > 0) {
  const tmp = mkdtempSync(join(tmpdir(), 'medus-bench-'));
  const inDir = join(tmp, 'in');
  mkdirSync(inDir);
  for (let i = 0; i < batchN; i++) linkSync(files[i % files.length]!, join(inDir, `img${String(i).padStart(6, '0')}${extname(files[i % files.length]!)}`));
  peakRss = process.memoryUsage().rss;
  let quarter = 0;
  const tb = performance.now();
  await runBatch(
    engine,
    { inputs: [inDir], anatomy: engine.anatomies.includes('fetal-head') ? 'fetal-head' : engine.anatomies[0]!, out: join(tmp, 'out'), frame: 0, overlays: true },
    (p) => {
      if (!quarter && p.done >= batchN / 4) quarter = process.memoryUsage().rss;
    },
    () => undefined,
    () => false,
  );
  const bs = (performance.now() - tb) / 1000;
  batch = { images: batchN, images_per_s: batchN / bs, peak_rss_mb: Math.max(peakRss, process.memoryUsage().rss) / 1024 / 1024, rss_at_quarter_mb: quarter / 1024 / 1024, rss_at_end_mb: process.memoryUsage().rss / 1024 / 1024 };
  rmSync(tmp, { recursive: true, force: true });
}
clearInterval(sample);
peakRss = singleRss;
const result = {
  provider: engine.provider.active,
  threads: engine.threads,
  encoder_ms: percentile(enc, 50),
  decoder_ms: percentile(dec, 50),
  images_per_s: files.length / secs,
  images_per_s_without_zoom: files.length / baseline.secs,
  zoomed_images: zoomed,
  peak_rss_mb: peakRss / 1024 / 1024,
  // baseline measured in the same run: a click without the embedding cache would cost encoder + decoder
  click_speedup_from_cache: (percentile(enc, 50) + percentile(dec, 50)) / percentile(dec, 50),
  // a click in Review, answered with its measurement and saved, against the engine's answer alone (same run)
  review_click_ms: review.click_ms,
  review_click_engine_ms: review.engine_click_ms,
  review_click_ratio: review.click_ms / review.engine_click_ms,
  images: files.length,
  folder,
  batch_images_per_s: batch.images_per_s,
  batch_peak_rss_mb: batch.peak_rss_mb,
  batch: batch,
  model: `${engine.model.manifest.name} ${engine.model.manifest.version}`,
};
console.log(`provider ${result.provider}, ${result.threads} threads, model ${result.model}`);
console.log(`encoder   median ${result.encoder_ms.toFixed(2)} ms over ${runs} runs`);
console.log(`decoder   median ${result.decoder_ms.toFixed(2)} ms over ${runs} runs (one pass, box prompt, cached embedding)`);
console.log(`end to end ${result.images_per_s.toFixed(2)} images/s over ${files.length} images of ${folder} (automatic mode; ${zoomed} with the zoomed second pass)`);
console.log(`           ${result.images_per_s_without_zoom.toFixed(2)} images/s without the second pass (same run): ${(result.images_per_s_without_zoom / result.images_per_s).toFixed(2)}× faster, coarser outlines`);
console.log(`peak RSS  ${result.peak_rss_mb.toFixed(0)} MB`);
if (batch.images) console.log(`batch     ${batch.images_per_s.toFixed(2)} images/s over ${batch.images} images, masks + overlays + JSON + CSV + COCO written; RSS ${batch.rss_at_quarter_mb.toFixed(0)} MB at 1/4, ${batch.rss_at_end_mb.toFixed(0)} MB at the end, peak ${batch.peak_rss_mb.toFixed(0)} MB`);
console.log(`a click on a cached image is ${result.click_speedup_from_cache.toFixed(1)}× faster than re-encoding (same run)`);
console.log(`a click in Review (segment + measure + save) ${result.review_click_ms.toFixed(1)} ms median, ${result.review_click_ratio.toFixed(2)}× the engine's answer alone (${result.review_click_engine_ms.toFixed(1)} ms, same run)`);
if (v.json) writeFileSync(resolve(v.json), JSON.stringify(result, null, 2) + '\n');
await engine.dispose();
