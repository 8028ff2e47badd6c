/** Pure mask cleaning, per anatomy preset: small islands, holes, and the component under the clicks. */

export interface CleaningRules {
  /** Drop islands smaller than this fraction of the largest one. */
  minIslandFraction: number;
  fillHoles: boolean;
  /** Keep one component: the one under the positive clicks, else inside the box, else the largest. */
  singleObject: boolean;
}

/** A mask's runs (a row's stretch of equal pixels) inside a box, grouped into components. */
export interface ComponentRuns {
  /** The box scanned, inclusive [x0, y0, x1, y1]. */
  box: [number, number, number, number];
  count: number;
  /** Run r covers pixels [starts[r], ends[r]) of row rowOf[r]; runs are in raster order. */
  starts: Int32Array;
  ends: Int32Array;
  rowOf: Int32Array;
  /** The first run of each row of the box (index y − box[1]), and `count` at the end. */
  rowStart: Int32Array;
  /** Component label of each run, 1-based, numbered by the component's first pixel in raster order. */
  label: Int32Array;
  /** Pixels per label (index 0 unused, 0). */
  sizes: number[];
}

/**
 * Components of `value` pixels inside `box`: 8-connected (diagonal) or 4-connected. Works on runs
 * joined by union-find, not pixel by pixel: a mask has a few runs per row, so all but the one pass
 * that finds them is per run. This runs on every mask of every click, zoom pass and measurement.
 */
export function componentRuns(mask: Uint8Array, w: number, box: [number, number, number, number], value: number, diagonal: boolean): ComponentRuns {
  const [bx0, by0, bx1, by1] = box;
  // 8-connected runs touch when they overlap or meet at a corner; 4-connected ones must overlap
  const reach = diagonal ? 1 : 0;
  let cap = 256;
  let starts = new Int32Array(cap);
  let ends = new Int32Array(cap); // exclusive
  let rowOf = new Int32Array(cap);
  let parent = new Int32Array(cap);
  let n = 0;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]!]!;
      a = parent[a]!;
    }
    return a;
  };
  const grow = (a: Int32Array) => {
    const b = new Int32Array(cap);
    b.set(a);
    return b;
  };
  const rowStart = new Int32Array(Math.max(0, by1 - by0 + 2));
  const words = alignedWords(mask);
  const other = value === 0 ? 1 : 0;
  for (let y = by0; y <= by1; y++) {
    rowStart[y - by0] = n;
    const row = y * w;
    let x = bx0;
    const rowEnd = row + bx1 + 1;
    while (x <= bx1) {
      if (mask[row + x] !== value) {
        // a binary mask's other value comes in long stretches: skipped a word at a time
        x = skipWhile(mask, words, row + x, rowEnd, other) - row;
        if (x <= bx1 && mask[row + x] !== value) x++;
        continue;
      }
      const s = x;
      x = skipWhile(mask, words, row + x, rowEnd, value) - row;
      if (n === cap) {
        cap *= 2;
        starts = grow(starts);
        ends = grow(ends);
        rowOf = grow(rowOf);
        parent = grow(parent);
      }
      starts[n] = s;
      ends[n] = x;
      rowOf[n] = y;
      parent[n] = n;
      n++;
    }
    // join with the row above: both rows' runs are sorted, so one merge-like walk finds every touch
    if (y > by0) {
      let a = rowStart[y - by0 - 1]!;
      const aEnd = rowStart[y - by0]!;
      for (let b = aEnd; b < n; b++) {
        while (a < aEnd && ends[a]! + reach <= starts[b]!) a++;
        for (let k = a; k < aEnd && starts[k]! < ends[b]! + reach; k++) {
          const ra = find(k);
          const rb = find(b);
          // the older root wins, so a component's root is its first run in raster order
          if (ra < rb) parent[rb] = ra;
          else if (rb < ra) parent[ra] = rb;
        }
      }
    }
  }
  if (by1 >= by0) rowStart[by1 - by0 + 1] = n;
  const label = new Int32Array(n);
  const sizes = [0];
  for (let r = 0; r < n; r++) {
    const root = find(r);
    if (root === r) {
      label[r] = sizes.length;
      sizes.push(0);
    } else label[r] = label[root]!;
    sizes[label[r]!]! += ends[r]! - starts[r]!;
  }
  return { box, count: n, starts, ends, rowOf, rowStart, label, sizes };
}

