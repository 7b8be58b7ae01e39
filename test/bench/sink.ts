/**
 * A lean SMTP sink for the benchmark: raw sockets, no parsing beyond what
 * SMTP needs, STARTTLS with one certificate (the one the lab TLSA `3 1 1`
 * record pins). It stands in for a fast remote MX.
 *
 * Contract:
 * - Speaks ESMTP with PIPELINING, STARTTLS, 8BITMIME, SIZE,
 *   ENHANCEDSTATUSCODES; answers every MAIL/RCPT/DATA with success. Bytes the
 *   client pipelined after STARTTLS in plaintext are discarded (RFC 3207 §4.2).
 * - For every message it reports one `Arrival`: the Message-ID header (the
 *   bench's message key), the arrival time (epoch ms, float), whether the
 *   session was TLS at the time, and the size. The arrival is recorded when
 *   the final dot has been read, before the 250 is written.
 * - Counts connections, TLS handshakes (and how many resumed a session),
 *   messages received in plaintext.
 * - Never throws from a socket handler; a broken connection is dropped.
 *   Listening errors reject `startSink`. Lines longer than 64 KiB in command
 *   mode close the connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

export interface Arrival {
  id: string;
  t: number;
  tls: boolean;
  size: number;
}

export interface SinkStats {
  connections: number;
  handshakes: number;
  resumed: number;
  messages: number;
  plaintextMessages: number;
}

export interface SinkOptions {
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  onArrival(a: Arrival): void;
}

export interface Sink {
  host: string;
  port: number;
  stats(): SinkStats;
  reset(): void;
  close(): Promise<void>;
}

const CRLF = Buffer.from('\r\n');
const END_OF_DATA = Buffer.from('\r\n.\r\n');
const MAX_LINE = 64 * 1024;
const MSGID = /^message-id:[ \t]*(<[^>\r\n]*>)/im;
const EHLO_TLS = ['250-sink.bench.test', '250-PIPELINING', '250-SIZE 104857600', '250-8BITMIME', '250-ENHANCEDSTATUSCODES'];

export const now = (): number => performance.timeOrigin + performance.now();

class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private inData = false;
  /** Where to resume searching for END_OF_DATA in `buf`. */
  private scanFrom = 0;
  private secure = false;
  private stream: Duplex;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  constructor(socket: net.Socket, private readonly sink: SinkState) {
    this.stream = socket;
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('data', this.onData);
    socket.write('220 sink.bench.test ESMTP bench sink\r\n');
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let out = '';
    while (this.buf.length > 0) {
      if (this.inData) {
        const reply = this.takeData();
        if (reply === undefined) break;
        out += reply;
        continue;
      }
      const eol = this.buf.indexOf(CRLF);
      if (eol < 0) {
        if (this.buf.length > MAX_LINE) this.stream.destroy();
        break;
      }
      const line = this.buf.subarray(0, eol).toString('latin1');
      this.buf = this.buf.subarray(eol + 2);
      const r = this.command(line);
      if (r === 'starttls') {
        // Plaintext pipelined after STARTTLS is discarded (RFC 3207 §4.2).
        this.flush(out + '220 2.0.0 Ready to start TLS\r\n');
        this.upgrade();
        return;
      }
      out += r;
      if (r.startsWith('221')) {
        this.flush(out);
        this.stream.end();
        return;
      }
    }
    this.flush(out);
  }

  private flush(out: string): void {
    if (out.length > 0) this.stream.write(out);
  }

  /** In DATA mode: consumes one whole message if its end is in `buf`, returns the reply. */
  private takeData(): string | undefined {
    const idx = this.buf.indexOf(END_OF_DATA, Math.max(0, this.scanFrom - 4));
    if (idx < 0) {
      this.scanFrom = this.buf.length;
      return undefined;
    }
    // `buf` starts with a synthetic CRLF (added at DATA), so a message that is
    // just "." also ends here.
    const message = this.buf.subarray(2, idx + 2);
    this.buf = this.buf.subarray(idx + END_OF_DATA.length);
    this.inData = false;
    this.scanFrom = 0;
    const head = message.subarray(0, Math.min(message.length, 8192)).toString('latin1');
    const id = MSGID.exec(head)?.[1] ?? '';
    this.sink.arrived({ id, t: now(), tls: this.secure, size: message.length });
    return '250 2.0.0 Ok: queued\r\n';
  }

  private command(line: string): string | 'starttls' {
    const verb = line.slice(0, 4).toUpperCase();
    switch (verb) {
      case 'EHLO':
        return [...EHLO_TLS, ...(this.secure ? [] : ['250-STARTTLS']), '250 DSN'].join('\r\n') + '\r\n';
      case 'HELO':
        return '250 sink.bench.test\r\n';
      case 'STAR':
        return this.secure ? '503 5.5.1 Already in TLS\r\n' : 'starttls';
      case 'MAIL':
      case 'RCPT':
      case 'RSET':
      case 'NOOP':
        return '250 2.0.0 Ok\r\n';
      case 'DATA':
        this.inData = true;
        this.scanFrom = 0;
        this.buf = Buffer.concat([CRLF, this.buf]);
        return '354 End data with <CR><LF>.<CR><LF>\r\n';
      case 'QUIT':
        return '221 2.0.0 Bye\r\n';
      default:
        return '502 5.5.2 Command not recognized\r\n';
    }
  }

  private upgrade(): void {
    const raw = this.stream as net.Socket;
    raw.removeListener('data', this.onData);
    this.buf = Buffer.alloc(0);
    const secured = new tls.TLSSocket(raw, { isServer: true, secureContext: this.sink.context });
    secured.on('error', () => secured.destroy());
    secured.on('secure', () => {
      this.sink.stats.handshakes++;
      if (secured.isSessionReused()) this.sink.stats.resumed++;
    });
    secured.on('data', this.onData);
    this.stream = secured;
    this.secure = true;
  }
}

interface SinkState {
  context: tls.SecureContext;
  stats: SinkStats;
  arrived(a: Arrival): void;
}

const zeroStats = (): SinkStats => ({ connections: 0, handshakes: 0, resumed: 0, messages: 0, plaintextMessages: 0 });

export async function startSink(opts: SinkOptions): Promise<Sink> {
  const state: SinkState = {
    context: tls.createSecureContext({ cert: opts.certPem, key: opts.keyPem }),
    stats: zeroStats(),
    arrived(a) {
      state.stats.messages++;
      if (!a.tls) state.stats.plaintextMessages++;
      opts.onArrival(a);
    },
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.stats.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Connection(socket, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, backlog: 1024 }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  return {
    host: opts.host,
    port: addr.port,
    stats: () => ({ ...state.stats }),
    reset() {
      state.stats = zeroStats();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
