// Runs encoder.onnx / decoder.onnx in onnxruntime-node on tensors dumped by medus.export and
// prints the largest absolute difference from PyTorch's outputs, per output, as JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8'));
const load = (t) => {
  const buf = readFileSync(join(dir, t.file));
  const data = t.dtype === 'int64' ? new BigInt64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8) : new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new ort.Tensor(t.dtype, data, t.dims);
};
const maxDiff = (a, b) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const report = { max_abs_diff: {}, dims: {} };
const enc = await ort.InferenceSession.create(join(spec.model, 'encoder.onnx'));
const encOut = await enc.run(Object.fromEntries(Object.entries(spec.encoder.inputs).map(([k, t]) => [k, load(t)])));
for (const [k, t] of Object.entries(spec.encoder.expected)) report.max_abs_diff[`encoder.${k}`] = maxDiff(encOut[k].data, load(t).data);
const dec = await ort.InferenceSession.create(join(spec.model, 'decoder.onnx'));
for (const [i, c] of spec.decoder.entries()) {
  const out = await dec.run(Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => [k, load(t)])));
  for (const [k, t] of Object.entries(c.expected)) {
    report.max_abs_diff[`decoder[${i}].${k}`] = maxDiff(out[k].data, load(t).data);
    report.dims[`decoder[${i}].${k}`] = out[k].dims;
  }
}
console.log(JSON.stringify(report));
