/**
 * 中文 covers everything the user sees: every interface message, measurement name, unit, mode,
 * calibration source, preset, shortcut and TI-RADS choice has its Chinese text; the .vue templates
 * hold no English text outside t(...); and every sentence the stores and the measurement code build
 * (errors, next steps, warnings) is translated. Fails, naming the string, when one is missing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseSfc } from 'vue/compiler-sfc';
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../electron/measurement/families';
import { TIRADS_LABELS } from '../electron/measurement/worksheets/tirads';
import * as presets from '../electron/shared/presets';
import { calibrationSourceText, MESSAGES, modeText, objectNoun, PRESET_ZH, TIRADS_ZH, translateText, unitText, VALUE_ZH } from '../renderer/src/i18n';
import { SHORTCUTS } from '../renderer/src/shortcuts';

const CJK = /[\u3400-\u9fff]/;
/** Names, abbreviations and file formats that stay as they are in Chinese text. */
const KEEP = new Set(['MedUS', 'PACS', 'DICOM', 'DICOMweb', 'SEG', 'COCO', 'JSON', 'CSV', 'PNG', 'JPEG', 'BMP', 'TIFF', 'WebP', 'PDF', 'SR', 'Ctrl', 'Shift', 'Esc', 'Delete', 'PageDown', 'PageUp', 'Hadlock', 'INTERGROWTH', 'ACR', 'TI-RADS', 'TIRADS', 'TR', 'HC', 'BPD', 'OFD', 'GA', 'AP', 'CSA', 'AoP', 'HSD', 'PS', 'LMP', 'FNA', 'CPU', 'UTC', 'https', 'pacs', 'hospital', 'dicom', 'web', 'Tessler', 'Radiol', 'Papageorghiou', 'Lancet', 'Coll', 'Am', 'al', 'st', 'mm', 'cm', 'px', 'W', 'L', 'T', 'P', 'N', 'B', 'X', 'A', 'C', 'R', 'F', 'M', 'O', 'J', 'K', 'Z', 'Y', 'PS3', 'US', 'ID', 'ms', 'mL', 'NVIDIA', 'CUDA', 'DirectML', 'Windows', 'CoreML', 'macOS', 'English', 'system', 'ui', 'sans', 'serif', 'data', 'scans']);
/** English words left in a text once the kept names are removed. */
const english = (text: string): string[] => (text.match(/[A-Za-z][A-Za-z-]*[A-Za-z]|[A-Za-z]/g) ?? []).filter((w) => !KEEP.has(w) && !w.split('-').every((p) => KEEP.has(p)));

describe('every interface message has its Chinese text', () => {
  it('each English message key has a Chinese entry written in Chinese', () => {
    // the same text by design: names and symbols
    const same = new Set(['tab.pacs', 'actual', 'export.coco', 'tirads.title', 'ob.hadlock', 'ob.intergrowth']);
    const missing = Object.keys(MESSAGES.en).filter((k) => !(k in MESSAGES.zh));
    expect(missing, `keys without Chinese: ${missing.join(', ')}`).toEqual([]);
    const untranslated = Object.entries(MESSAGES.zh).filter(([k, v]) => !same.has(k) && !CJK.test(v ?? '')).map(([k]) => k);
    expect(untranslated, `Chinese entries with no Chinese in them: ${untranslated.join(', ')}`).toEqual([]);
  });

  it('presets, object nouns, shortcuts, measurement names, units, modes, calibration sources and TI-RADS choices', () => {
    for (const p of presets.PRESETS) {
      expect(PRESET_ZH[p.key], `preset ${p.key}`).toMatch(CJK);
      expect(objectNoun(p.key, 'zh'), `object noun of ${p.key}`).toMatch(CJK);
    }
    // groups of presets (several anatomies in one action), where the preset table has them
    const groups = (presets as { PRESET_GROUPS?: ReadonlyArray<{ key: string }> }).PRESET_GROUPS ?? [];
    for (const g of groups) expect(PRESET_ZH[g.key], `preset group ${g.key}`).toMatch(CJK);
    for (const s of SHORTCUTS) expect(s.zh, `shortcut ${s.keys}`).toMatch(CJK);
    for (const f of Object.values(FAMILIES))
      for (const v of f.values) {
        expect(VALUE_ZH[v.key]?.label, `measurement ${f.family}:${v.key}`).toMatch(CJK);
        expect(english(VALUE_ZH[v.key]!.short), `short label of ${v.key}`).toEqual([]);
      }
    expect(unitText('zh', 'px')).toMatch(CJK);
    expect(unitText('zh', 'weeks')).toMatch(CJK);
    for (const m of ['automatic', 'box', 'clicks', 'box+clicks', 'batch · automatic', 'several objects']) expect(english(modeText('zh', m)), m).toEqual([]);
    for (const c of ['dicom-ultrasound-region', 'dicom-pixel-spacing', 'sidecar-csv', 'user-drawn', 'uncalibrated']) expect(calibrationSourceText('zh', c), c).toMatch(CJK);
    for (const [category, choices] of Object.entries(TIRADS_LABELS))
      for (const value of Object.keys(choices)) expect((TIRADS_ZH as Record<string, Record<string, string>>)[category]![value], `TI-RADS ${category}: ${value}`).toMatch(CJK);
  });
});

// ---------- the .vue templates: no English outside t(...) ----------

const COMPONENTS = join('renderer', 'src', 'components');
const vueFiles = [join('renderer', 'src', 'App.vue'), ...readdirSync(COMPONENTS).filter((f) => f.endsWith('.vue')).map((f) => join(COMPONENTS, f))];

