/**
 * onnxruntime session options tried on the model (benchmark only): each variant's encoder and
 * decoder latency, measured in interleaved rounds so that a busy spell of the machine falls on
 * every variant alike, against the options the engine uses; and where the encoder's time goes by
 * operator (onnxruntime's profile), to tell whether it is bound by arithmetic or by overhead.
 *
 *   npx tsx bench/session-options.ts [--rounds N] [--threads T] [--model DIR] [--json FILE]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { DEFAULT_MODEL } from '../electron/cli/main';
import { loadModelFolder } from '../electron/engine/model';

const { values: v } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, threads: { type: 'string', default: '2' }, model: { type: 'string' }, json: { type: 'string' } } });
const threads = Number(v.threads);
const model = await loadModelFolder(resolve(v.model ?? process.env.MEDUS_MODEL ?? DEFAULT_MODEL));

type Options = ort.InferenceSession.SessionOptions;
// the engine's options (engine.ts, sessionOptions) as they were when this was written, spinning on; every variant changes one thing of them
const engineOptions: Options = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
const variants: Array<{ name: string; options: Options }> = [
  { name: 'engine (all, arena, 2 threads)', options: engineOptions },
  { name: 'graph optimisation: basic', options: { ...engineOptions, graphOptimizationLevel: 'basic' } },
  { name: 'graph optimisation: extended', options: { ...engineOptions, graphOptimizationLevel: 'extended' } },
  { name: 'graph optimisation: disabled', options: { ...engineOptions, graphOptimizationLevel: 'disabled' } },
  { name: 'no CPU memory arena', options: { ...engineOptions, enableCpuMemArena: false } },
  { name: 'no memory pattern', options: { ...engineOptions, enableMemPattern: false } },
  { name: '1 intra-op thread', options: { ...engineOptions, intraOpNumThreads: 1 } },
  { name: 'no spinning in the thread pool', options: { ...engineOptions, extra: { session: { intra_op: { allow_spinning: '0' } } } } },
];

const s = model.manifest.input_size;
const image = new ort.Tensor('float32', new Float32Array(s * s).map((_, i) => ((i * 37) % 255) / 64 - 1), [1, model.manifest.channels, s, s]);
const probe = await ort.InferenceSession.create(model.encoderPath, engineOptions);
const embedding = await probe.run({ image });
await probe.release();
const low = 4 * Number(embedding.image_embeddings?.dims[2] ?? s / 16);
const decFeeds: Record<string, ort.Tensor> = {
  ...embedding,
  point_coords: new ort.Tensor('float32', new Float32Array([60, 40, 200, 210]), [1, 2, 2]),
  point_labels: new ort.Tensor('float32', new Float32Array([2, 3]), [1, 2]),
  mask_input: new ort.Tensor('float32', new Float32Array(low * low), [1, 1, low, low]),
  has_mask_input: new ort.Tensor('float32', new Float32Array([0]), [1]),
  ...(model.manifest.anatomies ? { anatomy: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]) } : {}),
};

const sessions = [];
for (const variant of variants) sessions.push({ variant, encoder: await ort.InferenceSession.create(model.encoderPath, variant.options), decoder: await ort.InferenceSession.create(model.decoderPath, variant.options), enc: [] as number[], dec: [] as number[] });
for (const x of sessions) {
  await x.encoder.run({ image });
  await x.decoder.run(decFeeds);
}
for (let r = 0; r < Number(v.rounds); r++)
  for (const x of sessions) {
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await x.encoder.run({ image });
      x.enc.push(performance.now() - t);
    }
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await x.decoder.run(decFeeds);
      x.dec.push(performance.now() - t);
    }
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = sessions[0]!;
const rows = sessions.map((x) => ({ variant: x.variant.name, encoder_ms: median(x.enc), decoder_ms: median(x.dec), encoder_vs_engine: median(x.enc) / median(base.enc), decoder_vs_engine: median(x.dec) / median(base.dec) }));
for (const x of sessions) await Promise.all([x.encoder.release(), x.decoder.release()]);

// where the encoder's and decoder's kernel time goes, by operator
async function byOperator(path: string, feeds: Record<string, ort.Tensor>): Promise<Array<{ op: string; share: number; calls: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'medus-ops-'));
  try {
    const session = await ort.InferenceSession.create(path, { ...engineOptions, enableProfiling: true, profileFilePrefix: join(dir, 'p') });
    for (let i = 0; i < 10; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const events = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!), 'utf8')) as Array<{ cat?: string; name?: string; dur?: number; args?: { op_name?: string } }>;
    const time = new Map<string, { us: number; calls: number }>();
    let total = 0;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? '?';
      const t = time.get(op) ?? { us: 0, calls: 0 };
      t.us += e.dur ?? 0;
      t.calls++;
      time.set(op, t);
      total += e.dur ?? 0;
    }
    return [...time].map(([op, t]) => ({ op, share: t.us / total, calls: t.calls / 10 })).sort((a, b) => b.share - a.share);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const encoderOps = await byOperator(model.encoderPath, { image });
const decoderOps = await byOperator(model.decoderPath, decFeeds);

console.log(`${'variant'.padEnd(34)} ${'encoder ms'.padStart(10)} ${'×'.padStart(6)} ${'decoder ms'.padStart(10)} ${'×'.padStart(6)}`);
for (const r of rows) console.log(`${r.variant.padEnd(34)} ${r.encoder_ms.toFixed(2).padStart(10)} ${r.encoder_vs_engine.toFixed(2).padStart(6)} ${r.decoder_ms.toFixed(2).padStart(10)} ${r.decoder_vs_engine.toFixed(2).padStart(6)}`);
const top = (ops: typeof encoderOps) => ops.slice(0, 8).map((o) => `${o.op} ${(100 * o.share).toFixed(0)}% (${o.calls}×)`).join(', ');
console.log(`encoder kernel time by operator: ${top(encoderOps)}`);
console.log(`decoder kernel time by operator: ${top(decoderOps)}`);
if (v.json) writeFileSync(resolve(v.json), JSON.stringify({ threads, rows, encoder_ops: encoderOps, decoder_ops: decoderOps }, null, 2) + '\n');
