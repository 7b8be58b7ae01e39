/** Test helpers for test/sts and test/tlsrpt: an in-memory DnsLookup and the lab PKI. */
import type { DnsLookup, DnsResult, RecordByType } from '../../src/core/dns-result.ts';

type Answer = { kind: 'records'; values: unknown[] } | { kind: 'failure' } | { kind: 'nxdomain' };

/** name+type -> answer; anything not listed is NXDOMAIN. Counts lookups per key. */
export class FakeDns implements DnsLookup {
  readonly answers = new Map<string, Answer>();
  readonly counts = new Map<string, number>();

  set(name: string, type: keyof RecordByType, answer: Answer): this {
    this.answers.set(`${type} ${name}`, answer);
    return this;
  }
  txt(name: string, ...texts: string[]): this {
    return this.set(name, 'TXT', { kind: 'records', values: texts });
  }
  a(name: string, ...addresses: string[]): this {
    return this.set(name, 'A', { kind: 'records', values: addresses });
  }
  fail(name: string, type: keyof RecordByType): this {
    return this.set(name, type, { kind: 'failure' });
  }
  remove(name: string, type: keyof RecordByType): this {
    this.answers.delete(`${type} ${name}`);
    return this;
  }

  async lookup<T extends keyof RecordByType>(name: string, type: T): Promise<DnsResult<RecordByType[T]>> {
    const key = `${type} ${name}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const a = this.answers.get(key) ?? { kind: 'nxdomain' };
    const base = { qname: name, canonicalName: name, cnames: [] };
    if (a.kind === 'failure') return { kind: 'failure', reason: 'servfail', qname: name, detail: 'SERVFAIL' };
    if (a.kind === 'nxdomain') return { kind: 'nxdomain', secure: false, ...base };
    const records = a.values.map((v) => {
      if (type === 'TXT') return { type, name, ttl: 300, text: v };
      return { type, name, ttl: 300, address: v };
    }) as unknown as RecordByType[T][];
    return { kind: 'insecure', records, ...base };
  }
}
