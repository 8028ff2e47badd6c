/** Loads and validates a model folder per ../shared/design/model-contract.md. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Bounds on every manifest field: the manifest comes with a downloaded model folder, and an
 * unbounded value costs memory or time before anything else can check it (an input_size of
 * 20 000 took the engine to 3.2 GB).
 */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** 64 is the smallest side that still shows an ultrasound structure; 2048 is twice SAM's 1024 (encoder memory grows with its square). */
const MIN_INPUT_SIZE = 64;
const MAX_INPUT_SIZE = 2048;
/** The encoder downsamples by 16 (the engine sizes its low-resolution mask input from input_size / 16). */
const INPUT_STRIDE = 16;
const MAX_ANATOMIES = 64;
/** Anatomy names appear in menus, tables and file names: kept short. */
const MAX_NAME = 64;
/** Decoders return a handful of candidate masks (SAM: 4); indices beyond 15 are a mistake. */
const MAX_MASK_INDEX = 15;

const name = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const anatomyList = z
  .array(name(MAX_NAME))
  .max(MAX_ANATOMIES, `must list at most ${MAX_ANATOMIES} anatomies`)
  .refine((a) => new Set(a).size === a.length, 'must not list an anatomy twice');
const maskIndex = z.number().int().min(0, 'must be a mask index, 0 or more').max(MAX_MASK_INDEX, `must be a mask index of at most ${MAX_MASK_INDEX}`);

const ManifestSchema = z.object({
  name: name(100),
  version: name(50),
  input_size: z
    .number()
    .int('must be a whole number of pixels')
    .min(MIN_INPUT_SIZE, `must be at least ${MIN_INPUT_SIZE} pixels`)
    .max(MAX_INPUT_SIZE, `must be at most ${MAX_INPUT_SIZE} pixels (larger inputs need gigabytes of memory)`)
    .multipleOf(INPUT_STRIDE, `must be a multiple of ${INPUT_STRIDE}`),
  channels: z.union([z.literal(1), z.literal(3)]),
  resize: z.enum(['stretch', 'letterbox']),
  // Pixels are 0–255 before normalisation; means and deviations outside ±1000 are a mistake.
  pixel_mean: z.array(z.number().min(-1000).max(1000)).min(1).max(3),
  pixel_std: z.array(z.number().positive().max(1000)).min(1).max(3),
  /** A threshold on decoder logits. */
  mask_threshold: z.number().min(-100).max(100),
  anatomies: anatomyList.optional(),
  decoder_outputs: z.union([
    /** presence: an optional calibrated "target present" probability per mask (automatic mode). */
    z.object({ masks: name(200), scores: name(200), presence: name(200).optional() }),
    z.array(name(200)).length(2).transform(([masks, scores]): { masks: string; scores: string; presence?: string } => ({ masks: masks!, scores: scores! })),
  ]),
  multimask: z.object({ single: maskIndex, candidates: z.array(maskIndex).max(MAX_MASK_INDEX + 1) }).optional(),
  auto_min_score: z.number().min(0).max(1).optional(),
  /** Automatic mode's "nothing here" threshold per anatomy, chosen on validation data (engine/presence.ts). */
  presence_thresholds: z.record(name(MAX_NAME), z.number().min(0).max(1)).optional(),
  /** A model trained on crops around its targets may ask for a zoomed second pass (engine/zoom.ts). */
  zoom: z
    .object({
      modes: z.array(z.enum(['automatic', 'box'])).min(1).max(2),
      margin: z.number().min(1).max(4),
      /** Useful gains are about 1.1–2; the bound catches typos. */
      min_gain: z.number().min(1).max(16),
      /** Automatic mode may zoom again (up to this many passes) while each crop shrinks by min_gain. */
      passes: z.number().int().min(1).max(3).optional(),
      /** Anatomies the second pass is not run for (it did not help them on validation data). */
      skip_anatomies: anatomyList.optional(),
    })
    .optional(),
  license: z.string().max(2000).optional(),
  training_data: z.union([z.string().max(2000), z.array(z.string().max(200)).max(100)]).optional(),
  parameters: z.number().int().min(0).max(1e12).optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;

export interface ModelFolder {
  dir: string;
  manifest: Manifest;
  encoderPath: string;
  decoderPath: string;
}

export class ModelLoadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`model file ${file}: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

async function requireFile(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ModelLoadError(path, 'is not a file');
    if (st.size === 0) throw new ModelLoadError(path, 'is empty');
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    throw new ModelLoadError(path, 'is missing (a model folder needs model.json, encoder.onnx and decoder.onnx)');
  }
}

export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  const manifestPath = join(dir, 'model.json');
  await requireFile(manifestPath);
  // A manifest is a few hundred bytes; refuse a huge one before reading it.
  const size = (await stat(manifestPath)).size;
  if (size > MAX_MANIFEST_BYTES) throw new ModelLoadError(manifestPath, `is ${size} bytes; a model manifest may have at most ${MAX_MANIFEST_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(manifestPath, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelLoadError(manifestPath, `does not follow the model contract: ${issues}`);
  }
  const m = parsed.data;
  if (m.pixel_mean.length !== m.channels || m.pixel_std.length !== m.channels) {
    throw new ModelLoadError(manifestPath, `pixel_mean and pixel_std need ${m.channels} value(s), one per channel`);
  }
  const encoderPath = join(dir, 'encoder.onnx');
  const decoderPath = join(dir, 'decoder.onnx');
  await requireFile(encoderPath);
  await requireFile(decoderPath);
  return { dir, manifest: m, encoderPath, decoderPath };
}
