/** Pure resampling of single-channel rasters. */

/**
 * Area-average resize (like OpenCV's INTER_AREA) when shrinking, bilinear when enlarging, into a
 * target of outW×outH. Used to bring an image into the model frame.
 */
export function resizeGrey(src: Uint8Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const fx = w / outW;
  const fy = h / outH;
  if (fx >= 1 && fy >= 1) {
    // Separable: each source row is first averaged across into the output's columns, then rows
    // are averaged down. The weights are products (wx·wy), so this is the same average as one
    // pass over each output pixel's whole footprint (to float64 rounding, far below what float32
    // keeps). A source pixel falls in at most two output columns (and a row in two output rows),
    // so each is read once and added to its one or two outputs, in the same order as before.
    const cols = spans(w, outW, fx);
    const rows = spans(h, outH, fy);
    const acc = scratch(outW * outH + outW);
    acc.fill(0);
    const across = outW * outH; // the current source row's column sums live after the output
    for (let y = 0; y < h; y++) {
      const ra = rows.a[y]!;
      if (ra < 0) continue;
      const row = y * w;
      acc.fill(0, across, across + outW);
      for (let x = 0; x < w; x++) {
        const v = src[row + x]!;
        const a = cols.a[x]!;
        if (a >= 0) acc[across + a]! += v * cols.wa[x]!;
        const b = cols.b[x]!;
        if (b >= 0) acc[across + b]! += v * cols.wb[x]!;
      }
      const oa = ra * outW;
      const wa = rows.wa[y]!;
      for (let ox = 0; ox < outW; ox++) acc[oa + ox]! += acc[across + ox]! * wa;
      const rb = rows.b[y]!;
      if (rb >= 0) {
        const ob = rb * outW;
        const wb = rows.wb[y]!;
        for (let ox = 0; ox < outW; ox++) acc[ob + ox]! += acc[across + ox]! * wb;
      }
    }
    for (let oy = 0; oy < outH; oy++) {
      const o = oy * outW;
      for (let ox = 0; ox < outW; ox++) {
        const wsum = rows.sum[oy]! * cols.sum[ox]!;
        out[o + ox] = wsum > 0 ? acc[o + ox]! / wsum : 0;
      }
    }
    return out;
  }
  return bilinear(Float32Array.from(src), w, h, outW, outH);
}

/**
 * Area weights along one axis of n source pixels into m outputs of `f` source pixels each: the
 * first and second output each source pixel falls in (−1: none) with its weights (the overlap of
 * [i, i + 1) with the output's span), and each output's total weight.
 */
function spans(n: number, m: number, f: number): { a: Int32Array; wa: Float64Array; b: Int32Array; wb: Float64Array; sum: Float64Array } {
  const a = new Int32Array(n).fill(-1);
  const b = new Int32Array(n).fill(-1);
  const wa = new Float64Array(n);
  const wb = new Float64Array(n);
  const sum = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    const p0 = o * f;
    const p1 = p0 + f;
    for (let i = Math.floor(p0); i < Math.min(n, Math.ceil(p1)); i++) {
      const wt = Math.min(i + 1, p1) - Math.max(i, p0);
      if (a[i] === -1) {
        a[i] = o;
        wa[i] = wt;
      } else {
        // spans are at least a pixel long, so no pixel meets a third one
        b[i] = o;
        wb[i] = wt;
      }
      sum[o]! += wt;
    }
  }
  return { a, wa, b, wb, sum };
}

/** One float64 work area reused across calls (the encoder's input is resized on every pass). */
let work = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (work.length < n) work = new Float64Array(n);
  return work.subarray(0, n);
}

/** Bilinear resize with half-pixel centres (PyTorch's align_corners=False). */
export function bilinear(src: Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const sx = w / outW;
  const sy = h / outH;
  // the column terms are the same on every row: computed once
  const cx0 = new Int32Array(outW);
  const cx1 = new Int32Array(outW);
  const ctx = new Float64Array(outW);
  for (let ox = 0; ox < outW; ox++) {
    const fx = Math.max(0, (ox + 0.5) * sx - 0.5);
    const x0 = Math.min(w - 1, Math.floor(fx));
    cx0[ox] = x0;
    cx1[ox] = Math.min(w - 1, x0 + 1);
    ctx[ox] = fx - x0;
  }
  for (let oy = 0; oy < outH; oy++) {
    const fy = Math.max(0, (oy + 0.5) * sy - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const ty = fy - y0;
    const r0 = y0 * w;
    const r1 = y1 * w;
    const o = oy * outW;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = cx0[ox]!;
      const x1 = cx1[ox]!;
      const tx = ctx[ox]!;
      out[o + ox] = (src[r0 + x0]! * (1 - tx) + src[r0 + x1]! * tx) * (1 - ty) + (src[r1 + x0]! * (1 - tx) + src[r1 + x1]! * tx) * ty;
    }
  }
  return out;
}
