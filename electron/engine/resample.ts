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
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * fy;
      const y1 = y0 + fy;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * fx;
        const x1 = x0 + fx;
        let acc = 0;
        let wsum = 0;
        for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
          const wy = Math.min(y + 1, y1) - Math.max(y, y0);
          const row = y * w;
          for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
            const wx = Math.min(x + 1, x1) - Math.max(x, x0);
            acc += src[row + x]! * wx * wy;
            wsum += wx * wy;
          }
        }
        out[oy * outW + ox] = wsum > 0 ? acc / wsum : 0;
      }
    }
    return out;
  }
  return bilinear(Float32Array.from(src), w, h, outW, outH);
}

/** Bilinear resize with half-pixel centres (PyTorch's align_corners=False). */
export function bilinear(src: Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const sx = w / outW;
  const sy = h / outH;
  for (let oy = 0; oy < outH; oy++) {
    const fy = Math.max(0, (oy + 0.5) * sy - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const ty = fy - y0;
    for (let ox = 0; ox < outW; ox++) {
      const fx = Math.max(0, (ox + 0.5) * sx - 0.5);
      const x0 = Math.min(w - 1, Math.floor(fx));
      const x1 = Math.min(w - 1, x0 + 1);
      const tx = fx - x0;
      const a = src[y0 * w + x0]!;
      const b = src[y0 * w + x1]!;
      const c = src[y1 * w + x0]!;
      const d = src[y1 * w + x1]!;
      out[oy * outW + ox] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return out;
}
