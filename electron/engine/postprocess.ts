/**
 * The contract's post-processing: upsample the chosen low-res logits to S×S, undo the resize
 * (stretch, or letterbox crop) to the original size with bilinear interpolation, threshold.
 */
import { contentExtent, type ModelFrame } from './coords';

/**
 * The original-size mask. Only pixels near the boundary are interpolated: a pixel's value is a
 * convex combination of four S×S logits, so where all four lie clearly above (or below) the
 * threshold the answer is known without computing it. Whole runs of such cells are filled at
 * once; the band of mixed cells along the outline gets the exact bilinear value, so the mask is
 * the same as interpolating every pixel (this runs on every click and every zoom pass).
 *
 * The S×S logits are themselves convex combinations of the low-res ones, so a cell whose low-res
 * neighbourhood lies clearly on one side is classed without them; only the cells near the outline
 * get their S×S corners, computed when first needed, with the same arithmetic as `bilinear`.
 */
export function logitsToMask(lowRes: Float32Array, lowSide: number, frame: ModelFrame, threshold: number): Uint8Array {
  const s = frame.size;
  const full = lazyBilinear(lowRes, lowSide, s);
  const { w: cw, h: ch } = contentExtent(frame);
  const w = frame.width;
  const mask = new Uint8Array(w * frame.height);
  // Sample the S×S logits at each original pixel centre (bilinear, half-pixel convention).
  const kx = cw / w;
  const ky = ch / frame.height;
  // the column terms are the same on every row: computed once; columns sharing a left logit
  // column form one cell [cellStart[c], cellStart[c + 1])
  const col0 = new Int32Array(w);
  const colT = new Float64Array(w);
  const cellStart = new Int32Array(s + 1).fill(-1);
  for (let x = 0; x < w; x++) {
    const fx = Math.max(0, Math.min(s - 1, (x + 0.5) * kx - 0.5));
    const x0 = Math.floor(fx);
    col0[x] = x0;
    colT[x] = fx - x0;
    if (cellStart[x0] === -1) cellStart[x0] = x;
  }
  // cells no column falls in are empty: give them the next cell's start
  cellStart[s] = w;
  for (let c = s - 1; c >= 0; c--) if (cellStart[c] === -1) cellStart[c] = cellStart[c + 1]!;
  // a margin keeps the shortcut exact where rounding could put a value on the other side
  const eps = 1e-5 * (1 + Math.abs(threshold));
  const hi = threshold + eps;
  const lo = threshold - eps;
  // per cell of the current logit row pair: 1 all above, 0 all below, 2 mixed
  const cls = new Uint8Array(s);
  let clsRow = -1;
  let anyIn = false;
  // the cells of the current row pair that are not all below: [first, last]
  let first = 0;
  let last = -1;
  for (let y = 0; y < frame.height; y++) {
    const fy = Math.max(0, Math.min(s - 1, (y + 0.5) * ky - 0.5));
    const y0 = Math.floor(fy);
    const r0 = y0 * s;
    const r1 = Math.min(s - 1, y0 + 1) * s;
    const ty = fy - y0;
    if (y0 !== clsRow) {
      clsRow = y0;
      anyIn = false;
      first = s;
      last = -1;
      const y1 = Math.min(s - 1, y0 + 1);
      const near = full.nearRow(y0);
      // every cell of the row pair clearly below (most rows away from the structure): none to class
      for (let c = full.rowBelow(y0, lo) ? s : 0; c < s; c++) {
        const c1 = Math.min(s - 1, c + 1);
        let k: number;
        const bound = near + full.lowCol[c]!;
        if (full.lowMin[bound]! > hi) k = 1;
        else if (full.lowMax[bound]! < lo) k = 0;
        else {
          const a = full.at(y0, c);
          const b = full.at(y0, c1);
          const d = full.at(y1, c);
          const e = full.at(y1, c1);
          const mn = Math.min(a, b, d, e);
          const mx = Math.max(a, b, d, e);
          k = mn > hi ? 1 : mx < lo ? 0 : 2;
        }
        cls[c] = k;
        if (k) {
          anyIn = true;
          if (c < first) first = c;
          last = c;
        }
      }
    }
    if (!anyIn) continue;
    const row = y * w;
    let c = first;
    while (c <= last) {
      const k = cls[c]!;
      if (k === 0) {
        c++;
      } else if (k === 1) {
        // a run of inside cells: one fill
        const from = cellStart[c]!;
        while (c <= last && cls[c] === 1) c++;
        mask.fill(1, row + from, row + cellStart[c]!);
      } else {
        for (let x = cellStart[c]!; x < cellStart[c + 1]!; x++) {
          const x0 = col0[x]!;
          const x1 = Math.min(s - 1, x0 + 1);
          const tx = colT[x]!;
          const v = (full.values[r0 + x0]! * (1 - tx) + full.values[r0 + x1]! * tx) * (1 - ty) + (full.values[r1 + x0]! * (1 - tx) + full.values[r1 + x1]! * tx) * ty;
          mask[row + x] = v > threshold ? 1 : 0;
        }
        c++;
      }
    }
  }
  return mask;
}

