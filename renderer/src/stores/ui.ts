/** Interface preferences (language, theme, overlay look, output defaults) and which view is showing. */
import { defineStore } from 'pinia';
import { presetFor } from '../../../electron/shared/presets';
import { calibrationSourceText, formatLocal, type Language, type MessageKey, modeText, PRESET_ZH, translate, translateText, VALUE_ZH } from '../i18n';

export type View = 'review' | 'batch' | 'pacs' | 'settings';
export type Theme = 'dark' | 'light';

const KEY = 'medus.ui';

interface Saved {
  language: Language;
  theme: Theme;
  opacity: number;
  outlineOnly: boolean;
  /** Batch output goes beside the input folder, named input + this suffix. */
  outSuffix: string;
  /** Whether a batch writes overlay images unless the user says otherwise. */
  overlaysDefault: boolean;
}

export const DEFAULT_OUT_SUFFIX = '-medus';

/** A suffix that keeps the output a sibling of the input: not empty, no separators, not only dots. */
export function validSuffix(s: string): boolean {
  return s.length > 0 && s.length <= 64 && !/[\\/\0]/.test(s) && !/^\.+$/.test(s);
}

function load(): Saved {
  const d: Saved = { language: 'en', theme: 'dark', opacity: 0.35, outlineOnly: false, outSuffix: DEFAULT_OUT_SUFFIX, overlaysDefault: true };
  try {
    const raw = JSON.parse(globalThis.localStorage?.getItem(KEY) ?? '{}') as Partial<Saved>;
    return {
      language: raw.language === 'zh' ? 'zh' : 'en',
      theme: raw.theme === 'light' ? 'light' : 'dark',
      opacity: typeof raw.opacity === 'number' && raw.opacity >= 0 && raw.opacity <= 1 ? raw.opacity : d.opacity,
      outlineOnly: raw.outlineOnly === true,
      outSuffix: typeof raw.outSuffix === 'string' && validSuffix(raw.outSuffix) ? raw.outSuffix : d.outSuffix,
      overlaysDefault: raw.overlaysDefault !== false,
    };
  } catch {
    return d;
  }
}

export const useUi = defineStore('ui', {
  state: () => ({ ...load(), view: 'review' as View, shortcuts: false }),
  actions: {
    t(key: MessageKey): string {
      return translate(this.language, key);
    },
    /** One of the app's sentences (an error, a next step, a measurement warning) in the interface language. */
    tx(text: string): string {
      return translateText(this.language, text);
    },
    /** A measured value's name: families.ts's English, or its Chinese. */
    valueLabel(key: string, english: string): string {
      return (this.language === 'zh' ? VALUE_ZH[key]?.label : undefined) ?? english;
    },
    /** A caliper's short label on the image. */
    valueShort(key: string, english: string): string {
      return (this.language === 'zh' ? VALUE_ZH[key]?.short : undefined) ?? english;
    },
    /** A value and its unit, the unit's words translated (mm stays mm). */
    fmt(value: number, unit: string): string {
      return formatLocal(this.language, value, unit);
    },
    mode(mode: string): string {
      return modeText(this.language, mode);
    },
    calibrationSource(source: string): string {
      return calibrationSourceText(this.language, source);
    },
    presetLabel(key: string): string {
      return (this.language === 'zh' ? PRESET_ZH[key] : undefined) ?? presetFor(key).label;
    },
    save() {
      const s: Saved = { language: this.language, theme: this.theme, opacity: this.opacity, outlineOnly: this.outlineOnly, outSuffix: this.outSuffix, overlaysDefault: this.overlaysDefault };
      globalThis.localStorage?.setItem(KEY, JSON.stringify(s));
    },
    /** Sets the output defaults; returns false (and keeps the old suffix) when the suffix is not valid. */
    setOutputDefaults(suffix: string, overlays: boolean): boolean {
      this.overlaysDefault = overlays;
      const ok = validSuffix(suffix);
      if (ok) this.outSuffix = suffix;
      this.save();
      return ok;
    },
    setOpacity(v: number) {
      this.opacity = Math.max(0, Math.min(1, Math.round(v * 100) / 100));
      this.save();
    },
  },
});
