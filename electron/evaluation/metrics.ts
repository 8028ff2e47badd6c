/** Pure segmentation metrics: Dice, IoU and the 95th-percentile Hausdorff distance. */

export function dice(pred: Uint8Array, truth: Uint8Array): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]! ? 1 : 0;
    const t = truth[i]! ? 1 : 0;
    inter += p & t;
    sum += p + t;
  }
  return sum === 0 ? 1 : (2 * inter) / sum;
}

export function iou(pred: Uint8Array, truth: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]! ? 1 : 0;
    const t = truth[i]! ? 1 : 0;
    inter += p & t;
    union += p | t;
  }
  return union === 0 ? 1 : inter / union;
}

/** Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher), distance to the nearest `seed` pixel. */
export function squaredDistanceTo(seed: Uint8Array, w: number, h: number): Float64Array {
  const INF = 1e20;
  const d = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) d[i] = seed[i] ? 0 : INF;
  const n = Math.max(w, h);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const pass = (len: number) => {
    let k = 0;
    v[0] = 0;
    z[0] = -INF;
    z[1] = INF;
    for (let q = 1; q < len; q++) {
      let s = (f[q]! + q * q - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      while (s <= z[k]!) {
        k--;
        s = (f[q]! + q * q - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = INF;
    }
    k = 0;
    for (let q = 0; q < len; q++) {
      while (z[k + 1]! < q) k++;
      out[q] = (q - v[k]!) * (q - v[k]!) + f[v[k]!]!;
    }
  };
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = d[y * w + x]!;
    pass(h);
    for (let y = 0; y < h; y++) d[y * w + x] = out[y]!;
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) f[x] = d[y * w + x]!;
    pass(w);
    for (let x = 0; x < w; x++) d[y * w + x] = out[x]!;
  }
  return d;
}

/** Pixels of the mask that touch the background (4-neighbourhood) or the image edge. */
export function boundary(mask: Uint8Array, w: number, h: number): Uint8Array {
  const b = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w]) b[i] = 1;
    }
  }
  return b;
}

/**
 * HD95 in pixels, as MedPy computes it: the 95th percentile of the pooled boundary-to-boundary
 * distances in both directions. Returns null when either mask is empty (undefined distance).
 */
export function hausdorff95(pred: Uint8Array, truth: Uint8Array, w: number, h: number): number | null {
  const bp = boundary(pred, w, h);
  const bt = boundary(truth, w, h);
  if (!bp.some((v) => v) || !bt.some((v) => v)) return null;
  const dt = squaredDistanceTo(bt, w, h);
  const dp = squaredDistanceTo(bp, w, h);
  const all: number[] = [];
  for (let i = 0; i < w * h; i++) {
    if (bp[i]) all.push(Math.sqrt(dt[i]!));
    if (bt[i]) all.push(Math.sqrt(dp[i]!));
  }
  return percentile(all, 95);
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}
