import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { LruBytesCache } from '../electron/engine/cache';
import { SegmentationEngine } from '../electron/engine/engine';
import { loadModelFolder, ModelLoadError } from '../electron/engine/model';
import { candidateProviders, resolveRequest, withFallback } from '../electron/engine/providers';
import { MODEL_DIR, tempDir } from './helpers/synth';

describe('execution providers', () => {
  it('tries the platform accelerator first and CPU last', () => {
    expect(candidateProviders('linux', 'x64')).toEqual(['cuda', 'cpu']);
    expect(candidateProviders('win32', 'x64')).toEqual(['dml', 'cpu']);
    expect(candidateProviders('darwin', 'arm64')).toEqual(['coreml', 'cpu']);
    expect(candidateProviders('linux', 'arm64')).toEqual(['cpu']);
  });
  it('takes the request from the option, then MEDUS_PROVIDER, and rejects unknown names', () => {
    expect(resolveRequest(undefined, {})).toBe('auto');
    expect(resolveRequest(undefined, { MEDUS_PROVIDER: 'CPU' })).toBe('cpu');
    expect(resolveRequest('cuda', { MEDUS_PROVIDER: 'cpu' })).toBe('cuda');
    expect(() => resolveRequest('tpu', {})).toThrow(/unknown execution provider "tpu"/);
  });
  it('falls back to CPU and records why the accelerator failed', async () => {
    const tried: string[] = [];
    const { value, report } = await withFallback('auto', 'win32', 'x64', async (p) => {
      tried.push(p);
      if (p === 'dml') throw new Error('DirectML.dll not found\nstack…');
      return p;
    });
    expect(tried).toEqual(['dml', 'cpu']);
    expect(value).toBe('cpu');
    expect(report.active).toBe('cpu');
    expect(report.attempts[0]).toEqual({ provider: 'dml', ok: false, error: 'DirectML.dll not found' });
  });
  it('does not silently replace a provider the user forced', async () => {
    await expect(withFallback('cuda', 'linux', 'x64', async () => { throw new Error('libcudart missing'); })).rejects.toThrow(/cuda: libcudart missing/);
  });
  it('with the real onnxruntime on this machine, auto reports the provider that actually runs', async () => {
    const engine = await SegmentationEngine.create(MODEL_DIR, { provider: 'auto', env: {} });
    expect(engine.provider.attempts.at(-1)?.ok).toBe(true);
    expect(engine.provider.active).toBe(engine.provider.attempts.at(-1)?.provider);
    if (process.platform === 'linux' && engine.provider.active === 'cpu') {
      // no CUDA here: the failure is recorded, not hidden
      expect(engine.provider.attempts[0]).toMatchObject({ provider: 'cuda', ok: false });
      expect(engine.provider.attempts[0]?.error).toBeTruthy();
    }
    await engine.dispose();
  });
  it('a session factory failing on the encoder for one provider moves on to the next', async () => {
    const real = await import('onnxruntime-node');
    const engine = await SegmentationEngine.create(MODEL_DIR, {
      provider: 'auto',
      platform: 'darwin',
      arch: 'arm64',
      sessionFactory: async (path, provider) => {
        if (provider === 'coreml') throw new Error('CoreML is not available in this build');
        return real.default.InferenceSession.create(path) as Promise<ort.InferenceSession>;
      },
    });
    expect(engine.provider).toMatchObject({ requested: 'auto', active: 'cpu', attempts: [{ provider: 'coreml', ok: false }, { provider: 'cpu', ok: true }] });
    await engine.dispose();
  });
  it('on the CPU the encoder gets the threads asked for and the decoder one (its small nodes lose to hand-offs)', async () => {
    const real = await import('onnxruntime-node');
    const asked: Array<[string, string, number]> = [];
    const engine = await SegmentationEngine.create(MODEL_DIR, {
      provider: 'cpu',
      threads: 2,
      sessionFactory: async (path, provider, threads) => {
        asked.push([path.endsWith('encoder.onnx') ? 'encoder' : 'decoder', provider, threads]);
        return real.default.InferenceSession.create(path) as Promise<ort.InferenceSession>;
      },
    });
    expect(asked).toEqual([['encoder', 'cpu', 2], ['decoder', 'cpu', 1]]);
    expect(engine.threads).toBe(2);
    await engine.dispose();
  });
});

