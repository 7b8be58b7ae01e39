/**
 * A tiny DNS relay on a fixed address (127.0.0.1:53 inside the bench's
 * network namespace) in front of the lab resolver, which only binds
 * ephemeral ports. Postfix finds its resolver through /etc/resolv.conf, so
 * it needs port 53; in --compare-postfix mode dane-relay uses the same
 * address, so both MTAs see the same path.
 *
 * Contract: UDP datagrams are forwarded one to one (a fresh upstream socket
 * per query, closed on the answer or after 5 s); TCP connections are piped
 * byte for byte. Nothing is parsed or changed. Socket errors drop the query
 * or connection, never throw. `close()` stops everything.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface DnsForwarder {
  close(): Promise<void>;
}

export async function startDnsForwarder(listen: { host: string; port: number }, upstream: { host: string; port: number }): Promise<DnsForwarder> {
  const udp = dgram.createSocket('udp4');
  const pending = new Set<dgram.Socket>();
  udp.on('error', () => undefined);
  udp.on('message', (msg, rinfo) => {
    const up = dgram.createSocket('udp4');
    pending.add(up);
    const done = (): void => {
      clearTimeout(timer);
      pending.delete(up);
      up.close();
    };
    const timer = setTimeout(done, 5000);
    up.on('error', done);
    up.on('message', (answer) => {
      udp.send(answer, rinfo.port, rinfo.address);
      done();
    });
    up.send(msg, upstream.port, upstream.host);
  });
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((client) => {
    const up = net.connect(upstream);
    for (const s of [client, up]) {
      conns.add(s);
      s.on('error', () => {
        client.destroy();
        up.destroy();
      });
      s.on('close', () => conns.delete(s));
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(listen.port, listen.host, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(listen.port, listen.host, () => resolve());
  });
  return {
    async close() {
      for (const s of pending) s.close();
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}
