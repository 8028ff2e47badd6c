/** Interface preferences (language, theme, overlay look) and which view is showing. */
import { defineStore } from 'pinia';
import { presetFor } from '../../../electron/shared/presets';
import { type Language, type MessageKey, PRESET_ZH, translate } from '../i18n';

export type View = 'review' | 'batch' | 'settings';
export type Theme = 'dark' | 'light';

const KEY = 'medus.ui';

interface Saved {
  language: Language;
  theme: Theme;
  opacity: number;
  outlineOnly: boolean;
}

function load(): Saved {
  const d: Saved = { language: 'en', theme: 'dark', opacity: 0.35, outlineOnly: false };
  try {
    const raw = JSON.parse(globalThis.localStorage?.getItem(KEY) ?? '{}') as Partial<Saved>;
    return {
      language: raw.language === 'zh' ? 'zh' : 'en',
      theme: raw.theme === 'light' ? 'light' : 'dark',
      opacity: typeof raw.opacity === 'number' && raw.opacity >= 0 && raw.opacity <= 1 ? raw.opacity : d.opacity,
      outlineOnly: raw.outlineOnly === true,
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
    presetLabel(key: string): string {
      return (this.language === 'zh' ? PRESET_ZH[key] : undefined) ?? presetFor(key).label;
    },
    save() {
      const s: Saved = { language: this.language, theme: this.theme, opacity: this.opacity, outlineOnly: this.outlineOnly };
      globalThis.localStorage?.setItem(KEY, JSON.stringify(s));
    },
    setOpacity(v: number) {
      this.opacity = Math.max(0, Math.min(1, Math.round(v * 100) / 100));
      this.save();
    },
  },
});
