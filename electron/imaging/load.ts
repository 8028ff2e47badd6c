/** Opens a file and hands the engine a frame as 8-bit greyscale, keyed by file identity and frame. */
import { stat } from 'node:fs/promises';
import { type GreyImage, toGrey8 } from './greyscale';
import { identityOf, openImage } from './open';
import { type ImageSource, ImageReadError } from './types';

/** Same path, size and modification time = same image; a rewritten file gets a fresh key. */
export async function fileIdentity(path: string | Buffer): Promise<string> {
  return identityOf(path, await stat(path));
}

export interface LoadedFrame {
  source: ImageSource;
  frame: number;
  key: string;
  image: GreyImage;
}

/** `path` may be a Buffer for a name that is not valid UTF-8 (see openImage). */
export async function loadFrame(file: string | Buffer, frame = 0, source?: ImageSource): Promise<LoadedFrame> {
  const src = source ?? (await openImage(file));
  const path = src.path;
  if (!Number.isInteger(frame) || frame < 0 || frame >= src.frameCount) {
    throw new ImageReadError(path, `frame ${frame} does not exist (the file has ${src.frameCount} frame${src.frameCount === 1 ? '' : 's'}, numbered from 0)`);
  }
  const pixels = await src.readFrame(frame);
  // the identity of the bytes read when the file was opened (a source made elsewhere may lack it)
  return { source: src, frame, key: `${src.identity ?? (await fileIdentity(file))}#${frame}`, image: toGrey8(pixels) };
}
