/**
 * What the CPU can do and what the model asks of it, measured with the same onnxruntime the app
 * uses (benchmark only, never a unit test):
 *
 * - a GEMM roofline: a MatMul-only ONNX model, written here as a few hundred bytes of protobuf
 *   (no Python or onnx package needed), timed at a few square sizes with the engine's thread count;
 * - the work per call of a model file: onnxruntime's own profile of one run lists every kernel
 *   with the shapes it ran on, from which the convolutions' and matrix products' multiply-adds
 *   are counted (2 FLOP each), the same rule as the model card's count.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

// --- a minimal protobuf writer: varints and length-delimited fields are all an ONNX model needs here

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const intField = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];
const bytesField = (field: number, bytes: number[]): number[] => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const strField = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s, 'utf8')]);

/** ValueInfoProto of a float tensor with fixed dims. */
function floatTensor(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytesField(1, intField(1, d))); // TensorShapeProto.dim { dim_value }
  const tensorType = [...intField(1, 1), ...bytesField(2, shape)]; // elem_type FLOAT, shape
  return [...strField(1, name), ...bytesField(2, bytesField(1, tensorType))]; // name, type { tensor_type }
}

/** ONNX model (IR 7, opset 14) computing C = A·B for A [m,k], B [k,n]. */
export function matMulModel(m: number, k: number, n: number): Uint8Array {
  const node = [...strField(1, 'A'), ...strField(1, 'B'), ...strField(2, 'C'), ...strField(3, 'matmul'), ...strField(4, 'MatMul')];
  const graph = [
    ...bytesField(1, node),
    ...strField(2, 'roofline'),
    ...bytesField(11, floatTensor('A', [m, k])),
    ...bytesField(11, floatTensor('B', [k, n])),
    ...bytesField(12, floatTensor('C', [m, n])),
  ];
  const opset = [...strField(1, ''), ...intField(2, 14)];
  return Uint8Array.from([...intField(1, 7), ...strField(2, 'medus-bench'), ...bytesField(7, graph), ...bytesField(8, opset)]);
}

export interface Roofline {
  /** The best GFLOP/s over the sizes tried. */
  gflops: number;
  bySize: Array<{ size: number; gflops: number; ms: number }>;
}

/** Times C = A·B (square, float32) with onnxruntime on the CPU; median of `runs` per size. */
export async function gemmRoofline(threads: number, sizes = [256, 512, 1024], runs = 12): Promise<Roofline> {
  const bySize: Roofline['bySize'] = [];
  for (const size of sizes) {
    const session = await ort.InferenceSession.create(matMulModel(size, size, size), { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const a = new Float32Array(size * size).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const feeds = { A: new ort.Tensor('float32', a, [size, size]), B: new ort.Tensor('float32', a.slice().reverse(), [size, size]) };
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    await session.release();
    const ms = times.sort((x, y) => x - y)[Math.floor(times.length / 2)]!;
    bySize.push({ size, ms, gflops: (2 * size ** 3) / (ms * 1e6) });
  }
  return { gflops: Math.max(...bySize.map((s) => s.gflops)), bySize };
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

const product = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

/**
 * GFLOP of one run of a model on the given feeds, counted from onnxruntime's profile (convolutions:
 * weights × output positions; matrix products: output elements × the shared dimension).
 */
export async function countGflop(modelPath: string, feeds: Record<string, ort.Tensor>, threads: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'medus-bench-prof-'));
  try {
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, 'p') });
    await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    let macs = 0;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args) continue;
      const op = e.args.op_name ?? '';
      const ins = (e.args.input_type_shape ?? []).map((x) => Object.values(x)[0] ?? []);
      const out = Object.values(e.args.output_type_shape?.[0] ?? {})[0] ?? [];
      if ((op === 'Conv' || op === 'FusedConv') && ins[1] && out.length >= 4) {
        // NCHW [n,c,h,w] and blocked NCHWc [n,c/8,h,w,8] both keep n, h, w at 0, 2, 3
        macs += product(ins[1]) * out[0]! * out[2]! * out[3]!;
      } else if ((op === 'Gemm' || op === 'MatMul' || op === 'FusedMatMul') && ins[0] && ins[0].length >= 2 && out.length >= 2) {
        const a = ins[0];
        const k = a[a.length - 2] === out[out.length - 2] ? a[a.length - 1]! : a[a.length - 2]!;
        macs += product(out) * k;
      }
    }
    return (2 * macs) / 1e9;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
