import { describe, expect, it } from 'vitest';
import { CUDA_PROVIDER_PIECES, CUDA_SYSTEM_PIECES, cudaMissingMessage, onnxruntimeNativeDir, probeCuda, probeCudaHere } from '../electron/engine/cuda';

const PROVIDER_DIR = '/opt/MedUS Workstation/resources/app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
const allSystem = CUDA_SYSTEM_PIECES.map((p) => p.file);

/** A machine described by the files it has and what `ldconfig -p` prints. */
function machine(files: string[], ldconfig: string | null = '', env: Record<string, string> = {}) {
  const set = new Set(files);
  return { providerDir: PROVIDER_DIR, env, exists: (p: string) => set.has(p), ldconfig: () => ldconfig };
}

const ldLine = (name: string, path: string, abi = 'libc6,x86-64') => `\t${name} (${abi}) => ${path}`;
const providerFiles = CUDA_PROVIDER_PIECES.map((p) => `${PROVIDER_DIR}/${p.file}`);

describe('CUDA probe: which pieces the CUDA provider lacks on Linux', () => {
  it('names the provider the installer skipped and every CUDA 12 / cuDNN 9 library, all at once', () => {
    const r = probeCuda(machine([]));
    expect(r.complete).toBe(false);
    expect(r.missing.map((p) => p.file)).toEqual([...CUDA_PROVIDER_PIECES.map((p) => p.file), ...allSystem]);
    const msg = cudaMissingMessage(r)!;
    expect(msg).toContain("libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so (onnxruntime's CUDA provider, which onnxruntime-node's installer skipped)");
    expect(msg).toContain('libcublas.so.12, libcublasLt.so.12 (CUDA 12 cuBLAS)');
    expect(msg).toContain('libcudnn.so.9, libcudnn_graph.so.9 (cuDNN 9 for CUDA 12)');
    expect(msg).toContain('libcuda.so.1 (the NVIDIA driver)');
    expect(msg).toMatch(/LD_LIBRARY_PATH.*ldconfig/);
    expect(msg.split('\n')).toHaveLength(1); // it becomes one "why not" line in Settings and `medus info`
  });

  it('finds libraries in the ldconfig cache (x86-64 entries only) and says only what is still missing', () => {
    const cache = [
      '1234 libs found in cache `/etc/ld.so.cache\'',
      ...allSystem.filter((f) => !f.startsWith('libcudnn')).map((f) => ldLine(f, `/usr/local/cuda-12.6/targets/x86_64-linux/lib/${f}`)),
      ldLine('libcudnn.so.9', '/usr/lib/i386-linux-gnu/libcudnn.so.9', 'libc6'), // a 32-bit copy does not count
    ].join('\n');
    const r = probeCuda(machine(providerFiles, cache));
    expect(r.missing.map((p) => p.file)).toEqual(['libcudnn.so.9', 'libcudnn_graph.so.9']);
    expect(r.found['libcudart.so.12']).toBe('/usr/local/cuda-12.6/targets/x86_64-linux/lib/libcudart.so.12');
    expect(cudaMissingMessage(r)).toBe('CUDA is missing libcudnn.so.9, libcudnn_graph.so.9 (cuDNN 9 for CUDA 12); libraries are looked for on LD_LIBRARY_PATH, in the ldconfig cache and in /usr/lib');
  });

  it('looks on LD_LIBRARY_PATH first, beside the provider ($ORIGIN), then in the default folders', () => {
    const files = [
      ...providerFiles,
      ...allSystem.slice(0, 3).map((f) => `/data/cuda/lib64/${f}`),
      ...allSystem.slice(3, 6).map((f) => `${PROVIDER_DIR}/${f}`),
      ...allSystem.slice(6).map((f) => `/usr/lib/x86_64-linux-gnu/${f}`),
    ];
    const r = probeCuda(machine(files, null, { LD_LIBRARY_PATH: '/nowhere::/data/cuda/lib64' }));
    expect(r.complete).toBe(true);
    expect(cudaMissingMessage(r)).toBeNull();
    expect(r.found[allSystem[0]!]).toBe(`/data/cuda/lib64/${allSystem[0]}`);
    expect(r.found[allSystem[3]!]).toBe(`${PROVIDER_DIR}/${allSystem[3]}`);
    expect(r.found[allSystem[8]!]).toBe(`/usr/lib/x86_64-linux-gnu/${allSystem[8]}`);
  });

  it('a CUDA 13 installation does not satisfy the CUDA 12 build', () => {
    const cache = allSystem.map((f) => ldLine(f.replace('.so.12', '.so.13'), `/usr/local/cuda-13/lib64/${f.replace('.so.12', '.so.13')}`)).join('\n');
    const r = probeCuda(machine(providerFiles, cache));
    expect(r.missing.map((p) => p.file)).toEqual(['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libnvrtc.so.12']);
  });

  it('the provider alone missing points at how to install it, not at the system libraries', () => {
    const cache = allSystem.map((f) => ldLine(f, `/usr/lib/x86_64-linux-gnu/${f}`)).join('\n');
    const msg = cudaMissingMessage(probeCuda(machine([], cache)))!;
    expect(msg).toMatch(/^CUDA is missing libonnxruntime_providers_cuda\.so, libonnxruntime_providers_shared\.so .*README "GPU"/);
    expect(msg).not.toContain('LD_LIBRARY_PATH');
  });

  it('when onnxruntime-node cannot be found the provider is not judged, the system libraries still are', () => {
    const r = probeCuda({ ...machine([]), providerDir: null });
    expect(r.providerUnknown).toBe(true);
    expect(r.missing.map((p) => p.file)).toEqual(allSystem);
    expect(r.complete).toBe(false);
  });

  it.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('runs on this machine: finds the installed onnxruntime-node and reports without throwing', () => {
    expect(onnxruntimeNativeDir()).toMatch(/onnxruntime-node[/\\]bin[/\\]napi-v\d+[/\\]linux[/\\]x64$/);
    const r = probeCudaHere({ ...process.env, LD_LIBRARY_PATH: '' });
    expect(r.providerUnknown).toBe(false);
    expect(r.complete).toBe(r.missing.length === 0);
  });
});
