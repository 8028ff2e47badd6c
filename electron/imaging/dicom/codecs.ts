/**
 * Compressed-frame decoders. The WASM codecs are emscripten factories (CommonJS,
 * loading their .wasm from their own dist/ folder); each is instantiated lazily,
 * once, on first use, so opening an uncompressed file never pays for them.
 */
import { createRequire } from 'node:module';
import { jpegFrameHeader } from '../jpeg-header';

// not named `require`: electron-vite's bundle declares its own in the chunk this lands in
const requireHere = createRequire(import.meta.url);

/** Decoded samples, interleaved; `components` as the codestream has them. */
export interface DecodedImage {
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  data: Uint8Array | Uint16Array;
}

interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The shape the cornerstone codec decoders share (embind objects: call delete()). */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): ArrayBufferView;
  decode(): void;
  getFrameInfo(): WasmFrameInfo;
  delete(): void;
}

interface JpegLsDecoder extends WasmDecoder {
  /** 0 = planar (one component after another), 1 = by line, 2 = by sample. */
  getInterleaveMode(): number;
}

interface LibJpegTurboModule {
  JPEGDecoder: new () => WasmDecoder;
}
interface CharlsModule {
  JpegLSDecoder: new () => JpegLsDecoder;
}
interface OpenJpegModule {
  J2KDecoder: new () => WasmDecoder;
}

interface EmscriptenOptions {
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}
type Factory<M> = (options?: EmscriptenOptions) => Promise<M>;

/**
 * OpenJPEG logs "[INFO] …" for every frame; decode errors still surface as exceptions.
 * A fresh object each time: emscripten adopts the options object as its Module.
 */
function quiet(): EmscriptenOptions {
  return { print: () => {}, printErr: () => {} };
}

/** One promise per codec; reset on failure so a later frame can retry after a WASM abort. */
class LazyCodec<M> {
  private pending: Promise<M> | undefined;
  constructor(private readonly specifier: string) {}
  get(): Promise<M> {
    if (this.pending === undefined) {
      const factory = requireHere(this.specifier) as Factory<M>;
      this.pending = factory(quiet());
      this.pending.catch(() => this.reset());
    }
    return this.pending;
  }
  reset(): void {
    this.pending = undefined;
  }
}

const libjpegTurbo = new LazyCodec<LibJpegTurboModule>('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs');
const charls = new LazyCodec<CharlsModule>('@cornerstonejs/codec-charls/decodewasmjs');
const openjpeg = new LazyCodec<OpenJpegModule>('@cornerstonejs/codec-openjpeg/decodewasmjs');

/**
 * Copies the codec's output out of the WASM heap (the heap view dies with the decoder).
 * Codecs hand back various views (libjpeg-turbo: Uint8ClampedArray), so copy the bytes
 * into a plain Uint8Array, reinterpreted as 16-bit words (little-endian) above 8 bits.
 */
function copyOut(buffer: ArrayBufferView, bitsPerSample: number): Uint8Array | Uint16Array {
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).slice();
  if (bitsPerSample <= 8) return bytes;
  return new Uint16Array(bytes.buffer, 0, bytes.length >> 1);
}

function runWasm<M, D extends WasmDecoder>(
  codec: LazyCodec<M>,
  decoder: D,
  frame: Uint8Array,
  afterDecode?: (decoder: D) => void,
): DecodedImage {
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    afterDecode?.(decoder);
    const info = decoder.getFrameInfo();
    return {
      width: info.width,
      height: info.height,
      components: info.componentCount,
      bitsPerSample: info.bitsPerSample,
      data: copyOut(decoder.getDecodedBuffer(), info.bitsPerSample),
    };
  } catch (err) {
    // An emscripten abort can leave the module unusable: start a fresh one next time.
    codec.reset();
    // C++ exceptions arrive as bare numbers (pointers), meaningless to a user.
    throw err instanceof Error ? err : new Error('the decoder rejected the data');
  } finally {
    try {
      decoder.delete();
    } catch {
      // Already torn down by an abort; nothing left to free.
    }
  }
}

