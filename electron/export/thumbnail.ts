/**
 * A results-table thumbnail: the image scaled to at most 96 px on its long side with the outline
 * drawn over it, as a JPEG data URL (a few kB). Made on demand (`batch:thumbnail`) from the source
 * image and the record's outlines rather than during the batch: the batch stays as fast as
 * before, its reply stays small for big batches, and a result corrected in Review shows as it
 * now is. JPEG with full-resolution chroma so the coloured outline stays sharp.
 */
import sharp from 'sharp';
import type { GreyImage } from '../imaging/greyscale';

export const THUMBNAIL_MAX_SIDE = 96;

export async function thumbnailDataUrl(image: GreyImage, polygons: ReadonlyArray<ReadonlyArray<readonly [number, number]>>, colour: string, maxSide = THUMBNAIL_MAX_SIDE): Promise<string> {
  const s = Math.min(1, maxSide / Math.max(image.width, image.height));
  const w = Math.max(1, Math.round(image.width * s));
  const h = Math.max(1, Math.round(image.height * s));
  const sx = w / image.width;
  const sy = h / image.height;
  const d = polygons
    .filter((r) => r.length > 2)
    .map((r) => 'M' + r.map(([x, y]) => `${(x * sx).toFixed(1)},${(y * sy).toFixed(1)}`).join('L') + 'Z')
    .join(' ');
  // a colour from the preset table only: never text from a record
  const c = /^#[0-9a-fA-F]{3,8}$/.test(colour) ? colour : '#ffe14d';
  let img = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(w, h, { fit: 'fill' })
    .toColourspace('srgb');
  if (d) img = img.composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><path d="${d}" fill="${c}" fill-opacity="0.2" fill-rule="evenodd" stroke="${c}" stroke-width="1.5"/></svg>`), top: 0, left: 0 }]);
  const jpeg = await img.jpeg({ quality: 80, chromaSubsampling: '4:4:4' }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
