/**
 * The segmentation engine: runs a contract model folder with onnxruntime-node.
 * The encoder runs once per image (embeddings cached, LRU by bytes); the decoder per prompt.
 * It blocks the thread that calls onnxruntime, so the app hosts it off the UI thread (host.ts).
 */
import ort from 'onnxruntime-node';
import { cudaMissingMessage, probeCudaHere } from './cuda';
import { presetFor } from '../shared/presets';
import type { GreyImage } from '../imaging/greyscale';
import { LruBytesCache } from './cache';
import { cleanMaskCounted } from './cleaning';
import { maskToPolygons } from './contours';
import type { ModelFrame } from './coords';
import { loadModelFolder, type ModelFolder } from './model';
import { logitsToMask } from './postprocess';
import { isPresent, presenceRule, presenceScore, type SiteThresholds } from './presence';
import { decoderPoints, promptMode, validatePrompt } from './prompt';
import { type ProviderName, type ProviderReport, resolveRequest, withFallback } from './providers';
import { resizeGrey } from './resample';
import type { Prompt, Segmentation } from './types';
import { boxInCrop, cropGrey, maskBounds, pasteMask, shiftPolygons, zoomRegion } from './zoom';
import type { Polygon } from './types';

type Embedding = Record<string, ort.Tensor>;

export type SessionFactory = (path: string, provider: ProviderName, threads: number) => Promise<ort.InferenceSession>;

export interface EngineOptions {
  /** auto, cpu, cuda, dml or coreml; default from MEDUS_PROVIDER, else auto. */
  provider?: string;
  /** Threads for onnxruntime's intra-op pool; default 2 (clinic PCs), MEDUS_THREADS overrides. */
  threads?: number;
  /** Memory for cached embeddings; default 256 MiB. */
  cacheBytes?: number;
  /** Allow the zoomed second pass when the model declares one (default true); off trades outline sharpness for speed. */
  zoom?: boolean;
  /** Automatic mode's presence thresholds a site re-chose from its reviews (per anatomy, this model version). */
  siteThresholds?: SiteThresholds;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  /** For tests: how sessions are made. */
  sessionFactory?: SessionFactory;
}

/** An image ready for the model, identified by file identity and frame. */
export interface ImageInput {
  key: string;
  image: GreyImage;
}

/**
 * onnxruntime-node ships CUDA's provider library only when its installer fetched it, and the
 * provider needs CUDA 12 and cuDNN 9 from the system; asking for CUDA without them logs a loud
 * native error naming one library at a time, so name every missing piece first (cuda.ts).
 */
function cudaLibraryMissing(): string | null {
  return cudaMissingMessage(probeCudaHere());
}

