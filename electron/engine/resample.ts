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
    // keeps), with each source pixel read once instead of once per footprint it falls in.
    const colFrom = new Int32Array(outW);
    const colTo = new Int32Array(outW);
    const colOff = new Int32Array(outW + 1);
    let total = 0;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * fx;
      colFrom[ox] = Math.floor(x0);
      colTo[ox] = Math.min(w, Math.ceil(x0 + fx));
      colOff[ox] = total;
      total += Math.max(0, colTo[ox]! - colFrom[ox]!);
    }
    colOff[outW] = total;
    const wxs = new Float64Array(total);
    const colSum = new Float64Array(outW);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * fx;
      const x1 = x0 + fx;
      for (let x = colFrom[ox]!; x < colTo[ox]!; x++) {
        const wx = Math.min(x + 1, x1) - Math.max(x, x0);
        wxs[colOff[ox]! + x - colFrom[ox]!] = wx;
        colSum[ox]! += wx;
      }
    }
    const across = scratch(h * outW);
    for (let y = 0; y < h; y++) {
      const row = y * w;
      const o = y * outW;
      for (let ox = 0; ox < outW; ox++) {
        const from = colFrom[ox]!;
        const to = colTo[ox]!;
        const off = colOff[ox]! - from;
        let acc = 0;
        for (let x = from; x < to; x++) acc += src[row + x]! * wxs[off + x]!;
        across[o + ox] = acc;
      }
    }
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * fy;
      const y1 = y0 + fy;
      const yFrom = Math.floor(y0);
      const yTo = Math.min(h, Math.ceil(y1));
      const ws = rowWeights(yFrom, yTo, y0, y1);
      let rowSum = 0;
      for (let y = yFrom; y < yTo; y++) rowSum += ws[y - yFrom]!;
      const o = oy * outW;
      for (let ox = 0; ox < outW; ox++) {
        let acc = 0;
        for (let y = yFrom; y < yTo; y++) acc += across[y * outW + ox]! * ws[y - yFrom]!;
        const wsum = rowSum * colSum[ox]!;
        out[o + ox] = wsum > 0 ? acc / wsum : 0;
      }
    }
    return out;
  }
  return bilinear(Float32Array.from(src), w, h, outW, outH);
}

/** One float64 work area reused across calls (the encoder's input is resized on every pass). */
let work = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (work.length < n) work = new Float64Array(n);
  return work.subarray(0, n);
}

/** Each source row's share of the output row [y0, y1). */
function rowWeights(from: number, to: number, y0: number, y1: number): Float64Array {
  const ws = new Float64Array(Math.max(0, to - from));
  for (let y = from; y < to; y++) ws[y - from] = Math.min(y + 1, y1) - Math.max(y, y0);
  return ws;
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
