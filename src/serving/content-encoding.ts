/**
 * Compressed request bodies (`Content-Encoding: gzip | deflate`), as Triton accepts them and
 * tritonclient sends them (`request_compression_algorithm=`). The decompressed size counts
 * against the same body limit as a plain body: decompression stops at the limit, so a small
 * body that inflates without end (a "zip bomb") costs at most `limit` bytes and is answered 413.
 * Any other encoding is refused with 415 before the body is read.
 *
 * Decompression runs on libuv's thread pool (zlib's async form), not on the event loop.
 */
import { gunzip, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';
import { FrescoError } from '../errors/index.js';
import { type Reply, readBody, type Req } from './http.js';

type Inflate = (buf: InputType, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

/** The body's decoder, from its Content-Encoding header; undefined for an identity body. Throws 415 for others. */
function decoderFor(header: string | undefined): { name: string; inflate: (body: Uint8Array) => Inflate } | undefined {
  const encoding = header?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return { name: 'gzip', inflate: () => gunzip };
  // HTTP's "deflate" is the zlib format (RFC 1950), but some clients send raw deflate (RFC 1951):
  // a zlib stream starts with a CMF/FLG pair whose 16-bit value is a multiple of 31.
  if (encoding === 'deflate') return { name: 'deflate', inflate: (b) => (b.byteLength >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0 ? inflate : inflateRaw) };
  throw new FrescoError('FRESCO_ERR_UNSUPPORTED_ENCODING', `Content-Encoding "${header}" is not supported: send the body as is, or with gzip or deflate`, { location: { key: 'content-encoding' } });
}

/**
 * Reads the whole body and decodes it per its Content-Encoding. More than `limit` bytes, read or
 * decompressed, is refused: `readBody`'s BodyTooLarge for the bytes on the wire, and
 * FRESCO_ERR_PAYLOAD_TOO_LARGE (413) for the decompressed ones.
 */
export async function readDecodedBody(reply: Reply, req: Req, limit: number): Promise<Uint8Array> {
  const decoder = decoderFor(req.headers['content-encoding']);
  const body = await readBody(reply, limit);
  if (!decoder) return body;
  const fn = decoder.inflate(body);
  return new Promise((resolve, reject) => {
    fn(body, { maxOutputLength: limit }, (error, result) => {
      if (!error) return resolve(new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reject(new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the ${decoder.name} body decompresses to more than the limit of ${limit} bytes`));
      }
      reject(new FrescoError('FRESCO_ERR_FRAME_INVALID', `the body is not valid ${decoder.name} data: ${error.message}`));
    });
  });
}