/**
 * The low-res logits brought to S×S (bilinear, half-pixel centres, as `bilinear` in resample.ts)
 * value by value on demand, with bounds for classing cells without them: each S×S value mixes the
 * low-res values at two neighbouring rows and columns, and a cell's four corners mix at most three
 * of each, starting at the low-res row and column of its top-left corner, so the minimum and
 * maximum of that 3×3 low-res block bound every value in the cell.
 */
function lazyBilinear(low: Float32Array, side: number, s: number) {
  const k = side / s;
  // per S×S index: the low-res index it starts from and its weight, as bilinear() computes them
  const i0 = new Int32Array(s);
  const t = new Float64Array(s);
  for (let i = 0; i < s; i++) {
    const f = Math.max(0, (i + 0.5) * k - 0.5);
    i0[i] = Math.min(side - 1, Math.floor(f));
    t[i] = f - i0[i]!;
  }
  // min and max over each 3×3 block of low-res values (clamped at the edges), rows then columns
  const rowMin = new Float32Array(side * side);
  const rowMax = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let dx = 0; dx < 3; dx++) {
        const v = low[y * side + Math.min(side - 1, x + dx)]!;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      rowMin[y * side + x] = mn;
      rowMax[y * side + x] = mx;
    }
  const lowMin = new Float32Array(side * side);
  const lowMax = new Float32Array(side * side);
  // shrinking (never the model's case) could skip low-res values between corners: no bounds then
  if (side > s) {
    lowMin.fill(-Infinity);
    lowMax.fill(Infinity);
  } else
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let dy = 0; dy < 3; dy++) {
        const q = Math.min(side - 1, y + dy) * side + x;
        if (rowMin[q]! < mn) mn = rowMin[q]!;
        if (rowMax[q]! > mx) mx = rowMax[q]!;
      }
      lowMin[y * side + x] = mn;
      lowMax[y * side + x] = mx;
    }
  const { values, known } = work(s * s);
  const at = (y: number, x: number): number => {
    const p = y * s + x;
    if (!known[p]) {
      const y0 = i0[y]!;
      const y1 = Math.min(side - 1, y0 + 1);
      const ty = t[y]!;
      const x0 = i0[x]!;
      const x1 = Math.min(side - 1, x0 + 1);
      const tx = t[x]!;
      values[p] = (low[y0 * side + x0]! * (1 - tx) + low[y0 * side + x1]! * tx) * (1 - ty) + (low[y1 * side + x0]! * (1 - tx) + low[y1 * side + x1]! * tx) * ty;
      known[p] = 1;
    }
    return values[p]!;
  };
  // per low-res row: the largest bound along it, so that a row pair wholly below is known at once
  const rowMaxBound = new Float32Array(side);
  for (let y = 0; y < side; y++) {
    let mx = -Infinity;
    for (let x = 0; x < side; x++) if (lowMax[y * side + x]! > mx) mx = lowMax[y * side + x]!;
    rowMaxBound[y] = mx;
  }
  return {
    /** Whether every value in the cells of S×S rows y and y + 1 lies below `lo`. */
    rowBelow: (y: number, lo: number) => rowMaxBound[i0[y]!]! < lo,
    /** S×S values; those of cells outside the band are never computed (read only through `at` or after it). */
    values,
    at,
    /** The low-res column each S×S column's cells start from; add to `nearRow` to index the bounds. */
    lowCol: i0,
    nearRow: (y: number) => i0[y]! * side,
    lowMin,
    lowMax,
  };
}

/** lazyBilinear's S×S values and their computed flags, kept between calls (two per image in a batch). */
let kept = { values: new Float32Array(0), known: new Uint8Array(0) };
function work(n: number): { values: Float32Array; known: Uint8Array } {
  if (kept.values.length < n) kept = { values: new Float32Array(n), known: new Uint8Array(n) };
  const known = kept.known.subarray(0, n);
  known.fill(0);
  return { values: kept.values.subarray(0, n), known };
}
