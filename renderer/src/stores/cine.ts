/**
 * Cine playback of a multi-frame image: play, pause, loop and speed at the file's frame rate.
 * Frames are shown through one request at a time: when decoding falls behind, the next request
 * goes to the frame due now (frames are skipped, the loop keeps time), and scrubbing asks only for
 * the latest frame wanted, so requests never pile up behind each other.
 */
import { defineStore } from 'pinia';
import { useWorkspace } from './workspace';

/** Playback speeds offered, as multiples of the file's rate. */
export const CINE_SPEEDS = [0.25, 0.5, 1, 1.5, 2] as const;
/** The rate used when an image carries none (main names its source 'default'). */
const FALLBACK_FPS = 25;

export const useCine = defineStore('cine', {
  state: () => ({
    playing: false,
    loop: true,
    speed: 1 as number,
    /** A frame request is out; another frame wanted meanwhile waits in `wanted` (only the latest). */
    inFlight: false,
    /** The frame of the request out now, so that a key pressed meanwhile steps on from it. */
    asked: null as number | null,
    wanted: null as number | null,
    /** Playback's time origin: the frame shown at `t` (performance.now()), from which the frame due is computed. */
    anchor: { frame: 0, t: 0 },
    timer: null as ReturnType<typeof setTimeout> | null,
  }),
  getters: {
    fps(): number {
      return useWorkspace().image?.frameRate?.fps ?? FALLBACK_FPS;
    },
    /** The frame the user will see next: the latest one asked for, else the one shown. */
    target(): number {
      return this.wanted ?? this.asked ?? useWorkspace().image?.frame ?? 0;
    },
  },
  actions: {
    /** Shows `frame`; while a request is out, only the latest frame asked for follows it. */
    async show(frame: number): Promise<void> {
      const ws = useWorkspace();
      if (!ws.image) return;
      const n = ws.image.frameCount;
      const f = Math.max(0, Math.min(n - 1, Math.round(frame)));
      if (this.inFlight) {
        this.wanted = f;
        return;
      }
      this.inFlight = true;
      try {
        this.asked = f;
        await ws.setFrame(f);
        while (this.wanted !== null) {
          const next = this.wanted;
          this.wanted = null;
          this.asked = next;
          await ws.setFrame(next);
        }
      } finally {
        this.inFlight = false;
        this.asked = null;
      }
    },
    /** A frame chosen by the user (slider, arrow keys): playback, if on, continues from there. */
    seek(frame: number): Promise<void> {
      const n = useWorkspace().image?.frameCount ?? 1;
      const f = Math.max(0, Math.min(n - 1, Math.round(frame)));
      this.anchor = { frame: f, t: performance.now() };
      return this.show(f);
    },
    step(delta: number): Promise<void> {
      return this.seek(this.target + delta);
    },
    play() {
      const img = useWorkspace().image;
      if (!img || img.frameCount < 2 || this.playing) return;
      // at the end of a loop that does not repeat, play starts again from the first frame
      const from = !this.loop && img.frame >= img.frameCount - 1 ? 0 : img.frame;
      this.playing = true;
      this.anchor = { frame: from, t: performance.now() };
      void this.tick();
    },
    pause() {
      this.playing = false;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
    },
    toggle() {
      if (this.playing) this.pause();
      else this.play();
    },
    setSpeed(speed: number) {
      // keep the frame shown now as the new origin, so a change of speed does not jump
      this.anchor = { frame: this.target, t: performance.now() };
      this.speed = Math.max(CINE_SPEEDS[0], Math.min(CINE_SPEEDS[CINE_SPEEDS.length - 1]!, speed));
    },
    /** One step of playback: ask for the frame due now, wait for it, then sleep until the next one is due. */
    async tick(): Promise<void> {
      this.timer = null;
      const ws = useWorkspace();
      const img = ws.image;
      if (!this.playing || !img || img.frameCount < 2) return this.pause();
      const n = img.frameCount;
      const rate = this.fps * this.speed;
      let due = this.anchor.frame + Math.floor(((performance.now() - this.anchor.t) / 1000) * rate);
      let last = false;
      if (due >= n) {
        if (this.loop) due %= n;
        else [due, last] = [n - 1, true];
      }
      const path = img.path;
      await this.show(due);
      // another image, or paused meanwhile: stop here
      if (!this.playing || ws.image?.path !== path) return this.pause();
      if (last) return this.pause();
      const elapsed = ((performance.now() - this.anchor.t) / 1000) * rate;
      const untilNext = ((Math.floor(elapsed) + 1 - elapsed) / rate) * 1000;
      this.timer = setTimeout(() => void this.tick(), Math.max(0, untilNext));
    },
  },
});
