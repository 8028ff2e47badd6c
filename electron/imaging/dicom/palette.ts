/**
 * Reading the PALETTE COLOR lookup tables (PS3.3 C.7.6.3.1.5/6) into 8-bit RGB tables.
 * Read once per file; applying them is in color.ts.
 */
import type { DataSet } from 'dicom-parser';
import { ImageReadError } from '../types.js';
import type { PaletteLut } from './color.js';

const CHANNELS = [
  { name: 'red', descriptor: 'x00281101', data: 'x00281201' },
  { name: 'green', descriptor: 'x00281102', data: 'x00281202' },
  { name: 'blue', descriptor: 'x00281103', data: 'x00281203' },
] as const;

interface Channel {
  firstMapped: number;
  table: Uint8Array;
}

function readChannel(path: string, ds: DataSet, descriptorTag: string, dataTag: string, name: string, signed: boolean): Channel {
  const descriptor = ds.elements[descriptorTag];
  const data = ds.elements[dataTag];
  if (descriptor === undefined || descriptor.length < 6 || data === undefined || data.length === 0) {
    const segmented = ds.elements['x00281221'] !== undefined;
    throw new ImageReadError(
      path,
      segmented
        ? 'the PALETTE COLOR image uses segmented lookup tables, which this reader does not support'
        : `the PALETTE COLOR image lacks its ${name} lookup table`,
    );
  }
  const rawEntries = ds.uint16(descriptorTag, 0) ?? 0;
  const entries = rawEntries === 0 ? 65536 : rawEntries;
  // The first mapped value follows the pixel representation (US or SS).
  const firstMapped = (signed ? ds.int16(descriptorTag, 1) : ds.uint16(descriptorTag, 1)) ?? 0;
  const bitsPerEntry = ds.uint16(descriptorTag, 2) ?? 16;

  const table = new Uint8Array(entries);
  const available = Math.min(data.length, ds.byteArray.length - data.dataOffset);
  if (bitsPerEntry <= 8 && available >= entries && available < 2 * entries) {
    // 8-bit entries packed one per byte.
    table.set(ds.byteArray.subarray(data.dataOffset, data.dataOffset + entries));
    return { firstMapped, table };
  }
  if (available < 2 * entries) {
    throw new ImageReadError(path, `the ${name} palette lookup table is shorter than its descriptor says`);
  }
  // 16-bit words: high byte for 16-bit entries; for 8-bit entries stored in words, the value itself.
  const shift = bitsPerEntry > 8 ? bitsPerEntry - 8 : 0;
  for (let i = 0; i < entries; i++) {
    const v = ds.uint16(dataTag, i) ?? 0;
    table[i] = Math.min(255, v >> shift);
  }
  return { firstMapped, table };
}

export function readPalette(path: string, ds: DataSet, pixelRepresentation: 0 | 1): PaletteLut {
  const [r, g, b] = CHANNELS.map((c) => readChannel(path, ds, c.descriptor, c.data, c.name, pixelRepresentation === 1)) as [
    Channel,
    Channel,
    Channel,
  ];
  return { firstMapped: r.firstMapped, red: r.table, green: g.table, blue: b.table };
}
