/**
 * Reading the PALETTE COLOR lookup tables (PS3.3 C.7.6.3.1.5/6), plain or segmented
 * (C.7.9.2), into 8-bit RGB tables.
 * Read once per file; applying them is in color.ts.
 */
import type { DataSet } from 'dicom-parser';
import { ImageReadError } from '../types.js';
import type { PaletteLut } from './color.js';

const CHANNELS = [
  { name: 'red', descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  { name: 'green', descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  { name: 'blue', descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
] as const;

type ChannelTags = (typeof CHANNELS)[number];

interface Channel {
  firstMapped: number;
  table: Uint8Array;
}

/** Thrown by expandSegmentedLut; readChannel names the file and channel. */
export class SegmentedLutError extends Error {
  override name = 'SegmentedLutError';
}

/**
 * Expands Segmented Palette Color Lookup Table Data (PS3.3 C.7.9.2) into `entries` values.
 * `data` holds the segments as words (16-bit entries) or bytes (8-bit entries): opcode,
 * length, then the segment's values. Discrete copies values, linear interpolates from the
 * previous entry to its end value, indirect re-runs earlier segments. The standard gives the
 * indirect offset in bytes; pydicom and dcm4che read it as an index into `data`, so a byte
 * offset that does not land on a segment start is tried as an index.
 */
export function expandSegmentedLut(data: ArrayLike<number>, entries: number, entryBytes: 1 | 2): Uint16Array {
  const out = new Uint16Array(entries);
  let n = 0;
  const at = (i: number): number => {
    if (i >= data.length) throw new SegmentedLutError('the segmented lookup table data ends inside a segment');
    return data[i] ?? 0;
  };
  const write = (v: number): void => {
    if (n >= entries) throw new SegmentedLutError(`the segmented lookup table expands to more than the ${entries} entries its descriptor gives`);
    out[n++] = v;
  };
  const offsetWords = entryBytes === 2 ? 2 : 4;

  // Segment starts of the top-level sequence, to validate indirect targets.
  const starts = new Set<number>();
  for (let i = 0; i + 1 < data.length; ) {
    starts.add(i);
    const op = at(i);
    if (op === 0) i += 2 + at(i + 1);
    else if (op === 1) i += 3;
    else if (op === 2) i += 2 + offsetWords;
    else throw new SegmentedLutError(`unknown segment type ${op} in the segmented lookup table`);
  }

  /** Runs segments from `pos`; `count` limits them (indirect), which may not nest. */
  const run = (pos: number, count: number, nested: boolean): void => {
    let i = pos;
    for (let done = 0; done < count && i + 1 < data.length; done++) {
      const op = at(i);
      const length = at(i + 1);
      if (op === 0) {
        for (let k = 0; k < length; k++) write(at(i + 2 + k));
        i += 2 + length;
      } else if (op === 1) {
        if (n === 0) throw new SegmentedLutError('the segmented lookup table starts with a linear segment (it needs a previous value)');
        const y0 = out[n - 1] ?? 0;
        const y1 = at(i + 2);
        for (let k = 1; k <= length; k++) write(Math.round(y0 + ((y1 - y0) * k) / length));
        i += 3;
      } else if (op === 2) {
        if (nested) throw new SegmentedLutError('an indirect segment points at another indirect segment');
        const offset =
          entryBytes === 2
            ? at(i + 2) + at(i + 3) * 65536
            : at(i + 2) + at(i + 3) * 256 + at(i + 4) * 65536 + at(i + 5) * 16777216;
        const target = starts.has(offset / entryBytes) ? offset / entryBytes : starts.has(offset) ? offset : -1;
        if (target < 0) throw new SegmentedLutError(`an indirect segment points at offset ${offset}, which is not a segment`);
        run(target, length, true);
        i += 2 + offsetWords;
      } else {
        throw new SegmentedLutError(`unknown segment type ${op} in the segmented lookup table`);
      }
    }
  };
  run(0, Number.POSITIVE_INFINITY, false);
  if (n !== entries) {
    throw new SegmentedLutError(`the segmented lookup table expands to ${n} entries but its descriptor gives ${entries}`);
  }
  return out;
}

/** 16-bit (or 8-bit) LUT values → 8-bit display values. */
function to8(values: ArrayLike<number>, bitsPerEntry: number, entries: number): Uint8Array {
  const shift = bitsPerEntry > 8 ? bitsPerEntry - 8 : 0;
  const table = new Uint8Array(entries);
  for (let i = 0; i < entries; i++) table[i] = Math.min(255, (values[i] ?? 0) >> shift);
  return table;
}

function readSegmented(path: string, ds: DataSet, tags: ChannelTags, entries: number, bitsPerEntry: number): Uint8Array {
  const el = ds.elements[tags.segmented];
  if (el === undefined || el.length === 0) {
    throw new ImageReadError(path, `the PALETTE COLOR image lacks its ${tags.name} lookup table`);
  }
  const available = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  const words = Math.floor(Math.max(0, available) / 2);
  // OW: read words in the file's byte order; 8-bit segments are the bytes of those words.
  const raw = new Uint16Array(words);
  for (let i = 0; i < words; i++) raw[i] = ds.uint16(tags.segmented, i) ?? 0;
  const eight = bitsPerEntry <= 8;
  const data = eight ? new Uint8Array(raw.buffer) : raw;
  try {
    return to8(expandSegmentedLut(data, entries, eight ? 1 : 2), bitsPerEntry, entries);
  } catch (err) {
    if (!(err instanceof SegmentedLutError)) throw err;
    throw new ImageReadError(path, `the ${tags.name} segmented palette lookup table is damaged: ${err.message}`);
  }
}

function readChannel(path: string, ds: DataSet, tags: ChannelTags, signed: boolean): Channel {
  const { name } = tags;
  const descriptorTag = tags.descriptor;
  const dataTag = tags.data;
  const descriptor = ds.elements[descriptorTag];
  if (descriptor === undefined || descriptor.length < 6) {
    throw new ImageReadError(path, `the PALETTE COLOR image lacks its ${name} lookup table descriptor`);
  }
  const rawEntries = ds.uint16(descriptorTag, 0) ?? 0;
  const entries = rawEntries === 0 ? 65536 : rawEntries;
  // The first mapped value follows the pixel representation (US or SS).
  const firstMapped = (signed ? ds.int16(descriptorTag, 1) : ds.uint16(descriptorTag, 1)) ?? 0;
  const bitsPerEntry = ds.uint16(descriptorTag, 2) ?? 16;

  const data = ds.elements[dataTag];
  if (data === undefined || data.length === 0) {
    return { firstMapped, table: readSegmented(path, ds, tags, entries, bitsPerEntry) };
  }

  const available = Math.min(data.length, ds.byteArray.length - data.dataOffset);
  if (bitsPerEntry <= 8 && available >= entries && available < 2 * entries) {
    // 8-bit entries packed one per byte.
    return { firstMapped, table: ds.byteArray.slice(data.dataOffset, data.dataOffset + entries) };
  }
  if (available < 2 * entries) {
    throw new ImageReadError(path, `the ${name} palette lookup table is shorter than its descriptor says`);
  }
  // 16-bit words: high byte for 16-bit entries; for 8-bit entries stored in words, the value itself.
  const words = new Uint16Array(entries);
  for (let i = 0; i < entries; i++) words[i] = ds.uint16(dataTag, i) ?? 0;
  return { firstMapped, table: to8(words, bitsPerEntry, entries) };
}

export function readPalette(path: string, ds: DataSet, pixelRepresentation: 0 | 1): PaletteLut {
  const [r, g, b] = CHANNELS.map((c) => readChannel(path, ds, c, pixelRepresentation === 1)) as [
    Channel,
    Channel,
    Channel,
  ];
  return { firstMapped: r.firstMapped, red: r.table, green: g.table, blue: b.table };
}