/** The engine's onnxruntime session options (the bench's inference-only baseline uses them too). */
export function sessionOptions(provider: ProviderName, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // An accelerator that cannot load is expected (we fall back and record why): keep its noise off the console.
    logSeverityLevel: provider === 'cpu' ? 2 : 4,
    // Idle pool threads busy-wait by default. On a 2-core workstation that also decodes, draws and
    // writes, the spinning takes the cores from the next run: off, the encoder took 0.53x and the
    // decoder 0.44x the time in interleaved rounds (bench/session-options.ts). MEDUS_SPINNING=on restores it.
    ...(process.env.MEDUS_SPINNING === 'on' ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

const defaultFactory: SessionFactory = async (path, provider, threads) => {
  if (provider === 'cuda') {
    const missing = cudaLibraryMissing();
    if (missing) throw new Error(missing);
  }
  return ort.InferenceSession.create(path, sessionOptions(provider, threads));
};

/** A pass's answer without the engine's note of whether it was outlined yet. */
function withoutFlag(seg: Segmentation & { outlined?: boolean }): Segmentation {
  const copy = { ...seg };
  delete copy.outlined;
  return copy;
}

/** Runs jobs one at a time; user requests overtake queued prefetches. */
class JobQueue {
  private readonly jobs: Array<{ urgent: boolean; run: () => Promise<void> }> = [];
  private busy = false;

  push<T>(urgent: boolean, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job = { urgent, run: () => fn().then(resolve, reject) };
      if (urgent) {
        const firstLazy = this.jobs.findIndex((j) => !j.urgent);
        this.jobs.splice(firstLazy < 0 ? this.jobs.length : firstLazy, 0, job);
      } else this.jobs.push(job);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.jobs.length) await this.jobs.shift()!.run();
    this.busy = false;
  }
}

export class SegmentationEngine {
  private readonly cache: LruBytesCache<Embedding>;
  private readonly queue = new JobQueue();
  private readonly pending = new Map<string, Promise<Embedding>>();
  /** Decoder inputs that never change (no previous mask): made once, not on every click. */
  private readonly constantFeeds = new Map<string, ort.Tensor>();
  /** Replaced when the user changes them in Settings; read on every automatic answer. */
  siteThresholds: SiteThresholds = {};

  private constructor(
    readonly model: ModelFolder,
    readonly provider: ProviderReport,
    readonly threads: number,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    cacheBytes: number,
    /** Whether the zoomed second pass runs (the model must also declare it). */
    readonly zoom: boolean,
  ) {
    this.cache = new LruBytesCache<Embedding>(cacheBytes, (e) => Object.values(e).reduce((n, t) => n + t.data.length * 4, 0));
  }

  static async create(modelDir: string, opts: EngineOptions = {}): Promise<SegmentationEngine> {
    const env = opts.env ?? process.env;
    const model = await loadModelFolder(modelDir);
    const request = resolveRequest(opts.provider, env);
    const threads = opts.threads ?? (env.MEDUS_THREADS ? Number(env.MEDUS_THREADS) : 2);
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
    const factory = opts.sessionFactory ?? defaultFactory;
    const { value, report } = await withFallback(request, opts.platform ?? process.platform, opts.arch ?? process.arch, async (p) => {
      const encoder = await factory(model.encoderPath, p, threads);
      // the decoder is some 440 small nodes (0.07 GFLOP): on the CPU a second thread costs more in
      // hand-offs than it computes (1 thread took 0.88-0.94x the time of 2, interleaved rounds)
      const decoder = await factory(model.decoderPath, p, p === 'cpu' ? 1 : threads);
      return { encoder, decoder };
    });
    const engine = new SegmentationEngine(model, report, threads, value.encoder, value.decoder, opts.cacheBytes ?? 256 * 1024 * 1024, opts.zoom ?? true);
    if (opts.siteThresholds) engine.siteThresholds = opts.siteThresholds;
    return engine;
  }

  get anatomies(): readonly string[] {
    return this.model.manifest.anatomies ?? [];
  }

  get cacheStats(): { entries: number; bytes: number; keys: string[] } {
    return { entries: this.cache.size, bytes: this.cache.bytes, keys: this.cache.keys() };
  }

  frameFor(image: GreyImage): ModelFrame {
    return { width: image.width, height: image.height, size: this.model.manifest.input_size, resize: this.model.manifest.resize };
  }

  /** Resized, normalised encoder input [1, C, S, S]. */
  preprocess(image: GreyImage): Float32Array {
    const m = this.model.manifest;
    const s = m.input_size;
    const frame = this.frameFor(image);
    const cw = frame.resize === 'stretch' ? s : Math.round(image.width * (s / Math.max(image.width, image.height)));
    const ch = frame.resize === 'stretch' ? s : Math.round(image.height * (s / Math.max(image.width, image.height)));
    const resized = resizeGrey(image.data, image.width, image.height, cw, ch);
    if (m.channels === 1 && cw === s && ch === s) {
      // already the tensor's layout: normalised where it is (the same arithmetic as below)
      const mean = m.pixel_mean[0]!;
      const std = m.pixel_std[0]!;
      for (let i = 0; i < resized.length; i++) resized[i] = (resized[i]! - mean) / std;
      return resized;
    }
    const out = new Float32Array(m.channels * s * s);
    for (let c = 0; c < m.channels; c++) {
      const mean = m.pixel_mean[c]!;
      const std = m.pixel_std[c]!;
      const base = c * s * s;
      // letterbox padding is zero after normalisation, as in SAM
      for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) out[base + y * s + x] = (resized[y * cw + x]! - mean) / std;
    }
    return out;
  }

  /** Encodes once per image; concurrent callers for the same key share one run. */
  async embed(input: ImageInput, urgent = true): Promise<{ embedding: Embedding; cached: boolean; ms: number; runMs: number }> {
    const hit = this.cache.get(input.key);
    if (hit) return { embedding: hit, cached: true, ms: 0, runMs: 0 };
    const running = this.pending.get(input.key);
    if (running) return { embedding: await running, cached: true, ms: 0, runMs: 0 };
    const t0 = performance.now();
    // the encoder's own run, without the resize before it or the wait in the queue
    let runMs = 0;
    const job = this.queue.push(urgent, async () => {
      const again = this.cache.get(input.key);
      if (again) return again;
      const m = this.model.manifest;
      const tensor = new ort.Tensor('float32', this.preprocess(input.image), [1, m.channels, m.input_size, m.input_size]);
      const t1 = performance.now();
      const out = await this.encoder.run({ image: tensor });
      runMs = performance.now() - t1;
      this.cache.set(input.key, out);
      return out;
    });
    this.pending.set(input.key, job);
    try {
      const embedding = await job;
      return { embedding, cached: false, ms: performance.now() - t0, runMs };
    } finally {
      this.pending.delete(input.key);
    }
  }

  /** Encodes an image in the background (the next one in a folder) unless it is cached already. */
  prefetch(key: string, load: () => Promise<GreyImage>): Promise<void> {
    if (this.cache.has(key) || this.pending.has(key)) return Promise.resolve();
    return load()
      .then((image) => this.embed({ key, image }, false))
      .then(
        () => undefined,
        () => undefined, // a bad next file is reported when the user opens it, not here
      );
  }

  /**
   * Segments with a prompt. Models that declare `zoom` in their manifest get a second pass for
   * automatic and box prompts: a crop around what was found (or the user's box) is encoded at the
   * model's full input size and segmented again there, which sharpens small structures' outlines.
   * The first pass's low-res logits are kept, so follow-up clicks refine in the whole-image frame.
   */
  async segment(input: ImageInput, prompt: Prompt): Promise<Segmentation> {
    const rule = this.model.manifest.zoom;
    const zoomable = !!rule && this.zoom && (rule.modes as string[]).includes(promptMode(prompt)) && !(prompt.anatomy !== undefined && rule.skip_anatomies?.includes(prompt.anatomy));
    // the outline is traced once, for the answer returned: a pass a closer look replaces needs none
    const first = await this.segmentWhole(input, prompt, !zoomable);
    if (!rule || !zoomable || first.empty) {
      return first.outlined ? withoutFlag(first) : this.outlined(first, first.mask, null);
    }
    const { width: w, height: h } = input.image;
    // at most 4× enlargement of original pixels: beyond that a crop is blur, not detail
    const zoomRule = { margin: rule.margin, minGain: rule.min_gain, minSide: Math.round(this.model.manifest.input_size / 4) };
    // A box names the target: one pass around it. Automatic mode may look closer again when the
    // zoomed answer is much smaller than its crop (a small head first seen with its surroundings).
    const passes = first.mode === 'box' ? 1 : (rule.passes ?? 1);
    let best = first;
    // the mask the outline of `best` is traced on, and where it sits in the image
    let bestCrop: { mask: Uint8Array; region: { x0: number; y0: number; x1: number; y1: number } | null } = { mask: first.mask, region: null };
    let frame = { x0: 0, y0: 0, x1: w, y1: h };
    const timings = { ...first.timings };
    for (let pass = 0; pass < passes; pass++) {
      const fw = frame.x1 - frame.x0;
      const fh = frame.y1 - frame.y0;
      // the target and the next crop are worked out inside the current frame, so each pass must zoom by min_gain
      // bestCrop's mask is the current frame's: no copy of the whole mask to find the target
      const target = best.mode === 'box' ? boxInCrop(prompt.box!, frame) : maskBounds(bestCrop.mask, fw, fh);
      const inner = target ? zoomRegion(target, fw, fh, zoomRule) : null;
      if (!inner) break;
      const region = { x0: frame.x0 + inner.x0, y0: frame.y0 + inner.y0, x1: frame.x0 + inner.x1, y1: frame.y0 + inner.y1 };
      const cropPrompt: Prompt = { clicks: [], ...(prompt.anatomy !== undefined ? { anatomy: prompt.anatomy } : {}), ...(prompt.box ? { box: boxInCrop(prompt.box, region) } : {}) };
      const crop = { key: `${input.key}|zoom ${region.x0},${region.y0},${region.x1},${region.y1}`, image: cropGrey(input.image, region) };
      const next = await this.segmentWhole(crop, cropPrompt, false);
      timings.encodeMs += next.timings.encodeMs;
      timings.decodeMs += next.timings.decodeMs;
      timings.postprocessMs += next.timings.postprocessMs;
      timings.upsampleMs = (timings.upsampleMs ?? 0) + (next.timings.upsampleMs ?? 0);
      timings.cleanMs = (timings.cleanMs ?? 0) + (next.timings.cleanMs ?? 0);
      timings.inferenceMs = (timings.inferenceMs ?? 0) + (next.timings.inferenceMs ?? 0);
      // A closer look that finds nothing (below the automatic threshold) does not overrule the last answer.
      if (next.empty) break;
      best = { ...first, score: next.score, areaPixels: next.areaPixels, zoomedTo: region };
      bestCrop = { mask: next.mask, region };
      frame = region;
    }
    // the closest look's mask, put into the whole image once
    if (bestCrop.region) {
      const t0 = performance.now();
      best = { ...best, mask: pasteMask(bestCrop.mask, bestCrop.region, w, h) };
      timings.postprocessMs += performance.now() - t0;
    }
    return this.outlined({ ...best, timings }, bestCrop.mask, bestCrop.region);
  }

  /**
   * The answer with its outline, traced on the mask it came from (a zoomed answer's crop, which is
   * smaller than the whole image) and moved into place; the overlay, the measurement and the page
   * all use this one outline.
   */
  private outlined(seg: Segmentation & { outlined?: boolean }, mask: Uint8Array, region: { x0: number; y0: number; x1: number; y1: number } | null): Segmentation {
    const t0 = performance.now();
    const mw = region ? region.x1 - region.x0 : seg.width;
    const mh = region ? region.y1 - region.y0 : seg.height;
    const traced: Polygon[] = seg.areaPixels ? maskToPolygons(mask, mw, mh) : [];
    const polygons = region ? shiftPolygons(traced, region) : traced;
    const ms = performance.now() - t0;
    return { ...withoutFlag(seg), polygons, timings: { ...seg.timings, postprocessMs: seg.timings.postprocessMs + ms, contourMs: (seg.timings.contourMs ?? 0) + ms } };
  }

  /** One pass of encoder (cached) and decoder on the image as given; `trace` also outlines the mask. */
  private async segmentWhole(input: ImageInput, prompt: Prompt, trace: boolean): Promise<Segmentation & { outlined: boolean }> {
    const { image } = input;
    const m = this.model.manifest;
    validatePrompt(prompt, image.width, image.height, m.anatomies);
    const { embedding, cached, ms: encodeMs, runMs: encoderRunMs } = await this.embed(input);
    const frame = this.frameFor(image);
    const t0 = performance.now();
    const { coords, labels } = decoderPoints(prompt, frame);
    const embDims = embedding.image_embeddings?.dims ?? [1, 1, m.input_size / 16, m.input_size / 16];
    const lowH = 4 * Number(embDims[2]);
    const lowW = 4 * Number(embDims[3]);
    const feeds: Record<string, ort.Tensor> = {
      ...embedding,
      point_coords: new ort.Tensor('float32', coords, [1, labels.length, 2]),
      point_labels: new ort.Tensor('float32', labels, [1, labels.length]),
      mask_input: prompt.previousMask ? new ort.Tensor('float32', prompt.previousMask, [1, 1, lowH, lowW]) : this.constant(`no mask ${lowH}x${lowW}`, () => new ort.Tensor('float32', new Float32Array(lowH * lowW), [1, 1, lowH, lowW])),
      has_mask_input: this.constant(`has mask ${prompt.previousMask ? 1 : 0}`, () => new ort.Tensor('float32', new Float32Array([prompt.previousMask ? 1 : 0]), [1])),
    };
    if (prompt.previousMask && prompt.previousMask.length !== lowH * lowW) {
      throw new Error(`previous mask has ${prompt.previousMask.length} values, the model expects ${lowH}×${lowW}`);
    }
    if (m.anatomies) {
      const idx = prompt.anatomy === undefined ? -1 : m.anatomies.indexOf(prompt.anatomy);
      feeds.anatomy = new ort.Tensor('int64', BigInt64Array.from([BigInt(idx)]), [1]);
    }
    let decoderRunMs = 0;
    const out = await this.queue.push(true, async () => {
      const t = performance.now();
      const o = await this.decoder.run(feeds);
      decoderRunMs = performance.now() - t;
      return o;
    });
    const decodeMs = performance.now() - t0;
    const t1 = performance.now();
    const masks = out[m.decoder_outputs.masks];
    const scores = out[m.decoder_outputs.scores];
    if (!masks || !scores) throw new Error(`decoder did not return ${m.decoder_outputs.masks} and ${m.decoder_outputs.scores}`);
    const mode = promptMode(prompt);
    const scoreData = scores.data as Float32Array;
    let pick = m.multimask?.single ?? 0;
    const lone = mode === 'clicks' && prompt.clicks.length === 1 && prompt.clicks[0]!.label === 'positive' && !prompt.previousMask;
    if (lone && m.multimask && m.multimask.candidates.length) {
      pick = m.multimask.candidates.reduce((best, i) => (scoreData[i]! > scoreData[best]! ? i : best), m.multimask.candidates[0]!);
    }
    const lowSide = Number(masks.dims[2]);
    const plane = lowSide * Number(masks.dims[3]);
    const lowRes = (masks.data as Float32Array).slice(pick * plane, (pick + 1) * plane);
    const score = Math.max(0, Math.min(1, scoreData[pick] ?? 0));
    let mask = logitsToMask(lowRes, lowSide, frame, m.mask_threshold);
    const upsampleMs = performance.now() - t1;
    const presenceOut = m.decoder_outputs.presence ? (out[m.decoder_outputs.presence]?.data as Float32Array | undefined) : undefined;
    const presence = presenceScore(score, presenceOut, pick);
    const tooUnsure = mode === 'automatic' && !isPresent(presence, presenceRule(m, prompt.anatomy, this.siteThresholds));
    if (tooUnsure) mask = new Uint8Array(mask.length);
    const preset = presetFor(prompt.anatomy ?? '');
    const positive = prompt.clicks.filter((c) => c.label === 'positive').map((c): [number, number] => [c.x, c.y]);
    const t2 = performance.now();
    // the mask is this pass's own (0/1 from the logits): cleaned where it is
    const cleaned = cleanMaskCounted(
      mask,
      image.width,
      image.height,
      preset.cleaning,
      {
        positive,
        ...(prompt.box ? { box: [prompt.box.x0, prompt.box.y0, prompt.box.x1, prompt.box.y1] as [number, number, number, number] } : {}),
      },
      true,
    );
    mask = cleaned.mask;
    const area = cleaned.area;
    const t3 = performance.now();
    const polygons = trace && area ? maskToPolygons(mask, image.width, image.height) : [];
    return {
      width: image.width,
      height: image.height,
      mask,
      score,
      mode,
      ...(mode === 'automatic' ? { presence } : {}),
      empty: area === 0,
      polygons,
      lowRes,
      areaPixels: area,
      zoomedTo: null,
      embeddingCached: cached,
      outlined: trace,
      timings: { encodeMs, decodeMs, postprocessMs: performance.now() - t1, upsampleMs, cleanMs: t3 - t2, ...(trace ? { contourMs: performance.now() - t3 } : {}), inferenceMs: encoderRunMs + decoderRunMs },
    };
  }

  private constant(key: string, make: () => ort.Tensor): ort.Tensor {
    let t = this.constantFeeds.get(key);
    if (!t) this.constantFeeds.set(key, (t = make()));
    return t;
  }

  /**
   * "Looks like": automatic mode's presence for every anatomy the model knows, on one image, most
   * likely first (one encoder run, cached, then a decoder pass per anatomy; no zoomed pass). For the
   * page to propose a preset, never to apply one: the clinician clicks it.
   */
  async rankAnatomies(input: ImageInput): Promise<Array<{ anatomy: string; presence: number; present: boolean }>> {
    const out: Array<{ anatomy: string; presence: number; present: boolean }> = [];
    for (const anatomy of this.anatomies) {
      const s = await this.segmentWhole(input, { clicks: [], anatomy }, false);
      out.push({ anatomy, presence: s.presence ?? s.score, present: !s.empty });
    }
    return out.sort((a, b) => Number(b.present) - Number(a.present) || b.presence - a.presence);
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
