/**
 * End to end in real Chromium: the built renderer, the real main-side handlers and engine host
 * (worker thread) behind a WebSocket test transport, the shipped model and real HC18 / DDTI images.
 * Skips, saying why, when /usr/bin/chromium or the shared datasets are absent.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { parse } from 'csv-parse/sync';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers/ws-server';
import { orthancMissing, startOrthanc } from './helpers/orthanc';
import { find as findStudies, series, store } from '../electron/pacs/dicomweb';
import { MODEL_DIR, tempDir } from './helpers/synth';

const CHROMIUM = process.env.MEDUS_CHROMIUM ?? '/usr/bin/chromium';
const DATASETS = process.env.MEDUS_DATASETS ?? resolve('../shared/datasets');
const HC18 = join(DATASETS, 'hc18', 'orig');
const DDTI = join(DATASETS, 'ddti', 'orig');
const DICOM_SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? resolve('../shared/dicom-samples');
const PACS_SAMPLE = 'us_ybrict_j2k_lossy_ge_regions.dcm';
// README screenshots: `MEDUS_SCREENSHOTS=docs/screenshots npm run test:e2e`; otherwise a temp folder
const SHOTS = process.env.MEDUS_SCREENSHOTS ? resolve(process.env.MEDUS_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'medus-shots-'));
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} not found (apt-get install chromium)` : !existsSync(HC18) || !existsSync(DDTI) ? `datasets not found under ${DATASETS} (set MEDUS_DATASETS)` : null;
if (missing) console.warn(`e2e-workstation: skipped: ${missing}`);

const root = tempDir();
const heads = join(root, 'heads');
const nodules = join(root, 'nodules');
const out = join(root, 'heads-medus');
const dataDir = join(root, 'app-data');
let dist = '';
let server: TestServer;
let browser: Browser;
let page: Page;
let folders: string[] = [];

/** The viewer fits the image in the canvas with an 8 px margin (tools/view.ts fitView). */
async function imageToScreen(p: Page, x: number, y: number, w: number, h: number): Promise<[number, number]> {
  const box = (await p.locator('[data-test=image]').boundingBox())!;
  const scale = Math.min((box.width - 16) / w, (box.height - 16) / h);
  return [box.x + (box.width - w * scale) / 2 + x * scale, box.y + (box.height - h * scale) / 2 + y * scale];
}

