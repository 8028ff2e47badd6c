/**
 * Anatomy presets: what the clinician picks. Each maps to a model anatomy key and brings its
 * cleaning rules, colour and measurement family. Models may list further anatomies in their
 * manifest; those get the generic preset.
 */
export type MeasurementFamily = 'fetal-head' | 'lesion' | 'vessel' | 'nerve' | 'gland' | 'intrapartum';

export interface AnatomyPreset {
  /** The model's anatomy key (manifest `anatomies`). */
  key: string;
  label: string;
  family: MeasurementFamily;
  colour: string;
  shortcut: string;
  cleaning: { minIslandFraction: number; fillHoles: boolean; singleObject: boolean };
  /**
   * A preset that segments several anatomies in one action, for a measurement made between them:
   * object k of the image is members[k - 1] (the intrapartum view: symphysis, then head).
   */
  members?: readonly string[];
}

export const PRESETS: readonly AnatomyPreset[] = [
  { key: 'thyroid-nodule', label: 'Thyroid nodule', family: 'lesion', colour: '#f5a623', shortcut: '1', cleaning: { minIslandFraction: 0.1, fillHoles: true, singleObject: false } },
  { key: 'thyroid-gland', label: 'Thyroid gland', family: 'gland', colour: '#7ed321', shortcut: '2', cleaning: { minIslandFraction: 0.15, fillHoles: true, singleObject: false } },
  { key: 'breast-lesion', label: 'Breast lesion', family: 'lesion', colour: '#f8e71c', shortcut: '3', cleaning: { minIslandFraction: 0.1, fillHoles: true, singleObject: false } },
  { key: 'fetal-head', label: 'Fetal head', family: 'fetal-head', colour: '#50e3c2', shortcut: '4', cleaning: { minIslandFraction: 1, fillHoles: true, singleObject: true } },
  { key: 'ovary-tumour', label: 'Ovarian tumour', family: 'lesion', colour: '#bd10e0', shortcut: '5', cleaning: { minIslandFraction: 0.1, fillHoles: true, singleObject: false } },
  { key: 'carotid-artery', label: 'Carotid artery', family: 'vessel', colour: '#d0021b', shortcut: '6', cleaning: { minIslandFraction: 0.2, fillHoles: true, singleObject: true } },
  { key: 'nerve-block-nerve', label: 'Peripheral nerve', family: 'nerve', colour: '#f7f35a', shortcut: '7', cleaning: { minIslandFraction: 0.2, fillHoles: true, singleObject: false } },
  { key: 'nerve-block-vessel', label: 'Blood vessel', family: 'vessel', colour: '#ff4f6d', shortcut: '8', cleaning: { minIslandFraction: 0.2, fillHoles: true, singleObject: false } },
  // Intrapartum (transperineal) view: the two structures the angle of progression is measured between.
  { key: 'intrapartum-pubic-symphysis', label: 'Pubic symphysis (labour)', family: 'intrapartum', colour: '#f6a5ff', shortcut: '9', cleaning: { minIslandFraction: 1, fillHoles: true, singleObject: true } },
  { key: 'intrapartum-fetal-head', label: 'Fetal head (labour)', family: 'intrapartum', colour: '#7fd8ff', shortcut: '0', cleaning: { minIslandFraction: 1, fillHoles: true, singleObject: true } },
  {
    key: 'intrapartum',
    label: 'Intrapartum: symphysis + head (AoP)',
    family: 'intrapartum',
    colour: '#c9a0ff',
    shortcut: 'g',
    cleaning: { minIslandFraction: 1, fillHoles: true, singleObject: true },
    members: ['intrapartum-pubic-symphysis', 'intrapartum-fetal-head'],
  },
];

/**
 * Presets that segment several anatomies in one action, for a measurement made between them
 * (measurement/intrapartum.ts: the angle of progression needs the symphysis and the head).
 */
export interface PresetGroup {
  key: string;
  label: string;
  /** Segmented in this order, each in automatic mode (or with its own box). */
  anatomies: readonly string[];
}

export const PRESET_GROUPS: readonly PresetGroup[] = PRESETS.filter((p) => p.members).map((p) => ({ key: p.key, label: p.label, anatomies: p.members! }));

/** The model anatomy object `objectId` (1-based) of an image segments under `preset`: a group's member, else the preset itself. */
export function anatomyOfObject(preset: string, objectId: number): string {
  const g = presetGroupFor(preset);
  return g ? g.anatomies[(objectId - 1) % g.anatomies.length]! : preset;
}

/** Whether a model that knows `anatomies` can run `preset` (a group: all its members). */
export function presetRuns(preset: string, anatomies: readonly string[]): boolean {
  const g = presetGroupFor(preset);
  return (g ? g.anatomies : [preset]).every((a) => anatomies.includes(a));
}

export function presetGroupFor(key: string): PresetGroup | undefined {
  return PRESET_GROUPS.find((g) => g.key === key);
}

/** Aliases a user may type on the command line. */
const ALIASES: Record<string, string> = {
  nodule: 'thyroid-nodule',
  'thyroid': 'thyroid-gland',
  breast: 'breast-lesion',
  'fetal': 'fetal-head',
  head: 'fetal-head',
  ovary: 'ovary-tumour',
  'ovarian-tumour': 'ovary-tumour',
  'ovarian-tumor': 'ovary-tumour',
  carotid: 'carotid-artery',
  nerve: 'nerve-block-nerve',
  vessel: 'nerve-block-vessel',
  'blood-vessel': 'nerve-block-vessel',
  symphysis: 'intrapartum-pubic-symphysis',
  'pubic-symphysis': 'intrapartum-pubic-symphysis',
  'labour-head': 'intrapartum-fetal-head',
  'labor-head': 'intrapartum-fetal-head',
  labour: 'intrapartum',
  labor: 'intrapartum',
  aop: 'intrapartum',
};

export function resolveAnatomy(name: string): string {
  const k = name.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return ALIASES[k] ?? k;
}

export function presetFor(key: string): AnatomyPreset {
  return (
    PRESETS.find((p) => p.key === key) ?? {
      key,
      label: key,
      family: 'lesion',
      colour: '#4a90e2',
      shortcut: '',
      cleaning: { minIslandFraction: 0.1, fillHoles: true, singleObject: false },
    }
  );
}
