/** Loads and validates a model folder per ../shared/design/model-contract.md. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const ManifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  input_size: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  resize: z.enum(['stretch', 'letterbox']),
  pixel_mean: z.array(z.number()).min(1),
  pixel_std: z.array(z.number().positive()).min(1),
  mask_threshold: z.number(),
  anatomies: z.array(z.string().min(1)).optional(),
  decoder_outputs: z.union([
    z.object({ masks: z.string(), scores: z.string() }),
    z.array(z.string()).length(2).transform(([masks, scores]) => ({ masks: masks!, scores: scores! })),
  ]),
  multimask: z.object({ single: z.number().int().nonnegative(), candidates: z.array(z.number().int().nonnegative()) }).optional(),
  auto_min_score: z.number().min(0).max(1).optional(),
  /** A model trained on crops around its targets may ask for a zoomed second pass (engine/zoom.ts). */
  zoom: z
    .object({
      modes: z.array(z.enum(['automatic', 'box'])).min(1),
      margin: z.number().min(1).max(4),
      min_gain: z.number().min(1),
      /** Automatic mode may zoom again (up to this many passes) while each crop shrinks by min_gain. */
      passes: z.number().int().min(1).max(3).optional(),
      /** Anatomies the second pass is not run for (it did not help them on validation data). */
      skip_anatomies: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  license: z.string().optional(),
  training_data: z.union([z.string(), z.array(z.string())]).optional(),
  parameters: z.number().optional(),
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