describe.skipIf(missing !== null)('the clinician in real Chromium', () => {
  beforeAll(async () => {
    mkdirSync(heads);
    mkdirSync(nodules);
    const meta = parse(readFileSync(join(DATASETS, 'hc18', 'meta.csv'), 'utf8'), { columns: true }) as Array<{ id: string; pixel_mm: string }>;
    const names = readdirSync(HC18).filter((f) => f.endsWith('_HC.jpg')).sort().slice(0, 3);
    for (const n of names) copyFileSync(join(HC18, n), join(heads, n));
    // HC18's calibration travels as a sidecar CSV, as in the challenge data
    const rows = names.map((n) => `${n},${meta.find((m) => m.id === n.replace('.jpg', ''))?.pixel_mm ?? ''}`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(heads, 'pixel_size.csv'), ['filename,pixel size(mm)', ...rows].join('\n') + '\n');
    // two views of one nodule, for the two-view volume
    for (const n of ['100_1_1.jpg', '100_1_2.jpg']) copyFileSync(join(DDTI, n), join(nodules, n));

    dist = join(root, 'renderer');
    await build({ root: resolve('renderer'), base: './', logLevel: 'warn', plugins: [vue()], build: { outDir: dist, emptyOutDir: true } });
    folders = [heads, nodules];
    server = await startServer({ root: dist, modelDir: MODEL_DIR, dataDir, chooseFolder: async () => folders.shift() ?? null });
    // launch() gives every run a fresh temporary user-data dir
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${server.url}?ws=${encodeURIComponent(server.wsUrl)}`);
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens a folder, segments a fetal head automatically, reads HC, corrects and undoes', async () => {
    await page.getByRole('button', { name: 'Open folder…' }).first().click();
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(3);
    await page.locator('[data-preset=fetal-head]').click();
    await expect.poll(() => page.locator('[data-test=status-provider]').textContent(), { timeout: 60_000 }).toMatch(/CPU/);
    await page.locator('[data-test=automatic]').click();
    const hc = page.locator('[data-measure=hc] td.num');
    await hc.waitFor({ timeout: 60_000 });
    const first = (await hc.textContent())!;
    expect(first).toMatch(/^\d+(\.\d)? mm/);
    expect(await page.locator('[data-test=result]').textContent()).toMatch(/quality/);
    expect(await page.locator('[data-test=status-calibration]').textContent()).toMatch(/sidecar-csv/);
    expect(await page.locator('[data-test=file-list] li').first().getAttribute('data-state')).toBe('segmented');
    await page.mouse.move(...(await imageToScreen(page, 400, 270, 800, 540)));
    expect(await page.locator('[data-test=status-cursor]').textContent()).toMatch(/mm · value \d+/);
    await page.screenshot({ path: join(SHOTS, 'fetal-head-hc.png') });

    // a negative click in the skull's centre changes the answer; undo brings the first one back
    await page.keyboard.press('n');
    const [cx, cy] = await imageToScreen(page, 400, 270, 800, 540);
    await page.mouse.click(cx, cy);
    await expect.poll(() => page.locator('[data-test=undo]').isEnabled()).toBe(true);
    await expect.poll(async () => (await page.locator('footer .busy').count()) === 0 && (await page.locator('[data-test=result]').textContent())?.includes('clicks'), { timeout: 30_000 }).toBe(true);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await page.locator('[data-test=result]').textContent())?.includes('automatic') && (await hc.textContent()), { timeout: 30_000 }).toBe(first);
    await expect(page.locator('[data-test=redo]').isEnabled()).resolves.toBe(true);

    // next image by keyboard, and the shortcut sheet on ?
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('[data-test=file-list] li.current').textContent()).toMatch(names()[1]!);
    await page.keyboard.press('?');
    await expect(page.locator('[data-test=shortcut-sheet]').isVisible()).resolves.toBe(true);
    await page.keyboard.press('Escape');
  }, 120_000);

  it('keeps A\'s HC and a caliper edit across images and a fresh start, and undoes the drag alone', async () => {
    const a = names()[0]!;
    const hc = page.locator('[data-measure=hc] td.num');
    const resultText = () => page.locator('[data-test=result]').textContent();
    // back to A (the first test left it in automatic mode): the same HC, nothing segmented again
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => page.locator('[data-test=file-list] li.current').textContent()).toMatch(a);
    await hc.waitFor({ timeout: 30_000 });
    const automaticHc = (await hc.textContent())!;
    expect(await resultText()).toMatch(/automatic/);

    // drag the OFD caliper's end inwards with the mouse
    const record = () => JSON.parse(readFileSync(join(out, a.replace('.jpg', '.json')), 'utf8')) as { study: { objects: Array<{ measurement: { objects: Array<{ calipers: Array<{ key: string; p0: [number, number]; p1: [number, number] }> }> } }> } };
    const ofd = record().study.objects[0]!.measurement.objects[0]!.calipers.find((c) => c.key === 'ofd')!;
    const to: [number, number] = [ofd.p1[0] + (ofd.p0[0] - ofd.p1[0]) * 0.08, ofd.p1[1] + (ofd.p0[1] - ofd.p1[1]) * 0.08];
    await page.mouse.move(...(await imageToScreen(page, ofd.p1[0], ofd.p1[1], 800, 540)));
    await page.mouse.down();
    const end = await imageToScreen(page, to[0], to[1], 800, 540);
    await page.mouse.move(end[0], end[1], { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => page.locator('[data-measure=hc]').getAttribute('class'), { timeout: 30_000 }).toMatch(/edited/);
    const editedHc = (await hc.textContent())!;
    expect(editedHc).not.toBe(automaticHc);
    expect(await page.locator('[data-measure=ga]').count()).toBeLessThanOrEqual(1);

    // to B and back: the edit is still there
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('[data-test=file-list] li.current').textContent()).toMatch(names()[1]!);
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => hc.textContent(), { timeout: 30_000 }).toBe(editedHc);

    // undo takes back the drag only: the automatic answer stays; redo brings the edit back
    await page.keyboard.press('Control+z');
    await expect.poll(() => hc.textContent(), { timeout: 30_000 }).toBe(automaticHc);
    expect(await resultText()).toMatch(/automatic/);
    await page.keyboard.press('Control+y');
    await expect.poll(() => hc.textContent(), { timeout: 30_000 }).toBe(editedHc);
    await expect.poll(() => page.locator('[data-test=saved]').count()).toBe(1);

    // close the page and the server; a fresh server and page on the same folder show the saved HC and edit
    await page.close();
    await server.close();
    folders.unshift(heads);
    server = await startServer({ root: dist, modelDir: MODEL_DIR, dataDir, chooseFolder: async () => folders.shift() ?? null });
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${server.url}?ws=${encodeURIComponent(server.wsUrl)}`);
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.locator('[data-test=file-list] li').first().getAttribute('data-state')).toBe('segmented');
    const hc2 = page.locator('[data-measure=hc] td.num');
    await hc2.waitFor({ timeout: 30_000 });
    expect(await hc2.textContent()).toBe(editedHc);
    expect(await page.locator('[data-measure=hc]').getAttribute('class')).toMatch(/edited/);
    expect(server.calls).not.toContain('study:intent'); // shown from the results folder, not segmented again
  }, 180_000);

  it('draws calipers on a thyroid nodule from a box prompt', async () => {
    await page.getByRole('button', { name: 'Open folder…' }).first().click();
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(2);
    await page.keyboard.press('1');
    await page.keyboard.press('b');
    const n = await noduleBox('100_1_1');
    await drag(page, n.x0 - 6, n.y0 - 6, n.x1 + 6, n.y1 + 6, n.w, n.h);
    await page.locator('[data-measure=longest-diameter]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-test=uncalibrated]').isVisible()).toBe(true);
    expect(await page.locator('[data-measure=longest-diameter] td.num').textContent()).toMatch(/px/);
    await page.screenshot({ path: join(SHOTS, 'thyroid-nodule-calipers.png') });
  }, 90_000);

  it('segments a second object with a box, and gives a volume in mL from a transverse and a longitudinal view', async () => {
    const n = await noduleBox('100_1_1');
    await page.locator('[data-test=new-object]').click();
    await expect.poll(() => page.locator('[data-test=objects] li').count()).toBe(2);
    expect(await page.locator('[data-object="2"] input').inputValue()).toBe('Nodule 2');
    // object 2: the nodule's left half, so it differs from object 1
    await drag(page, n.x0 - 4, n.y0 - 4, (n.x0 + n.x1) / 2, n.y1 + 4, n.w, n.h);
    await expect.poll(() => page.locator('[data-object-measures]').count(), { timeout: 60_000 }).toBe(2);
    await expect.poll(() => page.locator('[data-object-measure="2:longest-diameter"]').count()).toBe(1);

    // calibrate (10 mm along the depth scale), then object 1 is the transverse view
    await calibrate(page, n.w, n.h);
    await expect.poll(() => page.locator('[data-object-measure="1:longest-diameter"] td.num').textContent(), { timeout: 30_000 }).toMatch(/mm/);
    await page.locator('[data-object="1"] .swatch').click();
    await page.locator('[data-test=use-transverse]').click();
    await expect.poll(() => page.locator('[data-test=pair-transverse]').textContent()).toMatch(/100_1_1\.jpg · Nodule 1/);
    expect(await page.locator('[data-test=volume]').count()).toBe(0); // never from one view

    // the other image is the longitudinal view
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('[data-test=file-list] li.current').textContent()).toMatch('100_1_2');
    const m = await noduleBox('100_1_2');
    await calibrate(page, m.w, m.h);
    await page.keyboard.press('b');
    await drag(page, m.x0 - 6, m.y0 - 6, m.x1 + 6, m.y1 + 6, m.w, m.h);
    await expect.poll(() => page.locator('[data-measure=longest-diameter] td.num').textContent(), { timeout: 60_000 }).toMatch(/mm/);
    await page.locator('[data-test=use-longitudinal]').click();
    await expect.poll(() => page.locator('[data-test=volume-ml]').textContent(), { timeout: 10_000 }).toMatch(/^\d+\.\d\d mL$/);
    expect(await page.locator('[data-test=volume]').getAttribute('title')).toMatch(/0\.524/);
    await page.screenshot({ path: join(SHOTS, 'thyroid-volume.png') });
  }, 90_000);

  it('runs a batch with a visible progress bar, then exports and checks the CSV', async () => {
    await page.locator('[data-tab=batch]').click();
    await page.locator('[data-test=batch-folder]').fill(heads);
    await page.locator('[data-test=batch-folder]').dispatchEvent('change');
    await page.locator('[data-test=batch-out]').fill(out);
    await page.locator('[data-test=batch-preset]').selectOption('fetal-head');
    await page.locator('[data-test=batch-start]').click();
    await page.locator('[data-test=batch-progress] progress').waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('[data-test=batch-done]').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-test=batch-count]').textContent()).toBe('3 / 3');
    expect(await page.locator('[data-test=batch-results] tbody tr').count()).toBe(3);
    await page.locator('[data-test=batch-results] tbody tr').first().getByRole('button', { name: /Accept/ }).click();
    await page.locator('[data-test=batch-results] tbody tr').nth(1).getByRole('button', { name: /Reject/ }).click();
    await page.locator('[data-test=batch-export]').click();
    await page.locator('[data-test=batch-review-file]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'batch.png') });

    const csvPath = (await page.locator('[data-test=batch-csv]').textContent())!;
    expect(csvPath).toBe(join(out, 'results.csv'));
    const rows = parse(readFileSync(csvPath, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.file).sort()).toEqual(names());
    const hcCol = Object.keys(rows[0]!).find((k) => /head circumference.*\(mm\)/i.test(k));
    expect(hcCol).toBeDefined();
    for (const r of rows) if (r[hcCol!]) expect(Number(r[hcCol!])).toBeGreaterThan(0);
    const review = readFileSync(join(out, 'review.csv'), 'utf8').trim().split('\n');
    expect(review[0]).toBe('file,frame,decision');
    expect(review.slice(1).sort()).toEqual([`${names()[0]},0,accepted`, `${names()[1]},0,rejected`]);

    // A's result was made in Review: the batch kept it as it was (the edited HC)
    const rowA = rows.find((r) => r.file === names()[0])!;
    expect(rowA.note).toMatch(/edited by the user/);

    // B's result opens in the viewer for review: the mask the batch saved, not a new segmentation
    await page.locator('[data-test=batch-results] tbody tr').nth(1).getByRole('button').first().click();
    await page.locator('[data-measure=hc]').waitFor({ timeout: 60_000 });
    await page.getByText(/batch · automatic/).first().waitFor({ timeout: 10_000 });
    // a correction made there lands in the batch's results.csv, the batch's value kept in the record's history
    const b = names()[1]!.replace('.jpg', '');
    const bpd = (JSON.parse(readFileSync(join(out, `${b}.json`), 'utf8')) as { measurement: { objects: Array<{ calipers: Array<{ key: string; p0: [number, number]; p1: [number, number] }> }> } }).measurement.objects[0]!.calipers.find((c) => c.key === 'bpd')!;
    await page.mouse.move(...(await imageToScreen(page, bpd.p1[0], bpd.p1[1], 800, 540)));
    await page.mouse.down();
    const moved = await imageToScreen(page, bpd.p1[0] + (bpd.p1[0] - bpd.p0[0]) * 0.1, bpd.p1[1] + (bpd.p1[1] - bpd.p0[1]) * 0.1, 800, 540);
    await page.mouse.move(moved[0], moved[1], { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => page.locator('[data-measure=hc]').getAttribute('class'), { timeout: 30_000 }).toMatch(/edited/);
    const shownHc = Number((await page.locator('[data-measure=hc] td.num').textContent())!.replace(/[^\d.].*$/, ''));
    const after = parse(readFileSync(csvPath, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    const rowB = after.find((r) => r.file === names()[1])!;
    expect(Number(rowB[hcCol!])).toBeCloseTo(shownHc, 0);
    expect(rowB.note).toMatch(/edited by the user/);
    const history = (JSON.parse(readFileSync(join(out, `${b}.json`), 'utf8')) as { history: Array<{ promptMode: string }> }).history;
    expect(history[0]!.promptMode).toBe('automatic');
  }, 150_000);

  it.skipIf(orthancMissing() !== null || !existsSync(join(DICOM_SAMPLES, PACS_SAMPLE)))('sets up a PACS, opens a study from it, segments it and sends the results back', async () => {
    const orthanc = await startOrthanc();
    try {
      expect((await store({ url: orthanc.dicomWebUrl }, [new Uint8Array(readFileSync(join(DICOM_SAMPLES, PACS_SAMPLE)))]))[0]!.ok).toBe(true);
      // Settings → PACS servers: add one and test it
      await page.locator('[data-tab=settings]').click();
      await page.locator('[data-test=pacs-name]').fill('Hospital PACS');
      await page.locator('[data-test=pacs-url]').fill(orthanc.dicomWebUrl);
      await page.locator('[data-test=pacs-save]').click();
      await page.locator('[data-server="Hospital PACS"] [data-test=pacs-test]').click();
      await expect.poll(() => page.locator('[data-test=pacs-test-result]').textContent(), { timeout: 20_000 }).toMatch(/✓ connected/);
      // the study browser: search, open
      await page.locator('[data-tab=pacs]').click();
      await page.locator('[data-test=pacs-search]').click();
      await page.locator('[data-test=pacs-studies] tbody tr').first().waitFor({ timeout: 20_000 });
      await page.locator('[data-test=pacs-open]').first().click();
      await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 30_000 }).toBe(1);
      await page.locator('[data-test=status-calibration]').waitFor({ timeout: 30_000 }); // the image is open
      // segment (breast preset, automatic) and send the Segmentation and SR back
      await page.keyboard.press('3');
      await page.keyboard.press('a');
      await page.locator('[data-measure=longest-diameter]').first().waitFor({ timeout: 60_000 }); // several structures may be found
      await page.locator('[data-test=pacs-send]').click();
      await expect.poll(() => page.locator('[data-test=pacs-sent]').textContent(), { timeout: 30_000 }).toMatch(/3 \/ 3/);
      const studyUid = (await findStudies({ url: orthanc.dicomWebUrl }))[0]!.studyUid;
      expect((await series({ url: orthanc.dicomWebUrl }, studyUid)).map((x) => x.modality).sort()).toEqual(['DOC', 'SEG', 'SR', 'US']);
    } finally {
      await orthanc.stop();
    }
  }, 120_000);
});

