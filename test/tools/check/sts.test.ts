/**
 * `dane-relay check` shows MTA-STS next to DANE (issue 18): the record and
 * policy of the domain, the policy source and type of each host, the
 * enforce verdict (RFC 8461 §4.2), the testing-mode verdict reported only
 * (§5), and DANE taking precedence when both are published (C28).
 * A loopback world: lab resolver (signed zone), lab MX servers, the lab
 * HTTPS policy server, certificates from a lab "public" CA.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIntermediateCa, createRootCa, createSelfSigned, issueLeaf, type IssuedCert } from '../../../src/lab/certs.ts';
import { startLabResolver, type LabRecord, type LabResolver } from '../../../src/lab/lab-resolver.ts';
import { startMxServer, type MxServer } from '../../../src/lab/mx-server.ts';
import { findSharedPort } from '../../../src/lab/shared-port.ts';
import { startStsServer, type StsServer } from '../../../src/lab/sts-server.ts';
import { tlsaDataFor } from '../../../src/core/tlsa.ts';
import { runCheck } from '../../../src/tools/check/run.ts';
import type { CheckReport } from '../../../src/tools/check/types.ts';

const HOSTS = { enforce: '127.0.0.41', testing: '127.0.0.42', both: '127.0.0.43' } as const;
type Name = keyof typeof HOSTS;

let resolver: LabResolver;
let sts: StsServer;
let dir: string;
let port: number;
const servers: MxServer[] = [];

const rec = (name: string, type: LabRecord['type'], data: unknown): LabRecord => ({ name, type, data });
const policy = (mode: string, d: string): string => `version: STSv1\nmode: ${mode}\nmx: *.${d}\nmax_age: 86400\n`;

async function check(domain: string): Promise<{ report: CheckReport; text: string }> {
  const common = { domains: [domain], concurrency: 1, resolvers: [resolver.address], caFile: join(dir, 'ca.pem'), port, stsPort: sts.port, timeoutSeconds: 10 };
  let json = '';
  let text = '';
  await runCheck({ ...common, json: true }, { stdout: (s) => { json += s; }, stderr: () => undefined, color: false });
  await runCheck(common, { stdout: (s) => { text += s; }, stderr: () => undefined, color: false });
  return { report: JSON.parse(json) as CheckReport, text };
}

describe('dane-relay check: MTA-STS next to DANE', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'check-sts-'));
    const root = await createRootCa('Check STS Root');
    const ca = await createIntermediateCa(root, 'Check STS Issuing CA');
    await writeFile(join(dir, 'ca.pem'), root.certPem);
    port = await findSharedPort(Object.values(HOSTS));
    sts = await startStsServer({ host: '127.0.0.1' });
    resolver = await startLabResolver({ zones: [] });
    const records: LabRecord[] = [rec('test', 'NS', 'ns.test')];
    const chains: Record<Name, IssuedCert[]> = {
      enforce: [await issueLeaf(ca, { dnsNames: ['mx.enforce.test'] }), ca],
      testing: [await issueLeaf(ca, { dnsNames: ['impostor.testing.test'] }), ca],
      both: [await createSelfSigned({ dnsNames: ['mx.both.test'] })],
    };
    for (const name of Object.keys(HOSTS) as Name[]) {
      const d = `${name}.test`;
      servers.push(await startMxServer({ host: HOSTS[name], port, mode: 'starttls', chain: chains[name] }));
      records.push(rec(d, 'MX', { preference: 10, exchange: `mx.${d}` }), rec(`mx.${d}`, 'A', HOSTS[name]),
        rec(`_mta-sts.${d}`, 'TXT', 'v=STSv1; id=1'), rec(`mta-sts.${d}`, 'A', '127.0.0.1'));
      sts.setSite(d, { behaviour: 'serve', policy: policy(name === 'testing' ? 'testing' : 'enforce', d), chain: [await issueLeaf(ca, { dnsNames: [`mta-sts.${d}`] }), ca] });
    }
    records.push(rec(`_${port}._tcp.mx.both.test`, 'TLSA', { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from(tlsaDataFor(chains.both[0]!.der, 1, 1)) }));
    resolver.setZones([{ origin: 'test', signed: true, records }]);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await sts?.close();
    await resolver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('RFC 8461 §4.2: enforce, PKIX and MX name: pass, Verified, tls=sts, policy and source shown', async () => {
    const { report, text } = await check('enforce.test');
    const d = report.domains[0]!;
    assert.equal(d.verdict, 'pass');
    assert.match(d.sts ?? '', /MTA-STS enforce\.test: id 1 \(fetched\), mode enforce, mx \[\*\.enforce\.test\]/);
    assert.match(d.hosts[0]?.source ?? '', /policy_type=sts source=sts -> connect tls=sts/);
    assert.equal(d.hosts[0]?.connections[0]?.state, 'Verified');
    assert.equal(d.hosts[0]?.connections[0]?.feature, 'sts');
    assert.match(text, /MTA-STS enforce\.test: id 1/);
  });

  test('RFC 8461 §5: testing with an impostor certificate: delivered as without a policy, enforce verdict reported', async () => {
    const d = (await check('testing.test')).report.domains[0]!;
    assert.equal(d.verdict, 'pass');
    assert.match(d.hosts[0]?.source ?? '', /policy_type=sts source=default .*MTA-STS testing: mx matches; reported only/);
    assert.match(d.hosts[0]?.connections[0]?.stsTesting ?? '', /MTA-STS testing: enforce would refuse this host/);
  });

  test('C28: DANE and STS enforce both published, self-signed certificate (fails PKIX) matching 3 1 1: pass, Verified by DANE', async () => {
    const d = (await check('both.test')).report.domains[0]!;
    assert.equal(d.verdict, 'pass');
    assert.match(d.hosts[0]?.source ?? '', /policy_type=tlsa source=dane -> connect tls=dane/);
    assert.equal(d.hosts[0]?.connections[0]?.state, 'Verified');
    assert.equal(d.sts, undefined, 'DANE governs alone: the MTA-STS record was not even needed');
  });
});
