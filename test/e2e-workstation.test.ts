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
import { ultrasoundImage, writeDicom } from './helpers/dicom';
import { framePixels, pulsingCine, truthBox } from './helpers/cine';

const CHROMIUM = process.env.MEDUS_CHROMIUM ?? '/usr/bin/chromium';
const DATASETS = process.env.MEDUS_DATASETS ?? resolve('../shared/datasets');
const HC18 = join(DATASETS, 'hc18', 'orig');
const DDTI = join(DATASETS, 'ddti', 'orig');
const CCAUI = join(DATASETS, 'ccaui', 'orig');
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
    // "Which preset?" proposes one from the image itself (automatic mode's presence per anatomy); a click applies it
    await page.locator('[data-test=suggest-preset]').click();
    const suggested = page.locator('[data-test=suggested-preset]');
    await suggested.waitFor({ timeout: 60_000 });
    expect(await suggested.getAttribute('data-suggested')).toBe('fetal-head');
    await suggested.click();
    await expect.poll(() => page.locator('.presets [data-preset=fetal-head]').getAttribute('class')).toMatch(/\bon\b/);
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

    // the obstetric worksheet, dated by an LMP 98 days (14+0 weeks) before the scan: this head
    // (about 13 weeks by HC) lies below the published INTERGROWTH-21st 3rd centile at 14 weeks,
    // 87.1 mm (median 97.9 mm; Papageorghiou et al., Lancet 2014)
    const hcMm = Number(first.replace(/[^\d.].*$/, ''));
    await page.locator('[data-test=ob-scan-date]').fill('2026-05-21');
    await page.locator('[data-test=ob-scan-date]').dispatchEvent('change');
    await page.locator('[data-test=ob-dating]').selectOption('lmp');
    await page.locator('[data-test=ob-lmp]').fill('2026-02-12');
    await page.locator('[data-test=ob-lmp]').dispatchEvent('change');
    await expect.poll(() => page.locator('[data-test=ob-ga-dates] td.num').textContent(), { timeout: 10_000 }).toBe('14 w 0 d');
    const centile = Number(await page.locator('[data-test=hc-centile-value]').textContent());
    const z = Number(await page.locator('[data-test=hc-z-value]').textContent());
    expect(hcMm).toBeLessThan(87.1);
    expect(centile).toBeLessThan(3);
    // z against the published median, with the standard's SD at 14 weeks (5.58 mm; the published 3rd–97th span is 108.4 − 87.1 = 2 × 1.881 SD)
    expect(z).toBeCloseTo((hcMm - 97.9) / ((108.4 - 87.1) / (2 * 1.8808)), 0);
    const record = JSON.parse(readFileSync(join(out, `${names()[0]!.replace('.jpg', '')}.json`), 'utf8')) as { worksheets: { obstetric: { result: { centile: { z: number } } } } };
    expect(record.worksheets.obstetric.result.centile.z).toBeCloseTo(z, 2);
    // the obstetric panel's text at AA contrast in both themes too
    for (const theme of ['light', 'dark'] as const) {
      await page.locator('[data-tab=settings]').click();
      await page.locator('[data-test=theme]').selectOption(theme);
      await page.locator('[data-tab=review]').click();
      await page.locator('[data-test=obstetric]').waitFor();
      expect(await lowContrast(page), `${theme} theme, obstetric worksheet`).toEqual([]);
    }
    await page.locator('[data-test=ob-clear]').click();
    await expect.poll(() => page.locator('[data-test=ob-results]').count()).toBe(0);

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

  it('shows site adaptation in Settings: the model\'s threshold per anatomy, and no proposal before any image is reviewed', async () => {
    await page.locator('[data-tab=settings]').click();
    const row = page.locator('[data-test=site-row-fetal-head]');
    await row.waitFor({ timeout: 30_000 });
    // the model's own threshold in the second column, no site threshold yet
    expect(await row.locator('td').nth(1).textContent()).toMatch(/^0\.\d\d$/);
    await page.locator('[data-test=site-propose]').click();
    // the open folder's automatic result is not marked reviewed yet: nothing to rest a threshold on
    await page.locator('[data-test=site-nothing]').waitFor({ timeout: 30_000 });
    await page.locator('[data-tab=review]').click();
  }, 60_000);

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

    // TI-RADS for nodule 1: the measured shape comes pre-filled and flagged; the clinician's picks add up
    await page.locator('[data-test=tirads]').waitFor();
    expect(await page.locator('[data-test=tirads-shape-measured]').count()).toBe(1);
    const shape = await page.locator('[data-tirads=shape]').inputValue();
    expect(['taller-than-wide', 'wider-than-tall']).toContain(shape);
    await page.locator('[data-tirads=composition]').selectOption('solid');
    await page.locator('[data-tirads=echogenicity]').selectOption('hypoechoic');
    await page.locator('[data-tirads=margin]').selectOption('smooth');
    await page.locator('[data-focus=punctate]').check();
    // solid 2 + hypoechoic 2 + shape (3 if taller than wide) + smooth 0 + punctate 3 (ACR TI-RADS chart)
    const points = 2 + 2 + (shape === 'taller-than-wide' ? 3 : 0) + 0 + 3;
    await expect.poll(() => page.locator('[data-test=tirads-points]').textContent(), { timeout: 10_000 }).toBe(String(points));
    const level = points >= 7 ? 5 : 4;
    expect(await page.locator('[data-test=tirads-level]').textContent()).toBe(`TR${level}`);
    expect(await page.locator('[data-test=tirads-missing]').count()).toBe(0);
    const longestMm = Number((await page.locator('[data-object-measure="1:longest-diameter"] td.num').textContent())!.replace(/[^\d.].*$/, ''));
    const [fna, follow] = level === 5 ? [10, 5] : [15, 10];
    expect(await page.locator('[data-test=tirads-recommendation]').getAttribute('data-action')).toBe(longestMm >= fna ? 'fna' : longestMm >= follow ? 'follow-up' : 'none');
    await page.locator('[data-test=tirads]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'tirads-worksheet.png') });
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

  it('keeps every visible text at WCAG AA contrast in both themes, measured from computed styles', async () => {
    for (const theme of ['light', 'dark'] as const) {
      await page.locator('[data-tab=settings]').click();
      await page.locator('[data-test=theme]').selectOption(theme);
      for (const tab of ['review', 'batch', 'pacs', 'settings']) {
        await page.locator(`[data-tab=${tab}]`).click();
        const low = await lowContrast(page);
        expect(low, `${theme} theme, ${tab} view`).toEqual([]);
      }
      await page.locator('[data-tab=review]').click();
      if (theme === 'light') await page.screenshot({ path: join(SHOTS, 'light-theme.png') });
    }
  }, 60_000);

  it('shows the Review screen in Chinese: tabs, measurement names, units, worksheet', async () => {
    await page.locator('[data-tab=settings]').click();
    await page.locator('[data-test=language]').selectOption('zh');
    await page.locator('[data-tab=review]').click();
    expect(await page.locator('[data-tab=review]').textContent()).toBe('阅片');
    expect(await page.locator('[data-measure=longest-diameter] td').first().textContent()).toBe('最长径');
    expect(await page.locator('[data-test=tirads] label[for=tirads-composition]').textContent()).toMatch(/^成分/);
    expect(await page.locator('[data-test=tirads-recommendation]').textContent()).toMatch(/[\u3400-\u9fff]/);
    // the panel's visible text is Chinese apart from names, abbreviations, numbers and units
    // (the results folder's path is the file system's, not the interface's)
    const path = (await page.locator('[data-test=results-folder] .path').textContent()) ?? '';
    const panel = (await page.locator('aside.panel').innerText()).replace(path, '').replace(/\s+/g, ' ');
    const words = (panel.match(/[A-Za-z]{4,}/g) ?? []).filter((w) => !['MedUS', 'PACS', 'DICOM', 'JSON', 'COCO', 'Ctrl', 'Shift', 'Delete', 'Esc', 'Hadlock', 'INTERGROWTH', 'TIRADS', 'RADS', 'Tessler', 'Radiol', 'Coll', 'Papageorghiou', 'Lancet', 'medus', 'nodules', 'jpg'].includes(w) && !panel.includes(`/${w}`));
    expect(words, panel).toEqual([]);
    // the measurement names and the worksheet in view, for the README
    await page.locator('[data-test=measurements]').scrollIntoViewIfNeeded();
    await page.locator('[data-test=tirads]').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await page.screenshot({ path: join(SHOTS, 'chinese.png') });
    await page.locator('[data-tab=settings]').click();
    await page.locator('[data-test=language]').selectOption('en');
    await page.locator('[data-tab=review]').click();
  }, 30_000);

  it('at 1280×720: refits on resize, keeps labels off each other and the outline, reaches the calibration field, leaves calibration on Esc, shows one tool', async () => {
    const n = await noduleBox('100_1_2');
    const fitted = async () => {
      const box = (await page.locator('[data-test=image]').boundingBox())!;
      const shown = Number((await page.locator('.overlay-tools .muted').first().textContent())!.replace('%', ''));
      return shown === Math.round(Math.min((box.width - 16) / n.w, (box.height - 16) / n.h) * 100);
    };
    expect(await fitted()).toBe(true);
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect.poll(fitted, { timeout: 5_000 }).toBe(true);

    // labels: none over another, none over an outline or a caliper line (dataset written by the viewer at each draw)
    const placed = JSON.parse((await page.locator('[data-test=image]').getAttribute('data-labels'))!) as {
      labels: Array<{ x: number; y: number; w: number; h: number; text: string }>;
      rings: Array<Array<[number, number]>>;
      segments: Array<[[number, number], [number, number]]>;
    };
    expect(placed.labels.length).toBeGreaterThanOrEqual(4);
    const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    const cut = (p: [number, number], q: [number, number], r: { x: number; y: number; w: number; h: number }) => {
      // sampled along the segment: any sample inside the label is a hit
      const steps = Math.max(2, Math.ceil(Math.hypot(q[0] - p[0], q[1] - p[1]) / 2));
      for (let i = 0; i <= steps; i++) {
        const x = p[0] + ((q[0] - p[0]) * i) / steps;
        const y = p[1] + ((q[1] - p[1]) * i) / steps;
        if (x > r.x && x < r.x + r.w && y > r.y && y < r.y + r.h) return true;
      }
      return false;
    };
    for (const [i, a] of placed.labels.entries()) {
      for (const b of placed.labels.slice(i + 1)) expect(overlap(a, b), `"${a.text}" over "${b.text}"`).toBe(false);
      for (const ring of placed.rings) for (const [k, p] of ring.entries()) expect(cut(p, ring[(k + 1) % ring.length]!, a), `"${a.text}" over an outline`).toBe(false);
      for (const [p, q] of placed.segments) expect(cut(p, q, a), `"${a.text}" over a line`).toBe(false);
    }
    await page.screenshot({ path: join(SHOTS, 'labels-1280x720.png') });

    // one active tool, shown on the viewer too
    await page.keyboard.press('b');
    expect(await page.locator('[data-tool].on').count()).toBe(1);
    expect(await page.locator('[data-test=active-tool]').getAttribute('data-active')).toBe('box');

    // calibration: the length field comes into view and takes the keyboard; Esc leaves calibration
    await page.keyboard.press('c');
    await drag(page, 12, n.h * 0.3, 12, n.h * 0.5, n.w, n.h);
    const field = page.locator('[data-test=calibration-mm]');
    await field.waitFor();
    const fb = (await field.boundingBox())!;
    expect(fb.y).toBeGreaterThanOrEqual(0);
    expect(fb.y + fb.height).toBeLessThanOrEqual(720);
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Escape');
    await field.waitFor({ state: 'detached' });
    expect(await page.locator('[data-test=active-tool]').getAttribute('data-active')).toBe('positive');
    expect(await page.locator('[data-tool].on').count()).toBe(1);

    // the measurement table scrolls into the panel
    const table = page.locator('[data-test=measurements]');
    await table.scrollIntoViewIfNeeded();
    const tb = (await table.boundingBox())!;
    expect(tb.y).toBeLessThan(720);

    // back to the larger window: fitted again
    await page.setViewportSize({ width: 1400, height: 860 });
    await expect.poll(fitted, { timeout: 5_000 }).toBe(true);
  }, 60_000);

  it('window/level presets, invert and the magnifier loupe change what is drawn', async () => {
    const n = await noduleBox('100_1_2');
    // a point of the image away from every outline, label and line: its bottom-right corner
    const at = await imageToScreen(page, n.w - 4, n.h - 4, n.w, n.h);
    const canvas = (await page.locator('[data-test=image]').boundingBox())!;
    const pixel = (x: number, y: number) =>
      page.locator('[data-test=image]').evaluate(
        (c: HTMLCanvasElement, [px, py]) => {
          const d = c.getContext('2d')!.getImageData(Math.round(px * devicePixelRatio), Math.round(py * devicePixelRatio), 1, 1).data;
          return d[0]!;
        },
        [x, y] as [number, number],
      );
    const local: [number, number] = [at[0] - canvas.x, at[1] - canvas.y];
    await page.locator('[data-test=wl-preset]').selectOption('full');
    const before = await pixel(...local);
    await page.locator('[data-test=wl-preset]').selectOption('contrast');
    await expect.poll(() => page.locator('.overlay-tools .muted').nth(1).textContent()).toBe('W 160 L 110');
    await page.locator('[data-test=wl-preset]').selectOption('full');
    await page.keyboard.press('i');
    await expect.poll(() => pixel(...local)).toBe(255 - before);
    expect(await page.locator('[data-test=invert]').getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('i');
    await expect.poll(() => pixel(...local)).toBe(before);

    // the loupe: beside the cursor, its centre shows the cursor's pixel, magnified (no smoothing at these scales)
    const mid = await imageToScreen(page, Math.floor(n.w * 0.2) + 0.5, Math.floor(n.h * 0.92) + 0.5, n.w, n.h);
    const underCursor = await pixel(mid[0] - canvas.x, mid[1] - canvas.y);
    await page.locator('[data-test=loupe]').click();
    await page.mouse.move(mid[0], mid[1]);
    await expect.poll(async () => (await page.locator('[data-test=image]').getAttribute('data-loupe')) !== null).toBe(true);
    const centre = JSON.parse((await page.locator('[data-test=image]').getAttribute('data-loupe'))!) as { x: number; y: number };
    expect(Math.hypot(centre.x - (mid[0] - canvas.x), centre.y - (mid[1] - canvas.y))).toBeGreaterThan(70);
    expect(Math.abs((await pixel(centre.x, centre.y)) - underCursor)).toBeLessThanOrEqual(2);
    await page.locator('[data-test=loupe]').click();
    await expect.poll(() => page.locator('[data-test=image]').getAttribute('data-loupe')).toBeNull();
  }, 30_000);

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
    // the results table: a thumbnail on every row (asked for as rows come into view), and the review filters
    await expect.poll(() => page.locator('[data-test=batch-results] [data-thumb=ready] img').count(), { timeout: 30_000 }).toBe(3);
    const shown = page.locator('[data-test=batch-results] tbody tr');
    await page.locator('[data-filter=reviewed]').click();
    await expect.poll(() => shown.count()).toBe(2);
    await page.locator('[data-filter=not-reviewed]').click();
    await expect.poll(() => shown.count()).toBe(1);
    expect(await shown.first().getAttribute('data-row')).toBe(`${names()[2]}#0`);
    await page.locator('[data-filter=all]').click();
    await expect.poll(() => shown.count()).toBe(3);
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

  it('batch results table: thumbnails, GA and the head\'s values as columns, a header click sorts, the flagged filter narrows', async () => {
    // a head of about 20 weeks (HC 171 mm) and one of about 13, outside Hadlock 1984's 14–40 weeks
    const mixed = join(root, 'mixed');
    mkdirSync(mixed);
    const meta = parse(readFileSync(join(DATASETS, 'hc18', 'meta.csv'), 'utf8'), { columns: true }) as Array<{ id: string; pixel_mm: string }>;
    const picked = ['003_HC.jpg', '235_HC.jpg'];
    for (const n of picked) copyFileSync(join(HC18, n), join(mixed, n));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(mixed, 'pixel_size.csv'), ['filename,pixel size(mm)', ...picked.map((n) => `${n},${meta.find((m) => m.id === n.replace('.jpg', ''))!.pixel_mm}`)].join('\n') + '\n');
    // and a file that is no image: a row of its own, failed, with a placeholder and its reason
    writeFileSync(join(mixed, 'broken.png'), 'not an image');
    folders.unshift(mixed);
    await page.locator('[data-tab=batch]').click();
    await page.locator('[data-test=batch-folder] + button').click();
    await expect.poll(() => page.locator('[data-test=batch-folder]').inputValue()).toBe(mixed);
    await page.locator('[data-test=batch-out]').fill(`${mixed}-medus`);
    await page.locator('[data-test=batch-preset]').selectOption('fetal-head');
    await page.locator('[data-test=batch-start]').click();
    await expect.poll(() => page.locator('[data-test=batch-done]').textContent(), { timeout: 120_000 }).toMatch(/2 \/ 3/);
    const rows = page.locator('[data-test=batch-results] tbody tr');
    const order = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row')));
    const row = (f: string) => page.locator(`[data-test=batch-results] tbody tr[data-row="${f}#0"]`);
    expect(await order()).toEqual(['003_HC.jpg#0', '235_HC.jpg#0', 'broken.png#0']);
    expect(await row('broken.png').locator('[data-thumb=failed]').count()).toBe(1);
    expect(await row('broken.png').locator('[data-flag=failed]').count()).toBe(1);
    expect(await row('broken.png').getByRole('button', { name: /Accept/ }).count()).toBe(0);

    // thumbnails: the image with its outline, 96 px on the long side
    const thumbs = page.locator('[data-test=batch-results] [data-thumb=ready] img');
    await expect.poll(() => thumbs.count(), { timeout: 30_000 }).toBe(2);
    const sizes = await thumbs.evaluateAll((imgs) => imgs.map((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]));
    expect(sizes).toEqual([
      [96, 65],
      [96, 65],
    ]);

    // GA as weeks and days from the calibrated HC; outside the formula's range: not reported, flagged
    expect((await row('235_HC.jpg').locator('[data-col=ga]').textContent())!.trim()).toMatch(/^(19|20) w \d d$/);
    expect(await row('003_HC.jpg').locator('[data-col=ga]').textContent()).toMatch(/out of range/);
    expect(await row('235_HC.jpg').locator('[data-col="value:fetal-head:hc"]').textContent()).toMatch(/^\d+\.\d mm$/);
    expect(await row('235_HC.jpg').locator('[data-col="value:fetal-head:bpd"]').textContent()).toMatch(/^\d+\.\d mm$/);
    expect(await row('003_HC.jpg').locator('[data-flag=out-of-range]').getAttribute('title')).toMatch(/valid range: GA/);
    expect(await row('235_HC.jpg').locator('[data-flag]').count()).toBe(0);

    // a header click sorts by HC and says so; Enter on the focused header reverses it
    const hcHeader = page.locator('[data-sort="value:fetal-head:hc"]');
    const sortOf = (col: string) => page.locator(`th:has(> [data-sort="${col}"])`).getAttribute('aria-sort');
    await hcHeader.click();
    expect(await sortOf('value:fetal-head:hc')).toBe('ascending');
    expect(await sortOf('file')).toBe('none');
    expect(await order()).toEqual(['003_HC.jpg#0', '235_HC.jpg#0', 'broken.png#0']);
    await hcHeader.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => sortOf('value:fetal-head:hc')).toBe('descending');
    expect(await order()).toEqual(['235_HC.jpg#0', '003_HC.jpg#0', 'broken.png#0']);

    // the flagged filter keeps the rows a clinician should look at: the head outside the range, the failed file
    await page.locator('[data-filter=flagged]').click();
    await expect.poll(order).toEqual(['003_HC.jpg#0', 'broken.png#0']);
    expect(await page.locator('[data-filter=flagged]').getAttribute('aria-pressed')).toBe('true');
    await page.locator('[data-filter=all]').click();
    await page.locator('[data-sort=file]').click();
    await expect.poll(order).toEqual(['003_HC.jpg#0', '235_HC.jpg#0', 'broken.png#0']);

    // a row opened in Review and corrected there (its outline cleared) shows the correction back in the table
    const batchHc = (await row('235_HC.jpg').locator('[data-col="value:fetal-head:hc"]').textContent())!.trim();
    expect(batchHc).toMatch(/mm$/);
    await row('235_HC.jpg').getByRole('button', { name: '235_HC.jpg' }).click();
    // this head's own result on screen (not the image shown before it), then cleared
    await expect.poll(() => page.locator('[data-measure=hc] td.num').textContent().catch(() => ''), { timeout: 30_000 }).toBe(batchHc);
    await page.locator('[data-test=clear]').click();
    await expect.poll(() => page.locator('[data-measure=hc]').count(), { timeout: 20_000 }).toBe(0);
    await page.locator('[data-tab=batch]').click();
    await expect.poll(() => row('235_HC.jpg').locator('[data-col="value:fetal-head:hc"]').textContent(), { timeout: 20_000 }).not.toMatch(/mm$/);
    expect(await row('235_HC.jpg').locator('[data-flag]').count()).toBeGreaterThan(0);
    // the table's text, badges and placeholders at AA contrast in both themes
    for (const theme of ['light', 'dark'] as const) {
      await page.locator('[data-tab=settings]').click();
      await page.locator('[data-test=theme]').selectOption(theme);
      await page.locator('[data-tab=batch]').click();
      await page.locator('[data-test=batch-results]').waitFor();
      expect(await lowContrast(page), `${theme} theme, batch results table`).toEqual([]);
    }
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

  it('measures by hand when the model is wrong: a manual ellipse (HC, GA), rulers, an angle, a polygon and a trace, in the panel and in results.csv; the outline as an editable contour', async () => {
    // on its own: opens the heads folder (again) and the third head
    folders.unshift(heads);
    await page.locator('[data-tab=review]').click();
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(3);
    const c = names()[2]!;
    await page.locator('[data-test=file-list] li').nth(2).click();
    await expect.poll(() => page.locator('[data-test=file-list] li.current').textContent()).toMatch(c);
    await expect.poll(() => page.locator('[data-test=status-calibration]').textContent(), { timeout: 30_000 }).toMatch(/sidecar-csv/);
    const click = async (x: number, y: number) => page.mouse.click(...(await imageToScreen(page, x, y, 800, 540)));
    const record = () => JSON.parse(readFileSync(join(out, c.replace('.jpg', '.json')), 'utf8')) as { study: { manual: Array<{ id: number; kind: string; points: Array<[number, number]> }> }; manual: Array<{ id: number; fromObject?: number; calibration: { mmPerPixelX: number } }> };
    const num = (t: string | null) => Number(t!.replace(/[^\d.].*$/, ''));
    // the panel shows one decimal: within its rounding of the exact value
    const shownAs = (shown: number, exact: number) => expect(Math.abs(shown - exact), `${shown} shown for ${exact}`).toBeLessThanOrEqual(0.0501);

    // the ellipse: both ends of one axis, then a point on the other (three clicks), one tool active
    await page.keyboard.press('e');
    expect(await page.locator('[data-test=active-tool]').getAttribute('data-active')).toBe('ellipse');
    expect(await page.locator('[data-tool].on').count()).toBe(1);
    await click(150, 270);
    await click(650, 270);
    await click(400, 430);
    const ellipse = page.locator('[data-manual-kind=ellipse]');
    await ellipse.waitFor({ timeout: 10_000 });
    const eId = Number(await ellipse.getAttribute('data-manual'));
    const shownHc = num(await page.locator(`[data-manual-measure="${eId}:hc"] td.num`).textContent());
    // HC from the saved points by Ramanujan's formula, with the sidecar's mm per pixel (square pixels)
    const saved = record();
    const pts = saved.study.manual.find((m) => m.id === eId)!.points;
    const mm = saved.manual.find((m) => m.id === eId)!.calibration.mmPerPixelX;
    const axis = Math.hypot(pts[1]![0] - pts[0]![0], pts[1]![1] - pts[0]![1]);
    const other = Math.abs((pts[1]![0] - pts[0]![0]) * (pts[2]![1] - pts[0]![1]) - (pts[1]![1] - pts[0]![1]) * (pts[2]![0] - pts[0]![0])) / axis;
    const [a, b] = [(axis / 2) * mm, other * mm];
    const h = ((a - b) / (a + b)) ** 2;
    const hc = Math.PI * (a + b) * (1 + (3 * h) / (10 + Math.sqrt(4 - 3 * h)));
    shownAs(shownHc, hc);
    expect(Math.abs(a - 250 * mm)).toBeLessThan(3 * mm); // where it was clicked, within a few pixels
    const gaWeeks = 8.96 + 0.54 * (hc / 10) + 0.0003 * (hc / 10) ** 3; // Hadlock 1984
    if (gaWeeks >= 14 && gaWeeks <= 40) shownAs(num(await page.locator(`[data-manual-measure="${eId}:ga"] td.num`).textContent()), gaWeeks);

    // two rulers (drag), each its own saved measurement
    await page.keyboard.press('l');
    await drag(page, 100, 60, 300, 60, 800, 540);
    await drag(page, 100, 480, 100, 380, 800, 540);
    await expect.poll(() => page.locator('[data-manual-kind=ruler]').count(), { timeout: 10_000 }).toBe(2);
    const rId = Number(await page.locator('[data-manual-kind=ruler]').first().getAttribute('data-manual'));
    const rPts = record().study.manual.find((m) => m.id === rId)!.points;
    const shownLength = num(await page.locator(`[data-manual-measure="${rId}:length"] td.num`).textContent());
    shownAs(shownLength, Math.hypot(rPts[1]![0] - rPts[0]![0], rPts[1]![1] - rPts[0]![1]) * mm);

    // the angle: arm, vertex, arm (45° as clicked)
    await page.keyboard.press('v');
    await click(700, 200);
    await click(600, 200);
    await click(700, 100);
    const angle = page.locator('[data-manual-kind=angle]');
    await angle.waitFor({ timeout: 10_000 });
    const aId = Number(await angle.getAttribute('data-manual'));
    const shownAngle = num(await page.locator(`[data-manual-measure="${aId}:angle"] td.num`).textContent());
    expect(shownAngle).toBeGreaterThan(43);
    expect(shownAngle).toBeLessThan(47);
    await page.screenshot({ path: join(SHOTS, 'manual-tools.png') });

    // Esc leaves the drawing tool; Ctrl+Z takes back the angle alone, Ctrl+Y brings it back
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-test=active-tool]').getAttribute('data-active')).toBe('positive');
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('[data-manual-kind=angle]').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator('[data-manual-kind=ruler]').count()).toBe(2);
    await page.keyboard.press('Control+y');
    await expect.poll(() => page.locator('[data-manual-kind=angle]').count(), { timeout: 10_000 }).toBe(1);

    // a polygon (four clicks, Enter closes it) and a free-hand trace (one drag): area in mm² from the saved points (shoelace)
    const shoelace = (pts: Array<[number, number]>) => Math.abs(pts.reduce((a, p, i) => a + p[0] * pts[(i + 1) % pts.length]![1] - pts[(i + 1) % pts.length]![0] * p[1], 0)) / 2;
    await page.keyboard.press('d');
    for (const [x, y] of [[200, 120], [300, 120], [300, 200], [200, 200]] as const) await click(x, y);
    await page.keyboard.press('Enter');
    const polygon = page.locator('[data-manual-kind=polygon]');
    await polygon.waitFor({ timeout: 10_000 });
    const gId = Number(await polygon.getAttribute('data-manual'));
    const gPts = record().study.manual.find((m) => m.id === gId)!.points;
    expect(gPts).toHaveLength(4);
    shownAs(num(await page.locator(`[data-manual-measure="${gId}:area"] td.num`).textContent()), shoelace(gPts) * mm * mm);
    expect(Math.abs(shoelace(gPts) - 100 * 80)).toBeLessThan(100 * 80 * 0.05);
    await page.keyboard.press('t');
    await page.mouse.move(...(await imageToScreen(page, 480, 460, 800, 540)));
    await page.mouse.down();
    for (const [x, y] of [[560, 460], [560, 520], [480, 520], [482, 462]] as const) {
      const to = await imageToScreen(page, x, y, 800, 540);
      await page.mouse.move(to[0], to[1], { steps: 8 });
    }
    await page.mouse.up();
    const trace = page.locator('[data-manual-kind=trace]');
    await trace.waitFor({ timeout: 10_000 });
    const tId = Number(await trace.getAttribute('data-manual'));
    const tPts = record().study.manual.find((m) => m.id === tId)!.points;
    expect(tPts.length).toBeGreaterThan(10);
    shownAs(num(await page.locator(`[data-manual-measure="${tId}:area"] td.num`).textContent()), shoelace(tPts) * mm * mm);
    expect(Math.abs(shoelace(tPts) - 80 * 60)).toBeLessThan(80 * 60 * 0.1);
    await page.keyboard.press('Escape');

    // results.csv: one row per shape, English keys with units, the values the panel shows
    const rows = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    const mine = rows.filter((r) => r.file === c && r.manual_tool);
    expect(mine.map((r) => r.manual_tool).sort()).toEqual(['angle', 'ellipse', 'polygon', 'ruler', 'ruler', 'trace']);
    expect(Number(mine.find((r) => r.manual_tool === 'polygon')!['manual_area (mm²)'])).toBeCloseTo(shoelace(gPts) * mm * mm, 2);
    shownAs(shownHc, Number(mine.find((r) => r.manual_tool === 'ellipse')!['manual_hc (mm)']));
    shownAs(shownLength, Number(mine.find((r) => r.manual_id === String(rId))!['manual_length (mm)']));
    shownAs(shownAngle, Number(mine.find((r) => r.manual_tool === 'angle')!['manual_angle (°)']));
    expect(Number(mine.find((r) => r.manual_tool === 'ellipse')!['manual_hc (mm)'])).toBeCloseTo(hc, 2);
    for (const r of mine) expect(r.calibration_source).toBe('sidecar-csv');

    // the list of hand-drawn measurements keeps its text at AA contrast
    await page.locator('[data-manual]').first().scrollIntoViewIfNeeded();
    expect(await lowContrast(page)).toEqual([]);

    // the model's outline as an editable contour: automatic, convert, drag its leftmost point outwards, the area follows
    await page.keyboard.press('a');
    await page.locator('[data-measure=hc]').waitFor({ timeout: 60_000 });
    await page.locator('[data-test=outline-to-contour]').click();
    // the hand-drawn polygon above is the first; the converted contour comes after it
    await expect.poll(() => page.locator('[data-manual-kind=polygon]').count(), { timeout: 10_000 }).toBe(2);
    const contour = page.locator('[data-manual-kind=polygon]').last();
    const pId = Number(await contour.getAttribute('data-manual'));
    expect(record().manual.find((m) => m.id === pId)!.fromObject).toBe(1);
    const areaShown = async () => num(await page.locator(`[data-manual-measure="${pId}:area"] td.num`).textContent());
    const before = await areaShown();
    const left = record().study.manual.find((m) => m.id === pId)!.points.reduce((a, p) => (p[0] < a[0] ? p : a));
    await drag(page, left[0], left[1], left[0] - 40, left[1], 800, 540);
    await expect.poll(areaShown, { timeout: 10_000 }).toBeGreaterThan(before);
    const moved = record().study.manual.find((m) => m.id === pId)!.points.reduce((a, p) => (p[0] < a[0] ? p : a));
    expect(moved[0]).toBeLessThan(left[0] - 30);
  }, 120_000);

  it('plays a multi-frame DICOM cine loop at its Frame Time rate, pauses, scrubs with the arrow keys and numbers the frame', async () => {
    // 34 frames at Frame Time 100 ms (10 fps): a bright disc that moves right by 3 px a frame
    const cine = join(root, 'cine');
    mkdirSync(cine);
    const [w, h, n] = [160, 120, 34];
    const pixels = new Uint8Array(w * h * n);
    for (let f = 0; f < n; f++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pixels[f * w * h + y * w + x] = (x - 20 - 3 * f) ** 2 + (y - 60) ** 2 < 15 ** 2 ? 220 : 40;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(cine, 'loop.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.90', w, h, pixels, { NumberOfFrames: n, FrameTime: 100 })));
    folders.unshift(cine);
    await page.locator('[data-tab=review]').click();
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(1);
    await page.locator('[data-test=file-list] li').first().click();
    await page.locator('[data-test=frames]').waitFor({ timeout: 30_000 });
    const frameNumber = page.locator('[data-test=frame-number]');
    const shown = async () => Number((await frameNumber.textContent())!.split('/')[0]);
    expect(await frameNumber.textContent()).toBe('1 / 34');
    expect((await page.locator('[data-test=cine-fps]').textContent())!.trim()).toBe('10 fps');
    expect(await page.locator('[data-test=cine-fps]').getAttribute('data-source')).toBe('frame-time');

    // S plays; after about a second at 10 fps several frames have passed; the button pauses
    await page.keyboard.press('s');
    await expect.poll(() => page.locator('[data-test=cine-play]').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(shown, { timeout: 10_000 }).toBeGreaterThan(4);
    await page.locator('[data-test=cine-play]').click();
    expect(await page.locator('[data-test=cine-play]').getAttribute('aria-pressed')).toBe('false');
    await page.waitForTimeout(300); // a frame asked for before the pause may still arrive
    const paused = await shown();
    await page.waitForTimeout(600);
    expect(await shown(), 'paused: the frame stays').toBe(paused);
    const speed = page.locator('[data-test=cine-speed]');
    expect(await speed.locator('option').allTextContents()).toEqual(['0.25×', '0.5×', '1×', '1.5×', '2×']);

    // five quick presses of → reach five frames on, without waiting for each to be decoded
    const from = Math.min(paused, n - 6);
    if (from !== paused) await page.locator('[data-test=frame-slider]').fill(String(from - 1));
    await expect.poll(shown).toBe(from);
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(shown, { timeout: 10_000 }).toBe(from + 5);

    // the frame number goes with the result and the measurements
    expect(await page.locator('[data-test=measurements-heading]').textContent()).toContain(`Frame ${from + 5} / 34`);
    await page.keyboard.press('a');
    await expect.poll(() => page.locator('[data-test=result-frame]').textContent(), { timeout: 60_000 }).toBe(`Frame ${from + 5} / 34`);
    await page.screenshot({ path: join(SHOTS, 'cine.png') });
  }, 120_000);

  it.skipIf(!existsSync(CCAUI))('tracks a carotid artery boxed on one frame through the loop and plots its lumen area; a point of the plot shows its frame', async () => {
    // 16 frames at 25 fps made from a real carotid image: the lumen pulses (±8%) and drifts 2 px a frame
    const loops = join(root, 'loops');
    mkdirSync(loops);
    const name = readdirSync(CCAUI).filter((f) => f.endsWith('.jpg')).sort()[0]!;
    const n = 16;
    const cine = await pulsingCine(join(CCAUI, name), join(CCAUI, name.replace(/\.jpg$/, '_mask.png')), n);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(loops, 'carotid.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.92', cine.width, cine.height, framePixels(cine), { NumberOfFrames: n, FrameTime: 40, PixelSpacing: [0.06, 0.06] })));
    folders.unshift(loops);
    await page.locator('[data-tab=review]').click();
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(1);
    await page.locator('[data-test=file-list] li').first().click();
    await page.locator('[data-test=frames]').waitFor({ timeout: 30_000 });
    await page.keyboard.press('6'); // carotid artery
    const forward = page.locator('[data-test=track-forward]');
    expect(await forward.isDisabled(), 'nothing to track before a segmentation').toBe(true);
    // the clinician boxes the artery on frame 1
    const { x0, y0, x1, y1 } = truthBox(cine, 0);
    await page.keyboard.press('b');
    await drag(page, x0, y0, x1, y1, cine.width, cine.height);
    await expect.poll(() => page.locator('[data-measure=lumen-area]').count(), { timeout: 60_000 }).toBe(1);
    await forward.click();
    await expect.poll(() => page.locator('[data-test=track-result]').textContent(), { timeout: 120_000 }).toContain(`Frames tracked: ${n - 1}`);
    // one point per frame; the clinician's frame filled, the tracked ones hollow
    const points = page.locator('[data-test=plot] circle.plot-point');
    await expect.poll(() => points.count(), { timeout: 20_000 }).toBe(n);
    expect(await page.locator('[data-test=plot] circle.plot-point.tracked').count()).toBe(n - 1);
    expect(await page.locator('[data-test=plot-value]').inputValue()).toBe('lumen-area');
    // the plotted areas follow the true lumen's up and down
    const values = await points.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    const truth = cine.areas.map((px) => px * 0.06 * 0.06);
    const up = (a: number[]) => a.slice(1).map((v, i) => Math.sign(v - a[i]!));
    const agree = up(values).filter((s, i) => s === up(truth)[i]).length;
    expect(agree, `area changes in the true direction on ${agree} of ${n - 1} steps`).toBeGreaterThanOrEqual(n - 4);
    expect(await page.locator('[data-test=plot-summary]').textContent()).toMatch(/min [\d.]+ mm² · max [\d.]+ mm² · mean [\d.]+ mm² · 16 frames/);
    // a point of the plot shows its frame, whose result says it was tracked
    await points.nth(9).click();
    await expect.poll(() => page.locator('[data-test=frame-number]').textContent(), { timeout: 20_000 }).toBe(`10 / ${n}`);
    await expect.poll(() => page.locator('[data-test=tracked-tag]').textContent()).toBe('tracked from frame 1');
    await page.locator('[data-test=track]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'cine-tracking.png') });
  }, 240_000);

  it('shows errors where they happen: a corrupt file in the viewer, both spacings of non-square pixels, a refused calibration beside its field, a long name in a tooltip', async () => {
    const odd = join(root, 'odd');
    mkdirSync(odd);
    const { writeFileSync } = await import('node:fs');
    const long = `a-very-long-file-name-from-the-scanner-export-${'x'.repeat(60)}.dcm`;
    writeFileSync(join(odd, 'broken.jpg'), Buffer.from('\xff\xd8\xff\xe0 this is not a JPEG at all', 'latin1'));
    // rows 0.2 mm apart, columns 0.1 mm (PixelSpacing is row spacing \ column spacing)
    const [w, h] = [120, 90];
    const pixels = new Uint8Array(w * h).map((_, i) => 40 + ((i * 7) % 60));
    writeFileSync(join(odd, long), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.93', w, h, pixels, { PixelSpacing: [0.2, 0.1] })));
    folders.unshift(odd);
    await page.locator('[data-tab=review]').click();
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(2);
    const items = page.locator('[data-test=file-list] li');
    // the long name is cut in the list and whole in its tooltip
    const longItem = items.filter({ hasText: 'a-very-long' });
    expect(await longItem.getAttribute('title')).toContain(long);
    // a corrupt file: an error card in the viewer saying what and what next, the file marked
    await items.filter({ hasText: 'broken.jpg' }).click();
    const card = page.locator('[data-test=viewer-error-card]');
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toMatch(/broken\.jpg cannot be opened/);
    expect(await items.filter({ hasText: 'broken.jpg' }).getAttribute('data-state')).toBe('error');
    // dragging on the canvas with no image does nothing (no prompt, no page error)
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const vb = (await page.locator('main').boundingBox())!;
    await page.mouse.move(vb.x + 40, vb.y + 40);
    await page.mouse.down();
    await page.mouse.move(vb.x + 200, vb.y + 160, { steps: 4 });
    await page.mouse.up();
    expect(errors).toEqual([]);
    await card.waitFor();
    // non-square pixels: both spacings in the status bar
    await longItem.click();
    await expect.poll(() => page.locator('[data-test=status-calibration]').textContent(), { timeout: 20_000 }).toContain('0.1000 × 0.2000 mm/px');
    // a refused calibration says why beside its field, which stays open
    await page.keyboard.press('c');
    await drag(page, 10, 10, 10, 60, w, h);
    const field = page.locator('[data-test=calibration-mm]');
    await field.fill('0');
    await field.press('Enter');
    const refused = page.locator('[data-test=calibration-error]');
    await refused.waitFor({ timeout: 10_000 });
    expect(await refused.textContent()).toMatch(/positive number of millimetres/);
    expect(await field.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await refused.waitFor({ state: 'detached' });
  }, 60_000);

  it('never carries a preset silently to another kind of image: says where it came from, checks the image, remembers each folder\'s choice', async () => {
    // a fresh folder with one fetal head, opened while the carotid preset (the tracking test's) is in use
    const fresh = join(root, 'fresh-heads');
    mkdirSync(fresh);
    const head = readdirSync(HC18).filter((f) => f.endsWith('_HC.jpg')).sort()[5]!;
    copyFileSync(join(HC18, head), join(fresh, head));
    await page.locator('[data-preset=carotid-artery]').click();
    folders.unshift(fresh);
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').count(), { timeout: 20_000 }).toBe(1);
    await page.locator('[data-test=file-list] li').first().click();
    const from = page.locator('[data-test=preset-from]');
    await expect.poll(() => from.getAttribute('data-from'), { timeout: 20_000 }).toBe('previous');
    // the image is checked by itself: it looks like a fetal head, and the carried preset is not applied to it silently
    const mismatch = page.locator('[data-test=preset-mismatch]');
    await mismatch.waitFor({ timeout: 60_000 });
    expect(await mismatch.textContent()).toMatch(/looks like Fetal head; the preset in use came from another image: Carotid artery/);
    expect(await page.locator('[data-preset=carotid-artery]').getAttribute('class')).toContain('on');
    // one click applies it; from then on it is this folder's preset
    await page.locator('[data-test=suggested-preset]').click();
    expect(await page.locator('[data-preset=fetal-head]').getAttribute('class')).toContain('on');
    await mismatch.waitFor({ state: 'detached' });
    expect(await from.getAttribute('data-from')).toBe('folder');
    // another folder, another preset; the first folder opens again with its own
    const other = join(root, 'fresh-nodules');
    mkdirSync(other);
    copyFileSync(join(DDTI, '100_1_1.jpg'), join(other, 'n.jpg'));
    folders.unshift(other);
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').first().textContent(), { timeout: 20_000 }).toContain('n.jpg');
    await page.locator('[data-preset=thyroid-nodule]').click();
    folders.unshift(fresh);
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.locator('[data-test=file-list] li').first().textContent(), { timeout: 20_000 }).toContain(head);
    await page.locator('[data-test=file-list] li').first().click();
    await expect.poll(() => page.locator('[data-preset=fetal-head]').getAttribute('class'), { timeout: 20_000 }).toContain('on');
    expect(await from.getAttribute('data-from')).toBe('folder');
  }, 120_000);
});

