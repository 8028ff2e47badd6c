/** Pure mask cleaning, per anatomy preset: small islands, holes, and the component under the clicks. */

export interface CleaningRules {
  /** Drop islands smaller than this fraction of the largest one. */
  minIslandFraction: number;
  fillHoles: boolean;
  /** Keep one component: the one under the positive clicks, else inside the box, else the largest. */
  singleObject: boolean;
}

/** 8-connected component labels (0 = background); returns labels and each component's size. */
export function labelComponents(mask: Uint8Array, w: number, h: number, value = 1): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(w * h);
  const sizes = [0];
  const stack: number[] = [];
  for (let i = 0; i < w * h; i++) {
    if (mask[i] !== value || labels[i] !== 0) continue;
    const id = sizes.length;
    sizes.push(0);
    labels[i] = id;
    stack.push(i);
    while (stack.length) {
      const p = stack.pop()!;
      sizes[id]!++;
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
          // background is 4-connected so that holes are not leaked through diagonal gaps
          if (value === 0 && dx !== 0 && dy !== 0) continue;
          const q = yy * w + xx;
          if (mask[q] === value && labels[q] === 0) {
            labels[q] = id;
            stack.push(q);
          }
        }
      }
    }
  }
  return { labels, sizes };
}

export function fillHoles(mask: Uint8Array, w: number, h: number): Uint8Array {
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
  let out = rules.fillHoles ? fillHoles(mask, w, h) : mask.slice();
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
  out = out.map((v, i) => (v && keep[labels[i]!] ? 1 : 0));
  return out;
}
