/**
 * The PACS servers the user set up: names, URLs and user names in `pacs-servers.json` in the app's
 * data folder; passwords and tokens only through a SecretStore (in the app, Electron's safeStorage,
 * which the OS keychain protects), never in a plain settings file.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeAtomic } from '../files/atomic';
import { checkServerUrl, type PacsServer } from '../pacs/dicomweb';
import type { PacsServerInfo } from '../shared/ipc-contract';

export interface SecretStore {
  /** False where the OS offers no protected storage: secrets are then refused, never written in the clear. */
  available(): boolean;
  get(id: string): Promise<string | null>;
  set(id: string, secret: string | null): Promise<void>;
}

/** Electron's safeStorage, or anything with its three methods. */
export interface Encryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** Secrets encrypted by the OS (safeStorage) in a file of their own; only ciphertext is written. */
export function encryptedSecrets(file: string, crypto: Encryptor): SecretStore {
  let cache: Record<string, string> | null = null;
  const load = async (): Promise<Record<string, string>> =>
    (cache ??= await readFile(file, 'utf8').then(
      (t) => z.record(z.string(), z.string()).parse(JSON.parse(t)),
      (): Record<string, string> => ({}),
    ));
  return {
    available: () => crypto.isEncryptionAvailable(),
    async get(id) {
      const v = (await load())[id];
      return v ? crypto.decryptString(Buffer.from(v, 'base64')) : null;
    },
    async set(id, secret) {
      const all = { ...(await load()) };
      if (secret) {
        if (!crypto.isEncryptionAvailable()) throw new Error('this system offers no protected storage for passwords (no keychain): the password is not kept');
        all[id] = crypto.encryptString(secret).toString('base64');
      } else delete all[id];
      cache = all;
      await writeAtomic(file, JSON.stringify(all, null, 1), { overwrite: true });
    },
  };
}

/** Kept for this run only (the browser-test transport, the tests). */
export function memorySecrets(): SecretStore {
  const m = new Map<string, string>();
  return {
    available: () => true,
    get: async (id) => m.get(id) ?? null,
    set: async (id, s) => void (s ? m.set(id, s) : m.delete(id)),
  };
}

const Entry = z.object({ id: z.string().min(1).max(64), name: z.string().min(1).max(80), url: z.string().min(1).max(2048), auth: z.enum(['none', 'basic', 'bearer']), user: z.string().max(256).nullable() });
type Entry = z.output<typeof Entry>;

export class PacsServers {
  private constructor(
    private readonly file: string,
    private entries: Entry[],
    private readonly secrets: SecretStore,
  ) {}

  static async open(file: string, secrets: SecretStore): Promise<PacsServers> {
    const entries = await readFile(file, 'utf8').then(
      (t) => z.array(Entry).catch([]).parse(JSON.parse(t)),
      () => [],
    );
    return new PacsServers(file, entries, secrets);
  }

  async list(): Promise<PacsServerInfo[]> {
    return Promise.all(this.entries.map(async (e) => ({ ...e, hasSecret: (await this.secrets.get(e.id).catch(() => null)) !== null })));
  }

  /** Adds or changes a server; `secret` undefined keeps the stored one, '' removes it. */
  async save(entry: { id?: string | undefined; name: string; url: string; auth: Entry['auth']; user?: string | undefined }, secret?: string): Promise<PacsServerInfo[]> {
    checkServerUrl(entry.url);
    const id = entry.id ?? randomUUID();
    const next: Entry = { id, name: entry.name.trim(), url: entry.url.trim().replace(/\/+$/, ''), auth: entry.auth, user: entry.auth === 'basic' ? (entry.user ?? '').trim() : null };
    if (secret !== undefined) await this.secrets.set(id, secret || null);
    this.entries = [...this.entries.filter((e) => e.id !== id), next];
    await writeAtomic(this.file, JSON.stringify(this.entries, null, 1), { overwrite: true });
    return this.list();
  }

  async remove(id: string): Promise<PacsServerInfo[]> {
    this.entries = this.entries.filter((e) => e.id !== id);
    await this.secrets.set(id, null).catch(() => undefined);
    await writeAtomic(this.file, JSON.stringify(this.entries, null, 1), { overwrite: true });
    return this.list();
  }

  /** The server with its credentials, to talk to it. */
  async server(id: string): Promise<PacsServer> {
    const e = this.entries.find((x) => x.id === id);
    if (!e) throw new Error(`no PACS server ${id}: add it in Settings`);
    const secret = e.auth === 'none' ? null : await this.secrets.get(e.id);
    if (e.auth !== 'none' && !secret) throw new Error(`no ${e.auth === 'basic' ? 'password' : 'token'} is stored for ${e.name}: enter it again in Settings`);
    return { url: e.url, ...(e.auth === 'basic' ? { auth: { basic: { user: e.user ?? '', password: secret! } } } : e.auth === 'bearer' ? { auth: { bearer: secret! } } : {}) };
  }
}