describe('model folder', () => {
  it('loads the shipped model and its manifest', async () => {
    const m = await loadModelFolder(MODEL_DIR);
    expect(m.manifest.input_size).toBe(256);
    expect(m.manifest.anatomies).toContain('fetal-head');
  });
  it('names the missing file', async () => {
    const dir = tempDir();
    await expect(loadModelFolder(dir)).rejects.toThrow(/model\.json: is missing/);
    copyFileSync(join(MODEL_DIR, 'model.json'), join(dir, 'model.json'));
    await expect(loadModelFolder(dir)).rejects.toThrow(/encoder\.onnx: is missing/);
    copyFileSync(join(MODEL_DIR, 'encoder.onnx'), join(dir, 'encoder.onnx'));
    await expect(loadModelFolder(dir)).rejects.toThrow(/decoder\.onnx: is missing/);
  });
  it('says what is wrong with a malformed manifest', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.json'), '{ not json');
    await expect(loadModelFolder(dir)).rejects.toThrow(/not valid JSON/);
    const good = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...good, resize: 'crop', input_size: -1 }));
    const err = await loadModelFolder(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(String(err)).toMatch(/resize/);
    expect(String(err)).toMatch(/input_size/);
  });
  it('bounds every manifest field, naming the field and the limit', async () => {
    const good = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as Record<string, unknown>;
    const dir = tempDir();
    for (const f of ['encoder.onnx', 'decoder.onnx']) copyFileSync(join(MODEL_DIR, f), join(dir, f));
    const refused = async (change: Record<string, unknown>, pattern: RegExp): Promise<void> => {
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...good, ...change }));
      const err = await loadModelFolder(dir).catch((e: unknown) => e);
      expect(err, JSON.stringify(change).slice(0, 80)).toBeInstanceOf(ModelLoadError);
      expect(String(err)).toMatch(pattern);
    };
    // An input_size of 20 000 took the engine to 3.2 GB.
    await refused({ input_size: 20000 }, /input_size: must be at most 2048 pixels/);
    await refused({ input_size: 32 }, /input_size: must be at least 64 pixels/);
    await refused({ input_size: 250 }, /input_size: must be a multiple of 16/);
    await refused({ input_size: 256.5 }, /input_size: must be a whole number of pixels/);
    await refused({ name: 'x'.repeat(101) }, /name: must be at most 100 characters/);
    await refused({ version: '' }, /version: must not be empty/);
    await refused({ anatomies: Array.from({ length: 65 }, (_, i) => `a${i}`) }, /anatomies: must list at most 64 anatomies/);
    await refused({ anatomies: ['thyroid', 'y'.repeat(65)] }, /anatomies\.1: must be at most 64 characters/);
    await refused({ anatomies: ['thyroid', 'thyroid'] }, /anatomies: must not list an anatomy twice/);
    await refused({ multimask: { single: 0, candidates: [1, 99] } }, /multimask\.candidates\.1: must be a mask index of at most 15/);
    await refused({ mask_threshold: 1e9 }, /mask_threshold/);
    await refused({ pixel_mean: [1e9] }, /pixel_mean\.0/);
    await refused({ pixel_std: [0] }, /pixel_std\.0/);
    await refused({ decoder_outputs: { masks: 'm'.repeat(201), scores: 's' } }, /decoder_outputs/);
    await refused({ zoom: { modes: ['automatic'], margin: 1.2, min_gain: 1e6 } }, /zoom\.min_gain/);
    await refused({ zoom: { modes: ['automatic'], margin: 1.2, min_gain: 1.2, skip_anatomies: [''] } }, /zoom\.skip_anatomies\.0: must not be empty/);
    await refused({ parameters: -5 }, /parameters/);
    await refused({ training_data: Array.from({ length: 101 }, () => 'set') }, /training_data/);
    // The limits still admit the usual sizes.
    for (const input_size of [64, 1024, 2048]) {
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...good, input_size }));
      expect((await loadModelFolder(dir)).manifest.input_size).toBe(input_size);
    }
  });
  it('refuses a huge manifest before reading it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.json'), ' '.repeat(1024 * 1024 + 1));
    await expect(loadModelFolder(dir)).rejects.toThrow(/model\.json: is 1048577 bytes; a model manifest may have at most 1048576/);
  });
  it('a corrupt ONNX file is an error at load, not a crash later', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    for (const f of ['model.json', 'decoder.onnx']) copyFileSync(join(MODEL_DIR, f), join(dir, f));
    writeFileSync(join(dir, 'encoder.onnx'), Buffer.from('garbage'));
    await expect(SegmentationEngine.create(dir, { provider: 'cpu' })).rejects.toThrow(/no execution provider could run the model \(cpu:/);
  });
});

describe('LRU cache by bytes', () => {
  it('evicts the least recently used entries to stay under its budget', () => {
    const c = new LruBytesCache<Uint8Array>(100, (v) => v.length);
    c.set('a', new Uint8Array(40));
    c.set('b', new Uint8Array(40));
    c.get('a'); // a is now most recent
    c.set('c', new Uint8Array(40));
    expect(c.keys()).toEqual(['a', 'c']);
    expect(c.bytes).toBe(80);
    c.set('huge', new Uint8Array(500));
    expect(c.has('huge')).toBe(false);
    expect(c.bytes).toBeLessThanOrEqual(100);
  });
});
