/** The engine's vocabulary: prompts in original-image pixels, and what a segmentation returns. */

export interface Click {
  x: number;
  y: number;
  /** positive: "this is the structure"; negative: "this is not". */
  label: 'positive' | 'negative';
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Everything a user can say about what to segment. No clicks and no box = automatic mode. */
export interface Prompt {
  clicks: Click[];
  box?: Box;
  /** Anatomy preset key from the model's manifest; required for automatic mode. */
  anatomy?: string;
  /** Low-resolution logits of the previous answer, to refine it with further clicks. */
  previousMask?: Float32Array;
}

export type PromptMode = 'automatic' | 'box' | 'clicks' | 'box+clicks';

export type Polygon = Array<[number, number]>;

export interface Timings {
  encodeMs: number;
  decodeMs: number;
  postprocessMs: number;
  /** Parts of postprocessMs, for the benchmark's click latency: logits to the original-size mask, */
  upsampleMs?: number;
  /** cleaning (holes, islands, the component under the prompt), */
  cleanMs?: number;
  /** and the outline traced once for the final mask. */
  contourMs?: number;
  /** Time inside onnxruntime's runs alone (encoder passes not served from the cache, and the decoder): the benchmark's inference-only share. */
  inferenceMs?: number;
}

export interface Segmentation {
  width: number;
  height: number;
  /** 1 = structure, 0 = background, row-major, original image size. */
  mask: Uint8Array;
  /** The model's own estimate of the mask's quality (predicted IoU), 0..1. */
  score: number;
  mode: PromptMode;
  /** Automatic mode's "target present" score (the model's presence output, else its quality score), 0..1, kept even when the answer is empty so that a site can re-choose its threshold from reviews. */
  presence?: number;
  /** True when automatic mode found nothing (score below the model's threshold or empty mask). */
  empty: boolean;
  /** Outlines for drawing, original-image pixels; holes are separate rings. */
  polygons: Polygon[];
  /** Low-resolution logits of the chosen mask; pass back as `previousMask` to refine. */
  lowRes: Float32Array;
  areaPixels: number;
  /** The crop that was re-encoded for a zoomed second pass (original pixels), or null when none was. */
  zoomedTo: Box | null;
  embeddingCached: boolean;
  timings: Timings;
}