/** JPEG Baseline / Extended 8-bit. libjpeg-turbo converts YCbCr to RGB itself. */
export async function decodeJpegBaseline(frame: Uint8Array): Promise<DecodedImage> {
  const module = await libjpegTurbo.get();
  return runWasm(libjpegTurbo, new module.JPEGDecoder(), frame);
}

/** JPEG-LS (lossless and near-lossless) via CharLS. */
export async function decodeJpegLs(frame: Uint8Array): Promise<DecodedImage> {
  const module = await charls.get();
  let interleave = 2;
  const image = runWasm(charls, new module.JpegLSDecoder(), frame, (d) => {
    interleave = d.getInterleaveMode();
  });
  if (image.components > 1 && interleave === 0) {
    image.data = interleavePlanes(image.data, image.width * image.height, image.components);
  }
  return image;
}

/** JPEG 2000 via OpenJPEG; the inverse ICT/RCT colour transform is applied by the codec. */
export async function decodeJpeg2000(frame: Uint8Array): Promise<DecodedImage> {
  const module = await openjpeg.get();
  return runWasm(openjpeg, new module.J2KDecoder(), frame);
}

interface LosslessDecoderInstance {
  decode(buffer?: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  numComp: number;
  xDim: number;
  yDim: number;
}
interface LosslessModule {
  Decoder: new () => LosslessDecoderInstance;
}
let lossless: LosslessModule | undefined;

/** JPEG Lossless (Process 14, any predictor) via the pure-JS jpeg-lossless-decoder-js. */
export function decodeJpegLossless(frame: Uint8Array, bitsAllocated: 8 | 16): DecodedImage {
  lossless ??= requireHere('jpeg-lossless-decoder-js') as LosslessModule;
  const decoder = new lossless.Decoder();
  const bytesPerSample = bitsAllocated / 8;
  const data = decoder.decode(frame.buffer as ArrayBuffer, frame.byteOffset, frame.byteLength, bytesPerSample);
  return {
    width: decoder.xDim,
    height: decoder.yDim,
    components: decoder.numComp,
    bitsPerSample: bitsAllocated,
    data,
  };
}

/** RR…GG…BB… → RGBRGB… */
export function interleavePlanes<T extends Uint8Array | Uint16Array>(data: T, pixels: number, components: number): T {
  const out = (data instanceof Uint8Array ? new Uint8Array(data.length) : new Uint16Array(data.length)) as T;
  for (let c = 0; c < components; c++) {
    const base = c * pixels;
    for (let p = 0, o = c; p < pixels; p++, o += components) out[o] = data[base + p] ?? 0;
  }
  return out;
}

/** Size a codestream declares in its own header, read before decoding; null when not found. */
export interface CodestreamSize {
  width: number;
  height: number;
  components: number;
}

const be16 = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
const be32 = (b: Uint8Array, i: number): number => be16(b, i) * 65536 + be16(b, i + 2);

/** JPEG / JPEG-LS: the SOFn (or SOF55) segment. */
function jpegSize(b: Uint8Array): CodestreamSize | null {
  const h = jpegFrameHeader(b);
  return h && { width: h.width, height: h.height, components: h.components };
}

/** JPEG 2000: the SIZ marker right after SOC (also found inside a JP2 wrapper). */
function j2kSize(b: Uint8Array): CodestreamSize | null {
  const limit = Math.min(b.length - 42, 4096);
  for (let i = 0; i < limit; i++) {
    if (b[i] === 0xff && b[i + 1] === 0x4f && b[i + 2] === 0xff && b[i + 3] === 0x51) {
      const s = i + 4; // Lsiz
      return {
        width: be32(b, s + 4) - be32(b, s + 12),
        height: be32(b, s + 8) - be32(b, s + 16),
        components: be16(b, s + 36),
      };
    }
  }
  return null;
}

export function codestreamSize(frame: Uint8Array, codec: 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000'): CodestreamSize | null {
  return codec === 'jpeg-2000' ? j2kSize(frame) : jpegSize(frame);
}
