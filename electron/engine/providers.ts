/**
 * Execution-provider choice. onnxruntime does not fall back by itself (a missing CUDA library
 * throws at session creation), so we try each accelerator in turn and record why one was skipped.
 */
export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'cpu';
export type ProviderRequest = ProviderName | 'auto';

export const PROVIDER_NAMES: readonly ProviderName[] = ['cuda', 'dml', 'coreml', 'cpu'];

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  error?: string;
}

export interface ProviderReport {
  requested: ProviderRequest;
  active: ProviderName;
  attempts: ProviderAttempt[];
}

/** Accelerators worth trying on this platform, best first; CPU always last. */
export function candidateProviders(platform: NodeJS.Platform, arch: string): ProviderName[] {
  if (platform === 'linux' && arch === 'x64') return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

/** Resolves the user's choice: explicit option, else MEDUS_PROVIDER, else auto. */
export function resolveRequest(option: string | undefined, env: NodeJS.ProcessEnv): ProviderRequest {
  const v = (option ?? env.MEDUS_PROVIDER ?? 'auto').toLowerCase();
  if (v === 'auto' || (PROVIDER_NAMES as readonly string[]).includes(v)) return v as ProviderRequest;
  throw new Error(`unknown execution provider "${v}" (choose auto, ${PROVIDER_NAMES.join(', ')})`);
}

/**
 * Creates sessions with the first provider that works. `create` builds both sessions for one
 * provider (so a provider that loads the encoder but not the decoder is also skipped).
 * A forced provider that fails is an error, not a silent fallback: the user asked for it.
 */
export async function withFallback<T>(
  request: ProviderRequest,
  platform: NodeJS.Platform,
  arch: string,
  create: (p: ProviderName) => Promise<T>,
): Promise<{ value: T; report: ProviderReport }> {
  const order = request === 'auto' ? candidateProviders(platform, arch) : [request];
  const attempts: ProviderAttempt[] = [];
  for (const p of order) {
    try {
      const value = await create(p);
      attempts.push({ provider: p, ok: true });
      return { value, report: { requested: request, active: p, attempts } };
    } catch (err) {
      attempts.push({ provider: p, ok: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  const why = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
  throw new Error(`no execution provider could run the model (${why})`);
}
