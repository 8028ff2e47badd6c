/** Pure mask cleaning, per anatomy preset: small islands, holes, and the component under the clicks. */

export interface CleaningRules {
  /** Drop islands smaller than this fraction of the largest one. */
  minIslandFraction: number;
  fillHoles: boolean;
  /** Keep one component: the one under the positive clicks, else inside the box, else the largest. */
  singleObject: boolean;
}

/**
 * Component labels (0 = background): 8-connected for the structure, 4-connected for background
 * (so holes do not leak through diagonal gaps). Returns labels and each component's size.
 */
export function labelComponents(mask: Uint8Array, w: number, h: number, value = 1): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(w * h);
  const sizes = [0];
  // the structure lies inside its bounding box: only that part of the image is scanned
  const box: [number, number, number, number] | null = value !== 0 ? foregroundBox(mask, w, h) : [0, 0, w - 1, h - 1];
  if (!box) return { labels, sizes };
  const stack = new Int32Array((box[2] - box[0] + 1) * (box[3] - box[1] + 1));
  const diagonal = value !== 0;
  for (let y0 = box[1]; y0 <= box[3]; y0++)
  for (let i = y0 * w + box[0]; i <= y0 * w + box[2]; i++) {
    if (mask[i] !== value || labels[i] !== 0) continue;
    const id = sizes.length;
    let size = 0;
    let top = 0;
    labels[i] = id;
    stack[top++] = i;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const x = p % w;
      const up = p >= w;
      const down = p < w * (h - 1);
      const left = x > 0;
      const right = x < w - 1;
      // unrolled neighbourhood: this runs for every pixel of every mask, on every click
      if (left && mask[p - 1] === value && labels[p - 1] === 0) {
        labels[p - 1] = id;
        stack[top++] = p - 1;
      }
      if (right && mask[p + 1] === value && labels[p + 1] === 0) {
        labels[p + 1] = id;
        stack[top++] = p + 1;
      }
      if (up && mask[p - w] === value && labels[p - w] === 0) {
        labels[p - w] = id;
        stack[top++] = p - w;
      }
      if (down && mask[p + w] === value && labels[p + w] === 0) {
        labels[p + w] = id;
        stack[top++] = p + w;
      }
      if (diagonal) {
        if (up && left && mask[p - w - 1] === value && labels[p - w - 1] === 0) {
        labels[p - w - 1] = id;
        stack[top++] = p - w - 1;
      }
        if (up && right && mask[p - w + 1] === value && labels[p - w + 1] === 0) {
        labels[p - w + 1] = id;
        stack[top++] = p - w + 1;
      }
        if (down && left && mask[p + w - 1] === value && labels[p + w - 1] === 0) {
        labels[p + w - 1] = id;
        stack[top++] = p + w - 1;
      }
        if (down && right && mask[p + w + 1] === value && labels[p + w + 1] === 0) {
        labels[p + w + 1] = id;
        stack[top++] = p + w + 1;
      }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** The smallest box [x0, y0, x1, y1] (inclusive) holding every non-zero pixel, or null for an empty mask. */
export function foregroundBox(mask: Uint8Array, w: number, h: number): [number, number, number, number] | null {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = -1;
    for (let x = 0; x < w; x++)
      if (mask[row + x]) {
        first = x;
        break;
      }
    if (first < 0) continue;
    let last = first;
    for (let x = w - 1; x > first; x--)
      if (mask[row + x]) {
        last = x;
        break;
      }
    if (y < y0) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/**
 * Holes: background not connected to the image's border. Only the structure's bounding box (and
 * one pixel around it) can hold one, since all background outside it reaches the border.
 */
export function fillHoles(mask: Uint8Array, w: number, h: number): Uint8Array {
  const box = foregroundBox(mask, w, h);
  if (!box) return mask.slice();
  const bx0 = Math.max(0, box[0] - 1);
  const by0 = Math.max(0, box[1] - 1);
  const bw = Math.min(w - 1, box[2] + 1) - bx0 + 1;
  const bh = Math.min(h - 1, box[3] + 1) - by0 + 1;
  const sub = new Uint8Array(bw * bh);
  for (let y = 0; y < bh; y++) sub.set(mask.subarray((y + by0) * w + bx0, (y + by0) * w + bx0 + bw), y * bw);
  const filled = fillHolesIn(sub, bw, bh);
  const out = mask.slice();
  for (let y = 0; y < bh; y++) out.set(filled.subarray(y * bw, (y + 1) * bw), (y + by0) * w + bx0);
  return out;
}

function fillHolesIn(mask: Uint8Array, w: number, h: number): Uint8Array {
  const { labels, sizes } = labelComponents(mask, w, h, 0);
  const touchesBorder = new Uint8Array(sizes.length);
  for (let x = 0; x < w; x++) {
    touchesBorder[labels[x]!] = 1;
    touchesBorder[labels[(h - 1) * w + x]!] = 1;
  }
  for (let y = 0; y < h; y++) {
    touchesBorder[labels[y * w]!] = 1;
    touchesBorder[labels[y * w + w - 1]!] = 1;
  }
  const out = mask.slice();
  for (let i = 0; i < w * h; i++) if (mask[i] === 0 && !touchesBorder[labels[i]!]) out[i] = 1;
  return out;
}

export interface Anchor {
  positive: Array<[number, number]>;
  box?: [number, number, number, number];
}

export function cleanMask(mask: Uint8Array, w: number, h: number, rules: CleaningRules, anchor: Anchor): Uint8Array {
  const out = rules.fillHoles ? fillHoles(mask, w, h) : mask.slice();
  const { labels, sizes } = labelComponents(out, w, h, 1);
  if (sizes.length <= 1) return out;
  const largest = Math.max(...sizes.slice(1));
  const keep = new Uint8Array(sizes.length);
  if (rules.singleObject) {
    let chosen = 0;
    for (const [x, y] of anchor.positive) {
      const l = labels[Math.round(y) * w + Math.round(x)];
      if (l) {
        keep[l] = 1;
        chosen = l;
      }
    }
    if (!chosen && anchor.box) {
      // the component with most pixels inside the box
      const [x0, y0, x1, y1] = anchor.box;
      const inside = new Array<number>(sizes.length).fill(0);
      for (let y = Math.max(0, Math.floor(y0)); y < Math.min(h, Math.ceil(y1)); y++)
        for (let x = Math.max(0, Math.floor(x0)); x < Math.min(w, Math.ceil(x1)); x++) inside[labels[y * w + x]!]!++;
      let best = 0;
      for (let l = 1; l < sizes.length; l++) if (inside[l]! > inside[best]! || (best === 0 && inside[l]! > 0)) best = l;
      if (best) {
        keep[best] = 1;
        chosen = best;
      }
    }
    if (!chosen) keep[sizes.indexOf(largest)] = 1;
  } else {
    for (let l = 1; l < sizes.length; l++) if (sizes[l]! >= rules.minIslandFraction * largest) keep[l] = 1;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i] && keep[labels[i]!] ? 1 : 0;
  return out;
}
