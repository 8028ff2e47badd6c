/**
 * The model alone with the batch's concurrency (benchmark only): `workers` worker threads, each
 * with its own encoder and decoder sessions made with the engine's options (engine.ts,
 * sessionOptions), run a share of `images` images' passes on fixed tensors, started together. Their
 * wall time is the inference-only baseline of the pooled end to end run, which does the same
 * passes with decoding, resizing, post-processing, measurement and PNGs around them (a pass's
 * onnxruntime time does not depend on the pixels, and one padding point is automatic mode's prompt).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { sessionOptions } from '../electron/engine/engine';
import type { ProviderName } from '../electron/engine/providers';

export interface InferenceOnlyJob {
  /** The provider the measured engines run on. */
  provider: ProviderName;
  encoderPath: string;
  decoderPath: string;
  threads: number;
  /** Passes per image, as counted in the end to end run. */
  encoderPasses: number;
  decoderPasses: number;
  images: number;
  inputSize: number;
  /** The decoder's anatomy index, or null for a model without that input. */
  anatomy: number | null;
}

/** Images per second of `workers` engines doing only the model's passes. */
export async function inferenceOnlyPool(job: InferenceOnlyJob, workers: number): Promise<number> {
  const threads = Array.from({ length: workers }, (_, i) => {
    const share = Math.floor(job.images / workers) + (i < job.images % workers ? 1 : 0);
    return new Worker(new URL('./inference-only-worker.mjs', import.meta.url), { workerData: { ...job, images: share } });
  });
  const ready = threads.map((w) => new Promise<void>((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject); }));
  await Promise.all(ready);
  const done = threads.map((w) => new Promise<void>((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject); }));
  const t0 = performance.now();
  for (const w of threads) w.postMessage('go');
  await Promise.all(done);
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(threads.map((w) => w.terminate()));
  return job.images / secs;
}

async function work(job: InferenceOnlyJob): Promise<void> {
  const s = job.inputSize;
  const encoder = await ort.InferenceSession.create(job.encoderPath, sessionOptions(job.provider, job.threads));
  // as the engine makes it: one thread for the decoder on the CPU
  const decoder = await ort.InferenceSession.create(job.decoderPath, sessionOptions(job.provider, job.provider === 'cpu' ? 1 : job.threads));
  const image = new ort.Tensor('float32', new Float32Array(s * s).map((_, i) => ((i * 37) % 255) / 64 - 1), [1, 1, s, s]);
  const embedding = await encoder.run({ image });
  const low = 4 * Number(embedding.image_embeddings?.dims[2] ?? s / 16);
  const feeds: Record<string, ort.Tensor> = {
    ...embedding,
    point_coords: new ort.Tensor('float32', new Float32Array([0, 0]), [1, 1, 2]),
    point_labels: new ort.Tensor('float32', new Float32Array([-1]), [1, 1]),
    mask_input: new ort.Tensor('float32', new Float32Array(low * low), [1, 1, low, low]),
    has_mask_input: new ort.Tensor('float32', new Float32Array([0]), [1]),
    ...(job.anatomy === null ? {} : { anatomy: new ort.Tensor('int64', BigInt64Array.from([BigInt(job.anatomy)]), [1]) }),
  };
  for (let i = 0; i < 5; i++) await decoder.run(feeds);
  parentPort!.postMessage('ready');
  await new Promise((r) => parentPort!.once('message', r));
  // the passes of `images` images, in the proportion the end to end run made them
  const enc = Math.round(job.encoderPasses * job.images);
  const dec = Math.round(job.decoderPasses * job.images);
  for (let e = 0, d = 0; e < enc || d < dec; ) {
    if (e < enc && (d >= dec || e * dec <= d * enc)) {
      await encoder.run({ image });
      e++;
    } else {
      await decoder.run(feeds);
      d++;
    }
  }
  parentPort!.postMessage('done');
}

if (!isMainThread && workerData) await work(workerData as InferenceOnlyJob);
