/**
 * Tracking through a cine loop and the measurement plot: main tracks the objects of the frame
 * shown to the first or last frame (study:track, progress as track:progress events) and answers
 * one object's measurements over the frames (study:series); this store asks and shows.
 */
import { defineStore } from 'pinia';
import type { SeriesPoint, TrackReply } from '../../../electron/shared/ipc-contract';
import { FAMILIES } from '../../../electron/measurement/families';
import { anatomyOfObject, presetFor } from '../../../electron/shared/presets';
import { call, IpcError, onEvent } from '../api';
import type { ShownError } from './workspace';
import { useWorkspace } from './workspace';

export type TrackDirection = 'forward' | 'backward';

export const useTracking = defineStore('tracking', {
  state: () => ({
    running: false,
    stopping: false,
    progress: null as { done: number; total: number; frame: number } | null,
    /** The last tracking's answer, for its message (frames tracked, where and why it stopped). */
    last: null as TrackReply | null,
    error: null as ShownError | null,
    /** The selected object's measurements over the loop, and which image and object they are. */
    series: [] as SeriesPoint[],
    seriesOf: null as { path: string; object: number } | null,
    /** The value plotted (a measurement key); null: the family's headline value. */
    valueKey: null as string | null,
  }),
  getters: {
    /** The keys the series offers, the family's headline values first. */
    keys(): string[] {
      const ws = useWorkspace();
      const seen = new Set<string>();
      for (const p of this.series) for (const m of p.measurements) seen.add(m.key);
      const family = presetFor(anatomyOfObject(ws.anatomy, this.seriesOf?.object ?? ws.active)).family;
      const headline = FAMILIES[family].headline.filter((k) => seen.has(k));
      return [...headline, ...[...seen].filter((k) => !headline.includes(k))];
    },
    /** The value plotted now. */
    key(): string | null {
      return this.valueKey && this.keys.includes(this.valueKey) ? this.valueKey : (this.keys[0] ?? null);
    },
    /** The plotted points: frame, value, unit, whether tracked. */
    points(): Array<{ frame: number; value: number; unit: string; label: string; tracked: boolean }> {
      const key = this.key;
      if (!key) return [];
      return this.series.flatMap((p) => {
        const m = p.measurements.find((x) => x.key === key);
        return m ? [{ frame: p.frame, value: m.value, unit: m.unit, label: m.label, tracked: p.tracked }] : [];
      });
    },
  },
  actions: {
    /** Reads the selected object's measurements over the loop again (after tracking, after a change on a frame). */
    async refresh(): Promise<void> {
      const ws = useWorkspace();
      const img = ws.image;
      if (!img || img.frameCount < 2) {
        this.series = [];
        this.seriesOf = null;
        return;
      }
      const of = { path: img.path, object: ws.active };
      try {
        const series = await call('study:series', of);
        // the user may have moved on meanwhile
        if (ws.image?.path === of.path && ws.active === of.object) {
          this.series = series;
          this.seriesOf = of;
        }
      } catch {
        this.series = [];
        this.seriesOf = null;
      }
    },
    /** Tracks the objects segmented on the frame shown through to the last (or first) frame. */
    async track(direction: TrackDirection): Promise<void> {
      const ws = useWorkspace();
      const img = ws.image;
      if (!img || img.frameCount < 2 || this.running) return;
      const toFrame = direction === 'forward' ? img.frameCount - 1 : 0;
      this.running = true;
      this.stopping = false;
      this.error = null;
      this.last = null;
      this.progress = { done: 0, total: Math.abs(toFrame - img.frame), frame: img.frame };
      const off = onEvent('track:progress', (p) => {
        if (p.path === img.path) this.progress = { done: p.done, total: p.total, frame: p.frame };
      });
      try {
        this.last = await call('study:track', { path: img.path, frame: img.frame, toFrame });
      } catch (e) {
        const code = e instanceof IpcError ? e.code : undefined;
        this.error = {
          message: `Tracking failed: ${(e as Error).message}`,
          next: code === 'prompt' ? 'Segment the structure on this frame first (a box or a click), then track it.' : code === 'busy' ? 'Wait for the tracking under way, or stop it.' : 'Check the image and the model in Settings, then try again.',
        };
      } finally {
        off();
        this.running = false;
        this.stopping = false;
        this.progress = null;
      }
      await this.refresh();
    },
    async stop(): Promise<void> {
      if (!this.running) return;
      this.stopping = true;
      await call('study:track-cancel', {}).catch(() => undefined);
    },
  },
});