/**
 * Visible text whose contrast against what lies behind it is under WCAG 2.1 AA (4.5:1, 3:1 for
 * large text): colours from computed styles, backgrounds composited up the ancestors (their
 * opacity too). Disabled controls are exempt (WCAG 1.4.3, inactive components). One line per failure.
 */
async function lowContrast(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    type RGBA = [number, number, number, number];
    const parse = (c: string): RGBA => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 0];
      const v = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
      return [v[0]!, v[1]!, v[2]!, v[3] ?? 1];
    };
    const over = (top: RGBA, below: RGBA): RGBA => {
      const a = top[3] + below[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const ch = (i: number) => (top[i]! * top[3] + below[i]! * below[3] * (1 - top[3])) / a;
      return [ch(0), ch(1), ch(2), a];
    };
    const lum = (c: RGBA) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const background = (el: Element): RGBA => {
      const layers: RGBA[] = [];
      for (let e: Element | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      return layers.reduceRight<RGBA>((acc, c) => over(c, acc), [255, 255, 255, 1]);
    };
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (!(el instanceof HTMLElement) || el.tagName === 'OPTION' || el.tagName === 'SCRIPT' || el.tagName === 'STYLE') continue;
      const text =
        el instanceof HTMLInputElement
          ? ['checkbox', 'radio', 'range', 'hidden'].includes(el.type)
            ? ''
            : el.value
          : el instanceof HTMLSelectElement
            ? (el.selectedOptions[0]?.text ?? '')
            : Array.from(el.childNodes)
                .filter((n) => n.nodeType === Node.TEXT_NODE)
                .map((n) => n.textContent ?? '')
                .join('')
                .trim();
      if (!text) continue;
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (!r.width || !r.height || cs.visibility === 'hidden' || el.closest(':disabled, [disabled]')) continue;
      let opacity = 1;
      for (let e: Element | null = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      const fg = parse(cs.color);
      const bg = background(el);
      const shown = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
      const [hi, lo] = [lum(shown), lum(bg)].sort((a, b) => b - a) as [number, number];
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) out.push(`${ratio.toFixed(2)}:1 "${text.slice(0, 40)}" <${el.tagName.toLowerCase()} class="${el.className}"> ${cs.color} on rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`);
    }
    return out;
  });
}

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
