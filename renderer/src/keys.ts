/** The workstation's keyboard: one handler for every shortcut listed in shortcuts.ts. */
import { presetFor, presetRuns } from '../../electron/shared/presets';
import type { useCine } from './stores/cine';
import type { useUi } from './stores/ui';
import type { useWorkspace } from './stores/workspace';

export interface KeyContext {
  ws: ReturnType<typeof useWorkspace>;
  ui: ReturnType<typeof useUi>;
  /** Cine playback of a multi-frame image; without it the arrow keys open the next frame directly. */
  cine?: ReturnType<typeof useCine>;
  /** Anatomy keys that have a number shortcut. */
  presets: string[];
}

function typing(target: EventTarget | null): boolean {
  if (!target || typeof (target as { tagName?: unknown }).tagName !== 'string') return false;
  const tag = (target as HTMLElement).tagName;
  if (tag === 'SELECT' || tag === 'TEXTAREA') return true;
  if (tag !== 'INPUT') return false;
  const type = (target as HTMLInputElement).type;
  return type !== 'range' && type !== 'checkbox';
}

/** Returns true when the key was a shortcut (and was handled). */
export function handleKey(e: KeyboardEvent, { ws, ui, cine, presets }: KeyContext): boolean {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key;
  const lower = key.length === 1 ? key.toLowerCase() : key;
  const done = () => {
    e.preventDefault();
    return true;
  };
  if (key === 'Escape' && ui.shortcuts) return (ui.shortcuts = false), done();
  // Esc leaves calibration even from the length field (where other keys are typing)
  if (key === 'Escape' && ui.view === 'review' && (ws.calLine || ws.tool === 'calibrate')) {
    (e.target as { blur?: () => void } | null)?.blur?.();
    return ws.leaveCalibration(), done();
  }
  if (typing(e.target)) return false;
  if (mod) {
    if (lower === 'z') return void (e.shiftKey ? ws.redoLast() : ws.undoLast()), done();
    if (lower === 'y') return void ws.redoLast(), done();
    if (lower === 'o') return void ws.openFolder(), done();
    if (key === '1') return (ui.view = 'review'), done();
    if (key === '2') return (ui.view = 'batch'), done();
    if (key === ',') return (ui.view = 'settings'), done();
    return false;
  }
  if (key === '?') return (ui.shortcuts = !ui.shortcuts), done();
  if (ui.view !== 'review' || ui.shortcuts) return false;
  switch (lower) {
    case 'ArrowDown':
    case 'PageDown':
    case 'j':
      return void ws.step(1), done();
    case 'ArrowUp':
    case 'PageUp':
    case 'k':
      return void ws.step(-1), done();
    // through the cine store, quick presses add up (each from the frame last asked for) and wait for no decode
    case 'ArrowRight':
      return void (cine ? cine.step(1) : ws.image && ws.setFrame(ws.image.frame + 1)), done();
    case 'ArrowLeft':
      return void (cine ? cine.step(-1) : ws.image && ws.setFrame(ws.image.frame - 1)), done();
    case 's':
      if (!cine || !ws.image || ws.image.frameCount < 2) return false;
      return cine.toggle(), done();
    case 'a':
      return void ws.automatic(), done();
    case 'p':
      return ws.setTool('positive'), done();
    case 'n':
      return ws.setTool('negative'), done();
    case 'b':
      return ws.setTool('box'), done();
    case 'x':
      return ws.setTool('boxclicks'), done();
    case 'w':
      return ws.setTool('wl'), done();
    case 'l':
      return ws.setTool('ruler'), done();
    case 'v':
      return ws.setTool('angle'), done();
    case 'e':
      return ws.setTool('ellipse'), done();
    case 'd':
      return ws.setTool('polygon'), done();
    case 't':
      return ws.setTool('trace'), done();
    case 'Enter':
      if (ws.drawing?.kind === 'polygon') return void ws.closePolygon(), done();
      return false;
    case 'c':
      return ws.setTool('calibrate'), done();
    case 'r':
      return ws.markReviewed(), done();
    case 'f':
      return ws.fit(), done();
    case '=':
      return ws.actualSize(), done();
    case '+':
      return ws.zoom(1.25), done();
    case '-':
      return ws.zoom(0.8), done();
    case '[':
      return ui.setOpacity(ui.opacity - 0.1), done();
    case ']':
      return ui.setOpacity(ui.opacity + 0.1), done();
    case 'o':
      return (ui.outlineOnly = !ui.outlineOnly), ui.save(), done();
    case 'm':
      return ws.addObject(), done();
    case 'i':
      return (ws.invert = !ws.invert), done();
    case 'z':
      return (ws.loupe = !ws.loupe), done();
    case 'Escape':
    case 'Delete':
      if (key === 'Delete' && e.shiftKey) return ws.deleteObject(ws.active), done();
      if (ws.calLine) return (ws.calLine = null), done();
      // Delete removes the selected hand-drawn shape (not the object's prompt)
      if (key === 'Delete' && ws.manualSelected !== null) return void ws.deleteManual(ws.manualSelected), done();
      // Esc drops a half-drawn shape, then leaves a drawing tool, before it clears a prompt (calibration is left above)
      if (key === 'Escape' && ws.leaveTool()) return done();
      return ws.clear(), done();
  }
  const preset = presets.find((k) => presetFor(k).shortcut === key);
  if (preset && (!ws.info || !ws.info.anatomies.length || presetRuns(preset, ws.info.anatomies))) return void ws.setAnatomy(preset), done();
  return false;
}
