/**
 * Compressed request bodies (`Content-Encoding: gzip | deflate`), as Triton accepts them and
 * tritonclient sends them (`request_compression_algorithm=`). The decompressed size counts
 * against the same body limit as a plain body: decompression stops at the limit, so a small
 * body that inflates without end (a "zip bomb") costs at most `limit` bytes and is answered 413.
 * Any other encoding is refused with 415 before the body is read.
 *
 * Decompression runs on the event loop (zlib's sync form), bounded by the limit: at the default
 * 16 MiB, inflating to the limit takes 10-40 ms here (measured: 15 ms for a 1 MiB gzip of
 * zeros, 35 ms for 11 MB of text), no more than parsing the JSON it yields. Not on libuv's
 * thread pool: `fresco serve` runs that pool in SCHED_IDLE (scheduling.ts), where a compressed
 * request would wait for idle CPU time, and so never be answered under full load.
 */
import { gunzipSync, inflateRawSync, inflateSync, type InputType, type ZlibOptions } from 'node:zlib';
import { FrescoError } from '../errors/index.js';
import { type Reply, readBody, type Req } from './http.js';

type Inflate = (buf: InputType, options: ZlibOptions) => Buffer;

/** The body's decoder, from its Content-Encoding header; undefined for an identity body. Throws 415 for others. */
function decoderFor(header: string | undefined): { name: string; inflate: (body: Uint8Array) => Inflate } | undefined {
  const encoding = header?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return { name: 'gzip', inflate: () => gunzipSync };
  // HTTP's "deflate" is the zlib format (RFC 1950), but some clients send raw deflate (RFC 1951):
  // a zlib stream starts with a CMF/FLG pair whose 16-bit value is a multiple of 31.
  if (encoding === 'deflate') return { name: 'deflate', inflate: (b) => (b.byteLength >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0 ? inflateSync : inflateRawSync) };
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
  try {
    const out = decoder.inflate(body)(body, { maxOutputLength: limit });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the ${decoder.name} body decompresses to more than the limit of ${limit} bytes`);
    }
    throw new FrescoError('FRESCO_ERR_FRAME_INVALID', `the body is not valid ${decoder.name} data: ${(error as Error).message}`);
  }
}
