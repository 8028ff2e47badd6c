/**
 * Volume from two views: one object measured on a transverse image and one on a longitudinal image.
 * The rules (which diameter is L, W, AP; when to refuse) are shared with main in shared/volume.ts;
 * main computes the volume (`measure:volume`).
 */
import { defineStore } from 'pinia';
import type { VolumeReply } from '../../../electron/shared/ipc-contract';
import type { CalibrationSourceName } from '../../../electron/shared/ipc-contract';
import { presetFor } from '../../../electron/shared/presets';
import { pairVolume, type VolumePairing, type VolumeView } from '../../../electron/shared/volume';
import { call } from '../api';
import { type ShownError, useWorkspace } from './workspace';

export type ViewKind = 'transverse' | 'longitudinal';

export interface PairedView extends VolumeView {
  /** File name and object name, to show which view is which. */
  file: string;
  objectId: number;
  objectName: string;
  /** The user's own name for the object, or null when it has the preset's (named in the interface language when shown). */
  userName: string | null;
  unit: string;
}

export const usePairing = defineStore('pairing', {
  state: () => ({
    transverse: null as PairedView | null,
    longitudinal: null as PairedView | null,
    volume: null as VolumeReply | null,
    error: null as ShownError | null,
  }),
  getters: {
    pairing: (s): VolumePairing => pairVolume(s.transverse, s.longitudinal),
  },
  actions: {
    /** The selected object's diameters on the current image, from its largest measured region (edits applied). */
    currentView(): PairedView | null {
      const ws = useWorkspace();
      const m = ws.measurement;
      if (!ws.image || !m || m.family !== 'lesion' || !m.objects.length) return null;
      const largest = m.objects.reduce((a, b) => (b.pixelCount > a.pixelCount ? b : a));
      const values = ws.shownMeasurements(largest.id);
      const get = (k: string) => values.find((v) => v.key === k);
      const longest = get('longest-diameter');
      const perpendicular = get('perpendicular-diameter');
      const ap = get('anteroposterior');
      if (!longest || !perpendicular || !ap) return null;
      const inMm = [longest, perpendicular, ap].every((v) => v.unit === 'mm');
      return {
        path: ws.image.path,
        frame: ws.image.frame,
        longest: longest.value,
        perpendicular: perpendicular.value,
        ap: ap.value,
        calibrated: m.calibrated && inMm,
        calibrationSource: m.calibration.source as CalibrationSourceName,
        anatomy: ws.anatomy,
        file: ws.image.path.split(/[\\/]/).pop() ?? ws.image.path,
        objectId: ws.active,
        objectName: ws.objectName(ws.active),
        userName: ws.objects.find((o) => o.id === ws.active)?.name ?? null,
        unit: longest.unit,
      };
    },
    /** Whether the current preset measures lesions (where a two-view volume makes sense). */
    available(): boolean {
      return presetFor(useWorkspace().anatomy).family === 'lesion';
    },
    async set(kind: ViewKind) {
      const v = this.currentView();
      this.error = null;
      if (!v) {
        this.error = { message: 'The selected object has no lesion measurements yet.', next: 'Segment it with a lesion preset (thyroid nodule, breast lesion, ovarian tumour) first.' };
        return;
      }
      this[kind] = v;
      await this.compute();
    },
    async compute() {
      this.volume = null;
      const p = this.pairing;
      // refused here, without asking main: never a volume from one view, an uncalibrated view or one image
      if (!p.ok || !this.transverse || !this.longitudinal) return;
      const strip = ({ path, frame, longest, perpendicular, ap, calibrated, calibrationSource, anatomy }: PairedView): VolumeView => ({ path, frame, longest, perpendicular, ap, calibrated, calibrationSource, ...(anatomy ? { anatomy } : {}) });
      try {
        this.volume = await call('measure:volume', { transverse: strip(this.transverse), longitudinal: strip(this.longitudinal) });
      } catch (e) {
        this.error = { message: `The volume could not be computed: ${(e as Error).message}`, next: 'Check both views and set them again.' };
      }
    },
    clear() {
      this.transverse = null;
      this.longitudinal = null;
      this.volume = null;
      this.error = null;
    },
  },
});
