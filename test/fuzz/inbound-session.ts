/**
 * Hostile inbound SMTP sessions for the fuzz suite (issue 19): a grammar of
 * sessions built with fast-check arbitraries, and a driver that plays one
 * session against a listener on loopback and reports what it saw.
 *
 * A session is a client address (inside or outside mynetworks), a list of
 * steps and an ending. Steps: command lines from an SMTP grammar (valid,
 * mutated and junk; odd line endings; pipelined bursts), oversize lines,
 * binary garbage, and message bodies (dot-stuffed, 8-bit, overlong lines,
 * oversize, with SMTP-smuggling sequences that hide a second transaction to
 * `smuggled@victim.test`, with or without the final dot). The steps are cut
 * at a random point, possibly inside a step, and the session then ends by
 * QUIT, close, TCP reset, half-close, or a stall (the client stops talking).
 *
 * The driver's oracle, per session:
 * - hang: a reply that is owed (every LF-terminated line in command mode, the
 *   final dot in DATA, the greeting) did not come within `replyMs`, or after a
 *   stall or half-close the server did not close within `closeMs`;
 * - acked: the queue ids of `250 2.0.0 Ok: queued as ID` replies;
 * - openRelay: a client outside mynetworks got a message queued.
 * Session i of a run with seed S is generated from fast-check seed S + i, so
 * one session replays alone (`sessionFor(S + i)`).
 */
import net from 'node:net';
import fc from 'fast-check';

export const SMUGGLED_RCPT = 'smuggled@victim.test';
export const OUTSIDE_ADDRESS = '127.0.0.2';

export type Step = { kind: 'line' | 'raw'; bytes: Buffer } | { kind: 'body'; bytes: Buffer; terminated: boolean; smuggled: boolean };
export type Ending = 'quit' | 'close' | 'reset' | 'half-close' | 'stall';
export interface Session {
  outside: boolean;
  steps: Step[];
  /** a fraction of the last step's bytes to send before ending (a cut inside a step) */
  cutInside: number | null;
  ending: Ending;
}

