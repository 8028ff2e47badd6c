/** COCO instance-segmentation JSON for researchers, written in pieces so memory stays flat. */
import { polygonArea } from '../measurement/geometry';
import { manualOutline } from '../measurement/manual';
import type { ImageRecord } from './record';

export interface CocoParts {
  image: Record<string, unknown>;
  annotations: Array<Record<string, unknown>>;
}

/** The COCO entries of one image; ids are assigned by the caller in order. */
export function cocoParts(r: ImageRecord, imageId: number, firstAnnotationId: number, categoryId: number): CocoParts {
  const image = { id: imageId, file_name: r.relative, width: r.width, height: r.height, frame: r.frame };
  const annotations: Array<Record<string, unknown>> = r.measurement.objects.map((o, i) => {
    const [x0, y0, x1, y1] = o.boundingBox;
    // each object's outer rings: those whose points fall inside its box
    const rings = r.polygons.filter((ring) => ring.every(([x, y]) => x >= x0 - 1 && x <= x1 + 2 && y >= y0 - 1 && y <= y1 + 2));
    return {
      id: firstAnnotationId + i,
      image_id: imageId,
      category_id: categoryId,
      segmentation: rings.map((ring) => ring.flatMap(([x, y]) => [Number(x.toFixed(2)), Number(y.toFixed(2))])),
      area: o.pixelCount,
      bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
      iscrowd: 0,
      score: Number(r.score.toFixed(4)),
      source: 'model',
    };
  });
  // hand-drawn outlines (ellipse, polygon, trace) are segmentations too; rulers and angles enclose nothing
  for (const m of r.manual ?? []) {
    const ring = manualOutline(m);
    if (!ring) continue;
    const xs = ring.map((p) => p[0]);
    const ys = ring.map((p) => p[1]);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    annotations.push({
      id: firstAnnotationId + annotations.length,
      image_id: imageId,
      category_id: categoryId,
      segmentation: [ring.flatMap(([x, y]) => [Number(x.toFixed(2)), Number(y.toFixed(2))])],
      area: Number(polygonArea(ring).toFixed(2)),
      bbox: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0].map((v) => Number(v.toFixed(2))),
      iscrowd: 0,
      // not the model's: no score; what was drawn and its name, as in the results table
      source: 'manual',
      manual: { id: m.id, kind: m.kind, name: m.name },
    });
  }
  return { image, annotations };
}

export function cocoDocument(images: string, annotations: string, categories: Array<{ id: number; name: string }>, info: Record<string, unknown>): string {
  return `{"info":${JSON.stringify(info)},"licenses":[],"categories":${JSON.stringify(categories)},"images":[${images}],"annotations":[${annotations}]}\n`;
}
