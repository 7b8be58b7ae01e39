/**
 * An agent that runs INSIDE the lab network namespace
 * (`ip netns exec NS node --import tsx src/lab/interop/ns-agent.ts`) and does
 * there what a test in the host namespace cannot: run lab MX servers on
 * 127.0.0.x:25 and submit mail over SMTP to Postfix.
 *
 * Protocol: JSON lines. Reads commands on stdin, answers on stdout
 * (`{"ready":true}` first, then `{"id":N,"ok":true,…}` or
 * `{"id":N,"ok":false,"error":"…"}` per command). See agent-client.ts for
 * the command shapes. End of stdin closes every server and exits.
 *
 * Certificates arrive as PEM (generated in the host process, whose digests are
 * in the signed zone); they are handed to mx-server.ts as a one-element chain
 * carrying the whole PEM bundle: mx-server reads only name, der, certPem and
 * keyPem of a chain. Loopback only (mx-server asserts it).
 */
import { X509Certificate } from 'node:crypto';
import { createInterface } from 'node:readline';
import nodemailer from 'nodemailer';
import type { IssuedCert } from '../certs.ts';
import { startMxServer, type MxMode, type MxServer } from '../mx-server.ts';
import type { AgentCommand } from './agent-client.ts';

const servers = new Map<string, MxServer>();

function chainFromPem(name: string, certPem: string, keyPem: string): IssuedCert[] {
  const der = new X509Certificate(certPem).raw;
  // Only the fields mx-server.ts reads (see header).
  const leaf = { name, der, certPem, keyPem } as unknown as IssuedCert;
  return [leaf];
}

async function submit(c: Extract<AgentCommand, { op: 'submit' }>): Promise<Record<string, unknown>> {
  const transport = nodemailer.createTransport({
    host: c.host, port: c.port, secure: false, ignoreTLS: true, name: 'submitter.lab.test',
    connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000,
  });
  try {
    const info = await transport.sendMail({
      envelope: { from: c.from, to: c.to }, from: c.from, to: c.to,
      subject: c.subject, text: c.text, messageId: c.messageId,
    });
    return { response: info.response, accepted: info.accepted, rejected: info.rejected };
  } finally {
    transport.close();
  }
}

async function handle(c: AgentCommand): Promise<Record<string, unknown>> {
  switch (c.op) {
    case 'startMx': {
      if (servers.has(c.label)) throw new Error(`label in use: ${c.label}`);
      const chain = c.certPem && c.keyPem ? chainFromPem(c.certName ?? c.label, c.certPem, c.keyPem) : undefined;
      const s = await startMxServer({ host: c.host, port: c.port, mode: c.mode as MxMode, chain, label: c.label, name: c.greetingName });
      servers.set(c.label, s);
      return { port: s.port, presents: s.presents };
    }
    case 'submit':
      return submit(c);
    case 'state': {
      const mx: Record<string, unknown> = {};
      for (const [label, s] of servers) mx[label] = { messages: s.messages(), sessions: s.sessions() };
      return { mx };
    }
  }
}

function reply(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let c: AgentCommand;
  try { c = JSON.parse(line) as AgentCommand; } catch { reply({ ok: false, error: `bad JSON: ${line.slice(0, 80)}` }); return; }
  handle(c).then(
    (r) => reply({ id: c.id, ok: true, ...r }),
    (e: unknown) => reply({ id: c.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
rl.on('close', () => {
  void Promise.allSettled([...servers.values()].map((s) => s.close())).then(() => process.exit(0));
});
reply({ ready: true });