/** The component label at pixel (x, y), 0 when it is not one of the runs. */
export function labelAt(c: ComponentRuns, x: number, y: number): number {
  if (y < c.box[1] || y > c.box[3]) return 0;
  for (let r = c.rowStart[y - c.box[1]]!; r < c.rowStart[y - c.box[1] + 1]!; r++) if (x >= c.starts[r]! && x < c.ends[r]!) return c.label[r]!;
  return 0;
}

/**
 * Component labels (0 = background): 8-connected for the structure, 4-connected for background
 * (so holes do not leak through diagonal gaps). Returns labels and each component's size.
 */
export function labelComponents(mask: Uint8Array, w: number, h: number, value = 1): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(w * h);
  // the structure lies inside its bounding box: only that part of the image is scanned
  const box: [number, number, number, number] | null = value !== 0 ? foregroundBox(mask, w, h) : [0, 0, w - 1, h - 1];
  if (!box) return { labels, sizes: [0] };
  const c = componentRuns(mask, w, box, value, value !== 0);
  for (let r = 0; r < c.count; r++) labels.fill(c.label[r]!, c.rowOf[r]! * w + c.starts[r]!, c.rowOf[r]! * w + c.ends[r]!);
  return { labels, sizes: c.sizes };
}

/** The smallest box [x0, y0, x1, y1] (inclusive) holding every non-zero pixel, or null for an empty mask. */
export function foregroundBox(mask: Uint8Array, w: number, h: number): [number, number, number, number] | null {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  // four pixels at a time where the mask's memory allows: most of a mask's rows are empty
  const words = alignedWords(mask);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const first = firstNonZero(mask, words, row, row + w);
    if (first < 0) continue;
    const last = lastNonZero(mask, words, first, row + w);
    if (y < y0) y0 = y;
    y1 = y;
    if (first - row < x0) x0 = first - row;
    if (last - row > x1) x1 = last - row;
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** The mask as 32-bit words (four pixels each) when its memory is aligned for that, else null. */
function alignedWords(mask: Uint8Array): Uint32Array | null {
  return mask.byteOffset % 4 === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, mask.length >> 2) : null;
}

/** The first index in [from, to) whose byte is not `byte` (`to` when there is none). */
function skipWhile(mask: Uint8Array, words: Uint32Array | null, from: number, to: number, byte: number): number {
  let i = from;
  if (words) {
    while (i < to && i & 3) {
      if (mask[i] !== byte) return i;
      i++;
    }
    if (i < to) {
      const pattern = byte * 0x01010101;
      let k = i >> 2;
      const kEnd = to >> 2;
      while (k < kEnd && words[k] === pattern) k++;
      i = k << 2;
    }
  }
  while (i < to && mask[i] === byte) i++;
  return i;
}

/** Index of the first non-zero byte in [from, to), or −1; `words` is the mask as 32-bit words when aligned. */
function firstNonZero(mask: Uint8Array, words: Uint32Array | null, from: number, to: number): number {
  let i = from;
  if (words) {
    while (i < to && i & 3) {
      if (mask[i]) return i;
      i++;
    }
    if (i < to) {
      // i is word-aligned: skip whole zero words inside [i, to)
      let k = i >> 2;
      const kEnd = to >> 2;
      while (k < kEnd && words[k] === 0) k++;
      i = k << 2;
    }
  }
  for (; i < to; i++) if (mask[i]) return i;
  return -1;
}

/** Index of the last non-zero byte in [from, to), or −1. */
function lastNonZero(mask: Uint8Array, words: Uint32Array | null, from: number, to: number): number {
  let i = to - 1;
  if (words) {
    while (i >= from && (i + 1) & 3) {
      if (mask[i]) return i;
      i--;
    }
    if (i >= from) {
      // i + 1 is word-aligned: skip whole zero words inside [from, i]
      let k = ((i + 1) >> 2) - 1;
      const kStart = (from + 3) >> 2;
      while (k >= kStart && words[k] === 0) k--;
      i = ((k + 1) << 2) - 1;
    }
  }
  for (; i >= from; i--) if (mask[i]) return i;
  return -1;
}

/**
 * Holes: background not connected to the image's border. Only the structure's bounding box (and
 * one pixel around it) can hold one, since all background outside it reaches the border.
 */
export function fillHoles(mask: Uint8Array, w: number, h: number): Uint8Array {
  const out = mask.slice();
  const box = foregroundBox(mask, w, h);
  if (box) fillHolesInBox(out, mask, w, h, box);
  return out;
}