/** The DDTI ground-truth nodule's bounding box, to draw box prompts around it. */
async function noduleBox(id: string): Promise<{ x0: number; y0: number; x1: number; y1: number; w: number; h: number }> {
  const { data, info } = await sharp(join(DDTI, `${id}_mask.png`)).greyscale().raw().toBuffer({ resolveWithObject: true });
  let [x0, y0, x1, y1] = [info.width, info.height, 0, 0];
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++)
      if (data[y * info.width + x]! > 127) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  return { x0, y0, x1, y1, w: info.width, h: info.height };
}

/** A mouse drag between two image points (clamped to the image). */
async function drag(p: Page, x0: number, y0: number, x1: number, y1: number, w: number, h: number): Promise<void> {
  const c = (v: number, max: number) => Math.max(0, Math.min(max - 1, v));
  const a = await imageToScreen(p, c(x0, w), c(y0, h), w, h);
  const b = await imageToScreen(p, c(x1, w), c(y1, h), w, h);
  await p.mouse.move(...a);
  await p.mouse.down();
  await p.mouse.move(b[0], b[1], { steps: 5 });
  await p.mouse.up();
}

/** Draws a calibration line near the left edge and calls it 10 mm. */
async function calibrate(p: Page, w: number, h: number): Promise<void> {
  await p.keyboard.press('c');
  await drag(p, 12, h * 0.2, 12, h * 0.6, w, h);
  await p.locator('[data-test=calibration-mm]').fill('10');
  await p.locator('[data-test=calibration-form] button[type=submit]').click();
  await p.locator('[data-test=calibration-form]').waitFor({ state: 'detached' });
}

function names(): string[] {
  return readdirSync(heads).filter((f) => f.endsWith('.jpg')).sort();
}
