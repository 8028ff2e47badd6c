/** JSON with typed arrays, for the browser-test WebSocket transport: tagged number lists. */
export function replace(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return { $u8: Array.from(v) };
  if (v instanceof Float32Array) return { $f32: Array.from(v) };
  return v;
}
export function revive(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$u8' in v) return Uint8Array.from((v as { $u8: number[] }).$u8);
  if (v && typeof v === 'object' && '$f32' in v) return Float32Array.from((v as { $f32: number[] }).$f32);
  return v;
}