const CRLF = '\r\n';
/** `arb` in one case of `outOf`, null otherwise (fast-check's option `freq` is the odds of null). */
const sometimes = <T>(arb: fc.Arbitrary<T>, outOf: number): fc.Arbitrary<T | null> => fc.oneof({ weight: outOf - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const domain = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => `${l.join('.')}.test`),
  fc.constantFrom('[127.0.0.1]', '[IPv6:::1]', 'localhost', '', '-', 'a..b', 'ünï.test', 'x'.repeat(300)),
);
const local = fc.oneof(label, fc.constantFrom('"quoted local"', 'a+tag', 'x%y', '@route:x', '', 'ünï', '<>', 'a\tb'));
const mailbox = fc.oneof({ weight: 4, arbitrary: fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`) }, { weight: 1, arbitrary: fc.constantFrom('', 'postmaster', '@', 'a@b@c', 'x@[300.1.1.1]') });
const mailParams = fc.constantFrom('', '', ' SIZE=100', ' BODY=8BITMIME', ' SMTPUTF8', ' RET=FULL ENVID=x1', ' SIZE=99999999999', ' BODY=BINARYMIME', ' AUTH=<>', ' XYZ=1', ' SIZE=', ' REQUIRETLS');
const rcptParams = fc.constantFrom('', '', ' NOTIFY=NEVER', ' NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y.test', ' ORCPT=bogus', ' NOTIFY=');
const fixedCommand = fc.constantFrom('DATA', 'RSET', 'NOOP', 'VRFY postmaster', 'EXPN list', 'HELP', 'STARTTLS', 'AUTH PLAIN', 'AUTH LOGIN', 'AUTH PLAIN AGFsaWNlAHdyb25n', 'AUTH CRAM-MD5', 'BDAT 10 LAST', 'XCLIENT ADDR=192.0.2.1', 'XFORWARD NAME=x', 'GET / HTTP/1.1', 'MAIL FROM:', 'RCPT TO:', 'MAIL FROM:<a@b.test> <c@d.test>', 'RCPT TO:<@relay.test:x@y.test>', 'MAIL FROM:<a@b.test', 'RCPT TO:x@y.test', '*', '.', '', 'QUIT', 'TURN', 'ETRN x.test', 'mail from:<lower@case.test>');
export const command = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('EHLO', 'HELO', 'LHLO', 'EHLO  '), domain).map(([v, d]) => `${v} ${d}`) },
  { weight: 4, arbitrary: fc.tuple(mailbox, mailParams).map(([a, p]) => `MAIL FROM:<${a}>${p}`) },
  { weight: 4, arbitrary: fc.tuple(mailbox, rcptParams).map(([a, p]) => `RCPT TO:<${a}>${p}`) },
  { weight: 4, arbitrary: fixedCommand },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 120 }).map((s) => s.replace(/\n/g, ' ')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
);
const ending = fc.constantFrom(CRLF, CRLF, CRLF, CRLF, CRLF, CRLF, '\n', '\r\r\n', '\n\r', ' \r\n');

const lineStep: fc.Arbitrary<Step> = fc.tuple(command, ending).map(([c, e]) => ({ kind: 'line', bytes: Buffer.concat([utf8(c), enc(e)]) }));
const burstStep: fc.Arbitrary<Step> = fc.array(command, { minLength: 2, maxLength: 30 }).map((cs) => ({ kind: 'line', bytes: utf8(cs.join(CRLF) + CRLF) }));
const rawStep: fc.Arbitrary<Step> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((b) => ({ kind: 'raw' as const, bytes: Buffer.from(b) })),
  fc.integer({ min: 513, max: 40_000 }).map((n) => ({ kind: 'raw' as const, bytes: enc('A'.repeat(n) + CRLF) })),
  fc.integer({ min: 1, max: 3000 }).map((n) => ({ kind: 'raw' as const, bytes: enc('\r\n'.repeat(n)) })),
);

const bodyLine = fc.oneof(
  { weight: 40, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 100 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
  { weight: 4, arbitrary: fc.constantFrom('.', '..', '.hidden', 'From: a@src.test', 'Subject: fuzz', '', 'MAIL FROM:<x@y.test>', 'QUIT') },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 3000 }).map((n) => 'L'.repeat(n)) },
);
/** Smuggling: a second transaction behind a line ending that is not CRLF.CRLF (it must stay content or be refused). */
const smuggle = fc.constantFrom('\n.\n', '\r\n.\n', '\n.\r\n', '\r.\r', '\r\n.\r', '\n\n.\n\n', '\r\n\x00.\r\n').map((seq) => {
  const nl = seq.includes('\n') ? seq.slice(seq.lastIndexOf('.') + 1) : '\r';
  return `${seq}MAIL FROM:<attacker@evil.test>${nl}RCPT TO:<${SMUGGLED_RCPT}>${nl}DATA${nl}Subject: smuggled${nl}${nl}evil${seq}`;
});
const bodyStep: fc.Arbitrary<Step> = fc
  .record({
    lines: fc.array(bodyLine, { maxLength: 40 }),
    smuggleAt: sometimes(fc.tuple(fc.nat(), smuggle), 4),
    binary: sometimes(fc.uint8Array({ maxLength: 2000 }), 10),
    huge: sometimes(fc.integer({ min: 70_000, max: 200_000 }), 15),
    // nine bodies in ten end with the final dot; the others leave the client inside DATA
    terminated: fc.nat({ max: 9 }).map((t) => t > 0),
  })
  .map(({ lines, smuggleAt, binary, huge, terminated }) => {
    const stuffed = lines.map((l) => l.replace(/[\r\n]/g, ' ')).map((l) => (l.startsWith('.') ? `.${l}` : l));
    // the smuggling sequence goes at the end of a line, never inside a CRLF (that would make a real CRLF.CRLF)
    const at = smuggleAt ? smuggleAt[0] % Math.max(1, stuffed.length) : -1;
    const text = stuffed.length === 0 && smuggleAt ? smuggleAt[1] : stuffed.map((l, i) => (i === at && smuggleAt ? l + smuggleAt[1] : l)).join(CRLF);
    const parts = [utf8(text)];
    if (binary) parts.push(Buffer.from(binary));
    if (huge !== null) parts.push(enc(`${CRLF}${'H'.repeat(998)}`.repeat(Math.ceil(huge / 1000))));
    if (terminated) parts.push(enc(`${CRLF}.${CRLF}`));
    return { kind: 'body' as const, bytes: Buffer.concat(parts), terminated, smuggled: smuggleAt !== null };
  });

/** A mostly valid transaction (so the grammar reaches DATA), with its commands pipelined or not. */
const transaction: fc.Arbitrary<Step[]> = fc
  .record({ helo: domain, from: mailbox, rcpts: fc.array(mailbox, { minLength: 1, maxLength: 4 }), body: bodyStep, pipelined: fc.boolean(), valid: fc.boolean() })
  .map(({ helo, from, rcpts, body, pipelined, valid }) => {
    const cmds = [`EHLO ${valid ? 'client.test' : helo}`, `MAIL FROM:<${valid ? 'sender@src.test' : from}>`, ...(valid ? ['rcpt@dst.test'] : rcpts).map((r) => `RCPT TO:<${r}>`), 'DATA'];
    const lines: Step[] = pipelined ? [{ kind: 'line', bytes: enc(cmds.join(CRLF) + CRLF) }] : cmds.map((c) => ({ kind: 'line' as const, bytes: utf8(c + CRLF) }));
    return [...lines, body];
  });

const step: fc.Arbitrary<Step[]> = fc.oneof(
  { weight: 4, arbitrary: transaction },
  { weight: 3, arbitrary: lineStep.map((s) => [s]) },
  { weight: 1, arbitrary: burstStep.map((s) => [s]) },
  { weight: 1, arbitrary: rawStep.map((s) => [s]) },
  { weight: 1, arbitrary: bodyStep.map((s) => [s]) },
);

export const sessionArbitrary: fc.Arbitrary<Session> = fc
  .record({
    outside: fc.nat({ max: 4 }).map((n) => n === 0),
    groups: fc.array(step, { minLength: 1, maxLength: 5 }),
    cut: sometimes(fc.nat(), 3),
    cutInside: sometimes(fc.double({ min: 0, max: 1, noNaN: true }), 5),
    ending: fc.constantFrom<Ending>('quit', 'quit', 'quit', 'close', 'close', 'reset', 'half-close', 'stall'),
  })
  .map(({ outside, groups, cut, cutInside, ending }) => {
    const steps = groups.flat();
    return { outside, steps: cut === null ? steps : steps.slice(0, (cut % steps.length) + 1), cutInside, ending };
  });

/** The session with fast-check seed `seed` (replayable alone). */
export function sessionFor(seed: number): Session {
  const [s] = fc.sample(sessionArbitrary, { seed, numRuns: 1 });
  if (!s) throw new Error('fast-check produced no session');
  return s;
}