/** Fills into `out` the background components of `mask` inside the box (grown by a pixel) that do not reach the grown box's edge. */
function fillHolesInBox(out: Uint8Array, mask: Uint8Array, w: number, h: number, box: [number, number, number, number]): void {
  const grown: [number, number, number, number] = [Math.max(0, box[0] - 1), Math.max(0, box[1] - 1), Math.min(w - 1, box[2] + 1), Math.min(h - 1, box[3] + 1)];
  const c = componentRuns(mask, w, grown, 0, false);
  const touchesBorder = new Uint8Array(c.sizes.length);
  for (let r = 0; r < c.count; r++) {
    const y = c.rowOf[r]!;
    if (y === grown[1] || y === grown[3] || c.starts[r] === grown[0] || c.ends[r] === grown[2] + 1) touchesBorder[c.label[r]!] = 1;
  }
  for (let r = 0; r < c.count; r++) if (!touchesBorder[c.label[r]!]) out.fill(1, c.rowOf[r]! * w + c.starts[r]!, c.rowOf[r]! * w + c.ends[r]!);
}

export interface Anchor {
  positive: Array<[number, number]>;
  box?: [number, number, number, number];
}

export function cleanMask(mask: Uint8Array, w: number, h: number, rules: CleaningRules, anchor: Anchor): Uint8Array {
  return cleanMaskCounted(mask, w, h, rules, anchor).mask;
}

/**
 * cleanMask, with the cleaned mask's pixel count (known from its runs, so no pass to count them).
 * `inPlace`: the caller gives up a 0/1 mask of its own, which is cleaned where it is and returned,
 * instead of copied twice (the engine, two full-size masks a pass).
 */
export function cleanMaskCounted(mask: Uint8Array, w: number, h: number, rules: CleaningRules, anchor: Anchor, inPlace = false): { mask: Uint8Array; area: number } {
  const fgBox = foregroundBox(mask, w, h);
  if (!fgBox) return { mask: inPlace ? mask : mask.slice(), area: 0 };
  let filled = mask;
  if (rules.fillHoles) {
    if (!inPlace) filled = mask.slice();
    // the background's runs are all found before any is filled, so filling `mask` itself is safe
    fillHolesInBox(filled, mask, w, h, fgBox);
  }
  // filling holes never grows the box: the structure's components are all inside it
  const c = componentRuns(filled, w, fgBox, 1, true);
  const sizes = c.sizes;
  if (sizes.length <= 1) {
    // no pixel equals 1 (a mask of other values): nothing is kept as structure, nothing counted
    return { mask: filled === mask && !inPlace ? mask.slice() : filled, area: 0 };
  }
  const largest = Math.max(...sizes.slice(1));
  const keep = new Uint8Array(sizes.length);
  if (rules.singleObject) {
    let chosen = 0;
    for (const [x, y] of anchor.positive) {
      const l = labelAt(c, Math.round(x), Math.round(y));
      if (l) {
        keep[l] = 1;
        chosen = l;
      }
    }
    if (!chosen && anchor.box) {
      // the component with most pixels inside the box
      const [x0, y0, x1, y1] = anchor.box;
      const inside = new Array<number>(sizes.length).fill(0);
      const bx0 = Math.max(0, Math.floor(x0));
      const bx1 = Math.min(w, Math.ceil(x1));
      const ylo = Math.max(0, Math.floor(y0));
      const yhi = Math.min(h, Math.ceil(y1));
      for (let r = 0; r < c.count; r++) {
        const y = c.rowOf[r]!;
        if (y < ylo || y >= yhi) continue;
        const overlap = Math.min(c.ends[r]!, bx1) - Math.max(c.starts[r]!, bx0);
        if (overlap > 0) inside[c.label[r]!]! += overlap;
      }
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
  let area = 0;
  if (inPlace) {
    // the components not kept, erased (a 0/1 mask holds nothing else)
    for (let r = 0; r < c.count; r++) {
      if (keep[c.label[r]!]) area += c.ends[r]! - c.starts[r]!;
      else filled.fill(0, c.rowOf[r]! * w + c.starts[r]!, c.rowOf[r]! * w + c.ends[r]!);
    }
    return { mask: filled, area };
  }
  // the kept components' runs, written into an empty mask
  const out = new Uint8Array(w * h);
  for (let r = 0; r < c.count; r++)
    if (keep[c.label[r]!]) {
      out.fill(1, c.rowOf[r]! * w + c.starts[r]!, c.rowOf[r]! * w + c.ends[r]!);
      area += c.ends[r]! - c.starts[r]!;
    }
  return { mask: out, area };
}
