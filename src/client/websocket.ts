/**
 * A minimal WebSocket client (RFC 6455) over node:net, binary messages only: Node 20 has no
 * WebSocket global without a flag, and the client should not pull in a dependency for this.
 * Client frames are masked as the RFC requires; fragmented messages are reassembled; ping gets pong.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class MiniWebSocket {
  onmessage: (data: Uint8Array) => void = () => {};
  onclose: (reason: string) => void = () => {};
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #closed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#close('connection closed'));
    socket.on('error', (error) => this.#close(error.message));
  }

  static connect(url: string, timeoutMs: number): Promise<MiniWebSocket> {
    const u = new URL(url);
    if (u.protocol !== 'ws:') return Promise.reject(new Error(`unsupported scheme ${u.protocol} (use ws://)`));
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = request({
        host: u.hostname,
        port: u.port || 80,
        path: u.pathname + u.search,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
        timeout: timeoutMs,
      });
      req.on('upgrade', (res, socket, head) => {
        const accept = createHash('sha1').update(key + GUID).digest('base64');
        if (res.headers['sec-websocket-accept'] !== accept) {
          socket.destroy();
          return reject(new Error('bad WebSocket handshake'));
        }
        const ws = new MiniWebSocket(socket);
        if (head.length) ws.#onData(head);
        resolve(ws);
      });
      req.on('response', (res) => reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)));
      req.on('timeout', () => req.destroy(new Error(`connecting to ${url} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(data: Uint8Array): void {
    this.#write(0x2, data);
  }

  close(): void {
    if (this.#closed) return;
    this.#write(0x8, Buffer.from([0x03, 0xe8]));
    this.socket.end();
    this.#close('closed by client');
  }

  #write(opcode: number, data: Uint8Array): void {
    if (this.#closed) throw new Error('the WebSocket is closed');
    const n = data.byteLength;
    const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + 4 + n);
    frame[0] = 0x80 | opcode;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(n), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, headerLength);
    const body = headerLength + 4;
    for (let i = 0; i < n; i++) frame[body + i] = (data[i] as number) ^ (mask[i & 3] as number);
    this.socket.write(frame);
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      const fin = ((b[0] as number) & 0x80) !== 0;
      const opcode = (b[0] as number) & 0x0f;
      let n = (b[1] as number) & 0x7f;
      let at = 2;
      if (n === 126) {
        if (b.length < 4) return;
        n = b.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (b.length < 10) return;
        n = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + n) return;
      const payload = b.subarray(at, at + n);
      this.#buffer = b.subarray(at + n);
      if (opcode === 0x8) {
        this.socket.end();
        return this.#close(payload.length >= 2 ? `closed by server (${payload.readUInt16BE(0)} ${payload.subarray(2).toString()})` : 'closed by server');
      }
      if (opcode === 0x9) {
        this.#write(0xa, payload);
        continue;
      }
      if (opcode === 0xa) continue;
      this.#fragments.push(payload);
      if (fin) {
        const message = this.#fragments.length === 1 ? (this.#fragments[0] as Buffer) : Buffer.concat(this.#fragments);
        this.#fragments = [];
        this.onmessage(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
      }
    }
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose(reason);
  }
}
