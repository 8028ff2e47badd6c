/**
 * What onnxruntime's CUDA execution provider needs on Linux x64, and which of it this machine lacks.
 *
 * onnxruntime-node 1.30 ships its CUDA provider as separate libraries that its install script
 * fetches from NuGet (and skips when told to, or offline); those in turn load CUDA 12 and cuDNN 9,
 * which onnxruntime does not ship at all. Asking onnxruntime for CUDA when any piece is missing
 * fails with one dlopen error at a time (and loud native logging), so the user would fix one
 * library, try again, and meet the next. This probe names them all at once, before onnxruntime
 * is asked, by looking where the dynamic loader would: LD_LIBRARY_PATH, the system's library
 * cache (`ldconfig -p`) and the default library folders.
 *
 * The filesystem, environment and ldconfig are injected, so the logic is tested without CUDA.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A library the CUDA provider needs and where the user gets it. */
export interface CudaPiece {
  file: string;
  /** What to install, in the words of NVIDIA's and onnxruntime's downloads. */
  from: string;
}

/**
 * onnxruntime-node's CUDA provider, installed beside its binding by its install script
 * (script/install-metadata.js, manifest linux/x64:cuda12). The TensorRT provider it fetches too
 * is not needed for CUDA.
 */
export const CUDA_PROVIDER_PIECES: readonly CudaPiece[] = [
  { file: 'libonnxruntime_providers_cuda.so', from: "onnxruntime's CUDA provider, which onnxruntime-node's installer skipped" },
  { file: 'libonnxruntime_providers_shared.so', from: "onnxruntime's CUDA provider, which onnxruntime-node's installer skipped" },
];

/**
 * The CUDA 12 and cuDNN 9 libraries the provider loads: the list onnxruntime's own Python package
 * preloads for its CUDA 12 build (onnxruntime/__init__.py, preload_dlls, Linux), plus the NVIDIA
 * driver's libcuda, which the CUDA runtime opens. The exact sonames matter: CUDA 13's
 * libcublas.so.13 does not satisfy a build linked against .so.12.
 */
export const CUDA_SYSTEM_PIECES: readonly CudaPiece[] = [
  { file: 'libcuda.so.1', from: 'the NVIDIA driver' },
  { file: 'libcudart.so.12', from: 'CUDA 12 runtime' },
  { file: 'libcublas.so.12', from: 'CUDA 12 cuBLAS' },
  { file: 'libcublasLt.so.12', from: 'CUDA 12 cuBLAS' },
  { file: 'libcufft.so.11', from: 'CUDA 12 cuFFT' },
  { file: 'libcurand.so.10', from: 'CUDA 12 cuRAND' },
  { file: 'libnvrtc.so.12', from: 'CUDA 12 NVRTC' },
  { file: 'libcudnn.so.9', from: 'cuDNN 9 for CUDA 12' },
  { file: 'libcudnn_graph.so.9', from: 'cuDNN 9 for CUDA 12' },
];

/** Folders the Linux loader searches after LD_LIBRARY_PATH and its cache (ld.so(8), x86-64). */
const DEFAULT_LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

export interface CudaProbeInput {
  /** onnxruntime-node's native folder for linux/x64 (…/bin/napi-v6/linux/x64); null when it cannot be found. */
  providerDir: string | null;
  env: Readonly<Record<string, string | undefined>>;
  exists: (path: string) => boolean;
  /** `ldconfig -p` output; null when ldconfig could not be run. */
  ldconfig: () => string | null;
}

export interface CudaReport {
  /** Every piece found: onnxruntime may still refuse (driver too old, no GPU), but nothing is missing. */
  complete: boolean;
  /** onnxruntime-node's folder was not found, so its provider could not be checked. */
  providerUnknown: boolean;
  missing: CudaPiece[];
  /** Where each system library was found (LD_LIBRARY_PATH, the ldconfig cache or a default folder). */
  found: Record<string, string>;
}

/** Names ldconfig's cache lists for x86-64, with their paths. */
function ldconfigEntries(output: string | null): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of (output ?? '').split('\n')) {
    // "\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.12"
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(.+?)\s*$/.exec(line);
    if (m && m[2]!.includes('x86-64') && !entries.has(m[1]!)) entries.set(m[1]!, m[3]!);
  }
  return entries;
}

/** Which CUDA pieces are missing, looked up as the loader would (Linux x64 only). */
export function probeCuda(input: CudaProbeInput): CudaReport {
  const missing: CudaPiece[] = [];
  const found: Record<string, string> = {};
  const providerUnknown = input.providerDir === null;
  if (input.providerDir !== null) {
    for (const piece of CUDA_PROVIDER_PIECES) {
      const path = join(input.providerDir, piece.file);
      if (input.exists(path)) found[piece.file] = path;
      else missing.push(piece);
    }
  }
  const searchDirs = [
    ...(input.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d.length > 0),
    // the provider's RUNPATH is $ORIGIN: libraries copied beside it are found too
    ...(input.providerDir === null ? [] : [input.providerDir]),
  ];
  const cache = ldconfigEntries(input.ldconfig());
  for (const piece of CUDA_SYSTEM_PIECES) {
    const where =
      searchDirs.map((d) => join(d, piece.file)).find((p) => input.exists(p)) ??
      cache.get(piece.file) ??
      DEFAULT_LIBRARY_DIRS.map((d) => join(d, piece.file)).find((p) => input.exists(p));
    if (where) found[piece.file] = where;
    else missing.push(piece);
  }
  return { complete: missing.length === 0 && !providerUnknown, providerUnknown, missing, found };
}

/**
 * One line for the user (it becomes the provider's "why not" in Settings and `medus info`):
 * every missing file with what it comes from, grouped, or null when nothing is missing.
 */
export function cudaMissingMessage(report: CudaReport): string | null {
  if (report.missing.length === 0) return null;
  const groups = new Map<string, string[]>();
  for (const p of report.missing) groups.set(p.from, [...(groups.get(p.from) ?? []), p.file]);
  const parts = [...groups].map(([from, files]) => `${files.join(', ')} (${from})`);
  const provider = report.missing.some((p) => CUDA_PROVIDER_PIECES.includes(p));
  const system = report.missing.some((p) => CUDA_SYSTEM_PIECES.includes(p));
  const where = system ? '; libraries are looked for on LD_LIBRARY_PATH, in the ldconfig cache and in /usr/lib' : '';
  const how = provider ? '; see README "GPU" for installing the provider' : '';
  return `CUDA is missing ${parts.join('; ')}${where}${how}`;
}

/** onnxruntime-node's linux/x64 native folder, as the running code resolves the package. */
export function onnxruntimeNativeDir(arch: string = process.arch): string | null {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = join(pkg, 'bin');
    // napi-v6 today; any napi-v* folder onnxruntime-node ships its linux binding in
    const napi = readdirSync(bin).find((d) => existsSync(join(bin, d, 'linux', arch, 'onnxruntime_binding.node')));
    return napi ? join(bin, napi, 'linux', arch) : null;
  } catch {
    return null;
  }
}

/** `ldconfig -p`, from the usual places (it is often not on a non-root user's PATH). */
function systemLdconfig(): string | null {
  for (const cmd of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    const r = spawnSync(cmd, ['-p'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0 && r.stdout) return r.stdout;
  }
  return null;
}

/** The probe on this machine. */
export function probeCudaHere(env: NodeJS.ProcessEnv = process.env): CudaReport {
  return probeCuda({ providerDir: onnxruntimeNativeDir(), env, exists: existsSync, ldconfig: systemLdconfig });
}
