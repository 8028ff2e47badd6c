/**
 * A real Orthanc with its DICOMweb plugin for the PACS tests: loopback only, a free port, its own
 * temporary storage and configuration, gone (process and folder) after stop(). Debian's packages
 * `orthanc` and `orthanc-dicomweb` provide it (CI installs them through .ci/run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC = process.env.MEDUS_ORTHANC ?? '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = process.env.MEDUS_ORTHANC_DICOMWEB ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Why the PACS tests cannot run here, or null when they can. */
export function orthancMissing(): string | null {
  if (!existsSync(ORTHANC)) return `${ORTHANC} not found (apt-get install orthanc orthanc-dicomweb): the PACS tests are skipped`;
  if (!existsSync(DICOMWEB_PLUGIN)) return `${DICOMWEB_PLUGIN} not found (apt-get install orthanc-dicomweb): the PACS tests are skipped`;
  return null;
}

export interface Orthanc {
  /** REST API root, e.g. http://127.0.0.1:40123 */
  url: string;
  /** DICOMweb root, e.g. http://127.0.0.1:40123/dicom-web */
  dicomWebUrl: string;
  /** Basic credentials when started with a test user */
  user?: { name: string; password: string };
  stop(): Promise<void>;
}

/** A port nobody listens on now (the short race until Orthanc binds it is acceptable in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startOrthanc(options: { user?: { name: string; password: string } } = {}): Promise<Orthanc> {
  const dir = mkdtempSync(join(tmpdir(), 'medus-orthanc-'));
  const port = await freePort();
  const config = {
    Name: 'medus-test',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    HttpPort: port,
    DicomServerEnabled: false, // no DIMSE: the tests speak DICOMweb only
    RemoteAccessAllowed: false,
    AuthenticationEnabled: Boolean(options.user),
    ...(options.user ? { RegisteredUsers: { [options.user.name]: options.user.password } } : {}),
    HttpCompressionEnabled: false,
    StorageCompression: false,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  const configFile = join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  let log = '';
  const child: ChildProcess = spawn(ORTHANC, [configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const late = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(late);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const headers: Record<string, string> = options.user ? { Authorization: `Basic ${Buffer.from(`${options.user.name}:${options.user.password}`).toString('base64')}` } : {};
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`Orthanc exited during start-up:\n${log}`);
    }
    const ok = await fetch(`${url}/system`, { headers, signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc did not answer /system within 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dicomWebUrl: `${url}/dicom-web`, ...(options.user ? { user: options.user } : {}), stop };
}