/** The static text of string literals in an expression (template literals without their ${...}). */
function literals(expr: string): string[] {
  const out: string[] = [];
  for (const m of expr.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) out.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\$\{[^}]*\}/g, ' '));
  return out;
}
/** A literal reads as text for the user: words with spaces, or a capitalised word (keys and ids are neither). */
const sentence = (s: string) => english(s).length > 0 && (/[A-Za-z]{2,} +[A-Za-z]{2,}/.test(s) || /^[A-Z][a-z]{2,}/.test(s.trim()));

interface Node {
  type: number;
  content?: string | { content?: string };
  children?: Node[];
  props?: Array<{ type: number; name: string; value?: { content: string }; exp?: { content?: string }; arg?: { content?: string } }>;
  loc: { start: { line: number } };
}

function findEnglish(file: string): string[] {
  const { descriptor } = parseSfc(readFileSync(file, 'utf8'), { filename: file });
  const found: string[] = [];
  const at = (n: Node, what: string) => found.push(`${file}:${n.loc.start.line}: ${what}`);
  const walk = (n: Node) => {
    if (n.type === 2 && typeof n.content === 'string' && english(n.content).length) at(n, `text "${n.content.trim()}"`);
    if (n.type === 5 && typeof n.content === 'object') {
      const expr = (n.content.content ?? '').trim();
      for (const l of literals(expr)) if (sentence(l)) at(n, `literal '${l}'`);
      // data that carries English (errors, next steps, value names, modes, warnings) goes through ui.tx/valueLabel/mode
      if (/^[\w.?!\[\]]+\.(message|next|label|mode|notes)$/.test(expr) || /^w$/.test(expr)) at(n, `{{ ${expr} }} shown untranslated`);
    }
    for (const p of n.props ?? []) {
      if (p.type === 6 && ['title', 'placeholder', 'aria-label', 'alt'].includes(p.name) && p.value && english(p.value.content).length) at(n, `${p.name}="${p.value.content}"`);
      if (p.type === 7 && p.exp?.content) for (const l of literals(p.exp.content)) if (sentence(l)) at(n, `literal '${l}' in ${p.name}:${p.arg?.content ?? ''}`);
    }
    for (const c of n.children ?? []) walk(c);
  };
  if (descriptor.template?.ast) walk(descriptor.template.ast as unknown as Node);
  // the script's own sentences (built texts shown in the template)
  const script = descriptor.scriptSetup?.content ?? descriptor.script?.content ?? '';
  const code = script.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  for (const l of literals(code)) if (sentence(l)) found.push(`${file} <script>: literal '${l}'`);
  return found;
}

describe('the templates hold no English outside t(...)', () => {
  it.each(vueFiles)('%s', (file) => {
    expect(findEnglish(file)).toEqual([]);
  });
});

// ---------- sentences built by the stores and the measurement code ----------

/** String literals (adjacent ones joined by +) in a source, with ${...} replaced by a sample value. */
function builtSentences(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  const spans: Array<{ start: number; end: number; text: string }> = [];
  for (const m of code.matchAll(/'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)) {
    // a ${...} with a choice in it (plurals) reads as nothing; any other as a number
    const text = (m[1] ?? m[2] ?? '').replace(/\$\{([^}]*)\}/g, (_, e: string) => (e.includes('?') ? '' : '7'));
    spans.push({ start: m.index, end: m.index + m[0].length, text });
  }
  const joined: string[] = [];
  spans.forEach((s, i) => {
    const prev = spans[i - 1];
    if (prev && /^\s*\+\s*$/.test(code.slice(prev.end, s.start))) joined[joined.length - 1] += s.text;
    else joined.push(s.text);
  });
  // sentences: several words, starting with a capital (messages, next steps) or a warning's words
  return joined.filter((t) => /[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}/.test(t));
}

describe('the sentences the app builds are translated', () => {
  const stores = readdirSync(join('renderer', 'src', 'stores')).map((f) => join('renderer', 'src', 'stores', f));
  it.each(stores)('%s: errors and next steps', (file) => {
    const left = builtSentences(readFileSync(file, 'utf8')).filter((s) => english(translateText('zh', s)).length);
    expect(left, 'untranslated').toEqual([]);
  });

  it('measurement warnings (electron/measurement)', () => {
    const dir = join('electron', 'measurement');
    const warnings: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/warnings\.push\(([\s\S]*?)\);\n/g)) {
        const arg = m[1]!;
        // a choice between two warnings: each on its own
        const parts = /\?[\s\S]*:/.test(arg.replace(/`[^`]*`|'[^']*'/g, '')) ? builtSentences(arg) : [builtSentences(arg).join('')];
        warnings.push(...parts.filter(Boolean));
      }
    }
    expect(warnings.length).toBeGreaterThan(8);
    const left = warnings.filter((w) => english(translateText('zh', w)).length);
    expect(left, 'untranslated').toEqual([]);
  });

  it('keeps main\'s detail after a translated start, and English as it is', () => {
    expect(translateText('zh', 'Export failed: EACCES: permission denied')).toBe('导出失败：EACCES: permission denied');
    expect(translateText('en', 'Export failed: x')).toBe('Export failed: x');
    expect(translateText('zh', 'object 2: the outline is not elliptical (area 83% of the fitted ellipse); check the segmentation')).toBe('目标 2：轮廓不呈椭圆形（面积为拟合椭圆的 83%）；请检查分割');
  });
});
