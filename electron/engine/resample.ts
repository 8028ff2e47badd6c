/** Pure resampling of single-channel rasters. */

/** A word's first byte is its low byte (x86, ARM): what reading pixels four at a time assumes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Area-average resize (like OpenCV's INTER_AREA) when shrinking, bilinear when enlarging, into a
 * target of outW×outH. Used to bring an image into the model frame.
 */
export function resizeGrey(src: Uint8Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const fx = w / outW;
  const fy = h / outH;
  if (fx >= 1 && fy >= 1) {
    // Separable, down first: each output row is the weighted sum of the few source rows it
    // covers, taken along memory for all columns at once (the rows fused, so each column is
    // written once, and read four pixels a word where the rows allow), which leaves the across
    // pass, whose footprints vary in width, outH rows instead of the source's h. The weights are
    // products (wx·wy), so this is the same average as one pass over each output pixel's
    // footprint; at the model's 256 every footprint edge is a multiple of 1/256, so the sums are
    // exact in float64 whatever their order.
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
    const down = scratch(w);
    // whole rows as 32-bit words when every row starts on a word
    const words = LITTLE_ENDIAN && w % 4 === 0 && src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, (w * h) >> 2) : null;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * fy;
      const y1 = y0 + fy;
      const yFrom = Math.floor(y0);
      const yTo = Math.min(h, Math.ceil(y1));
      let rowSum = 0;
      // three rows at a time (most output rows cover two to four): the first group sets, the rest add
      for (let y = yFrom; y < yTo; y += 3) {
        const wa = Math.min(y + 1, y1) - Math.max(y, y0);
        const wb = y + 1 < yTo ? Math.min(y + 2, y1) - Math.max(y + 1, y0) : 0;
        const wc = y + 2 < yTo ? Math.min(y + 3, y1) - Math.max(y + 2, y0) : 0;
        rowSum += wa + wb + wc;
        // rows past the footprint are read with weight 0 (any row in the image will do)
        const ra = y * w;
        const rb = (y + 1 < yTo ? y + 1 : y) * w;
        const rc = (y + 2 < yTo ? y + 2 : y) * w;
        addRows(down, src, words, w, ra, rb, rc, wa, wb, wc, y === yFrom);
      }
      const o = oy * outW;
      for (let ox = 0; ox < outW; ox++) {
        const from = colFrom[ox]!;
        const to = colTo[ox]!;
        const off = colOff[ox]! - from;
        let acc = 0;
        for (let x = from; x < to; x++) acc += down[x]! * wxs[off + x]!;
        const wsum = rowSum * colSum[ox]!;
        out[o + ox] = wsum > 0 ? acc / wsum : 0;
      }
    }
    return out;
  }
  return bilinear(Float32Array.from(src), w, h, outW, outH);
}

/** One float64 work row reused across calls (the encoder's input is resized on every pass). */
let work = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (work.length < n) work = new Float64Array(n);
  return work.subarray(0, n);
}

/**
 * down[x] (=, or += unless `first`) wa·src[ra + x] + wb·src[rb + x] + wc·src[rc + x] for x < w:
 * the same sum in the same order either way, four pixels a word when `words` is given.
 */
function addRows(down: Float64Array, src: Uint8Array, words: Uint32Array | null, w: number, ra: number, rb: number, rc: number, wa: number, wb: number, wc: number, first: boolean): void {
  if (words) {
    const ka = ra >> 2;
    const kb = rb >> 2;
    const kc = rc >> 2;
    for (let x = 0, k = 0; x < w; x += 4, k++) {
      const a = words[ka + k]!;
      const b = words[kb + k]!;
      const c = words[kc + k]!;
      const s0 = (a & 255) * wa + (b & 255) * wb + (c & 255) * wc;
      const s1 = ((a >>> 8) & 255) * wa + ((b >>> 8) & 255) * wb + ((c >>> 8) & 255) * wc;
      const s2 = ((a >>> 16) & 255) * wa + ((b >>> 16) & 255) * wb + ((c >>> 16) & 255) * wc;
      const s3 = (a >>> 24) * wa + (b >>> 24) * wb + (c >>> 24) * wc;
      if (first) {
        down[x] = s0;
        down[x + 1] = s1;
        down[x + 2] = s2;
        down[x + 3] = s3;
      } else {
        down[x]! += s0;
        down[x + 1]! += s1;
        down[x + 2]! += s2;
        down[x + 3]! += s3;
      }
    }
    return;
  }
  if (first) for (let x = 0; x < w; x++) down[x] = src[ra + x]! * wa + src[rb + x]! * wb + src[rc + x]! * wc;
  else for (let x = 0; x < w; x++) down[x]! += src[ra + x]! * wa + src[rb + x]! * wb + src[rc + x]! * wc;
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
