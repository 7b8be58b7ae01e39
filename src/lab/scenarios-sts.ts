/**
 * Lab scenarios for MTA-STS (RFC 8461) and its precedence under DANE
 * (RFC 8461 §2, checklist C28), issue 18's list: enforce passes; enforce
 * with an MX outside the policy; enforce with an impostor certificate
 * (CA-signed, wrong name); an attacker blocking the policy fetch on first
 * contact (no policy: delivered) and once a policy is cached (still
 * enforced); an attacker stripping the TXT record while a policy is cached;
 * testing mode; DANE and MTA-STS both published, the certificate failing
 * MTA-STS but matching TLSA (delivered Verified by DANE); and the TLSRPT
 * reports of a reporting domain (tlsrpt-follow-up.ts).
 *
 * Every domain's zone is signed and has no TLSA (secure NODATA: the level
 * default is `dane:may`) unless the scenario says otherwise, so any
 * authentication seen comes from MTA-STS. The policy site is
 * `mta-sts.DOMAIN` on the lab HTTPS server with a certificate from the lab
 * "public" CA (which the relay's PKIX store trusts). "Impostor" MX
 * certificates are issued by that same CA for another name: PKIX-valid,
 * only the name check stops them.
 */
import { publicCaChain, selfSignedChain } from './scenario-context.ts';
import type { Expectation, Scenario, ScenarioBuild, ScenarioContext } from './scenario-types.ts';
import type { StsSiteBehaviour } from './sts-server.ts';
import { tlsrptFollowUp } from './tlsrpt-follow-up.ts';
import type { FollowUp } from './follow-up.ts';
import { str } from './event-collector.ts';

type MxCert = 'pkix' | 'impostor' | 'self-signed';

interface StsSetup {
  mode: 'enforce' | 'testing';
  /** Policy `mx` pattern; `*` = `*.DOMAIN` (matches mx1.DOMAIN: one label). */
  mx: string;
  mxCert: MxCert;
  /** `_mta-sts` TXT id; null: no TXT record (stripped). */
  txtId: string | null;
  /** How the policy site answers; null: no site. */
  site: StsSiteBehaviour | null;
  /** A policy cached from an earlier contact, under this id. */
  cachedId?: string;
  /** Publish `3 1 1` for the MX certificate (DANE). */
  tlsa?: boolean;
}

function policyText(s: StsSetup, domain: string): string {
  const mx = s.mx === '*' ? `*.${domain}` : s.mx;
  return `version: STSv1\r\nmode: ${s.mode}\r\nmx: ${mx}\r\nmax_age: 86400\r\n`;
}

async function mxChain(ctx: ScenarioContext, cert: MxCert) {
  if (cert === 'pkix') return publicCaChain(ctx.pki, [ctx.host('mx1')]);
  if (cert === 'impostor') return publicCaChain(ctx.pki, [`impostor.${ctx.domain}`]);
  return selfSignedChain([ctx.host('mx1')]);
}

async function stsBuild(ctx: ScenarioContext, s: StsSetup): Promise<ScenarioBuild> {
  const chain = await mxChain(ctx, s.mxCert);
  const mx1 = ctx.host('mx1');
  const policyHost = `mta-sts.${ctx.domain}`;
  const records = [
    ctx.mx(10, mx1), ctx.a(mx1, 'mx1'), { name: policyHost, type: 'A' as const, data: ctx.sts.host },
    ...(s.txtId !== null ? [ctx.txt(`_mta-sts.${ctx.domain}`, `v=STSv1; id=${s.txtId}`)] : []),
    ...(s.tlsa ? [ctx.tlsa(mx1, 3, 1, 1, chain[0]!)] : []),
  ];
  const policy = policyText(s, ctx.domain);
  return {
    chains: { mx1: chain },
    zones: [{ origin: ctx.domain, signed: true, records }],
    ...(s.site ? { stsSites: { [ctx.domain]: { behaviour: s.site, policy, chain: await publicCaChain(ctx.pki, [policyHost]) } } } : {}),
    ...(s.cachedId ? { stsCache: [{ domain: ctx.domain, id: s.cachedId, policy }] } : {}),
  };
}

/**
 * What the attacker did must really have happened, or the row proves
 * nothing: `blocked` — the relay tried the fetch, the lab server dropped it,
 * and the relay logged the failure (with the cached policy kept, or not);
 * `no-fetch` — no request reached the policy site at all (TXT stripped).
 */
function fetchWitness(want: { kind: 'blocked'; cacheKept: boolean } | { kind: 'no-fetch' }): FollowUp {
  return async (ctx) => {
    const requests = ctx.sts.requests.filter((r) => r.domain === ctx.domain);
    const failed = ctx.relay.events.events.find((e) => e.event === 'sts-policy-fetch-failed' && str(e, 'domain') === ctx.domain);
    const problems: string[] = [];
    if (want.kind === 'no-fetch') {
      if (requests.length > 0) problems.push(`the relay fetched a policy ${requests.length} time(s) although the TXT record was stripped`);
      return { problems, observed: problems.length === 0 ? 'no fetch (TXT stripped), cached policy used' : 'fetch seen' };
    }
    if (!requests.some((r) => r.behaviour === 'reset')) problems.push('no blocked policy fetch reached the lab server');
    if (!failed) problems.push('the relay logged no sts-policy-fetch-failed event');
    else if ((failed['cacheKept'] === true) !== want.cacheKept) problems.push(`cacheKept ${String(failed['cacheKept'])}, expected ${want.cacheKept}`);
    return { problems, observed: problems.length === 0 ? `fetch blocked, ${want.cacheKept ? 'cached policy kept' : 'no policy'}` : 'fetch witness missing' };
  };
}

function stsCase(name: string, rule: string, description: string, setup: StsSetup, expect: Expectation, followUp?: FollowUp): Scenario {
  return { name, rule, description, expect, servers: [{ label: 'mx1', mode: 'starttls' }], build: (ctx) => stsBuild(ctx, setup), ...(followUp ? { followUp } : {}) };
}

const REFUSED = { status: 'deferred' as const, dsn: '4.7.5', policyType: 'sts' as const };

export const stsScenarios: Scenario[] = [
  stsCase('sts-enforce', 'RFC8461-4.2',
    'MTA-STS enforce, MX matches *.DOMAIN (one label), PKIX certificate for the MX name: sent Verified, tls=sts, SNI = MX host',
    { mode: 'enforce', mx: '*', mxCert: 'pkix', txtId: '20261201', site: 'serve' },
    { status: 'sent', dsn: '2', tlsState: 'Verified', sni: 'mx1', policyType: 'sts', feature: 'sts' }),
  stsCase('sts-enforce-mx-mismatch', 'RFC8461-4.1',
    'MTA-STS enforce and the MX host matches no policy mx pattern: host not used, deferred 4.7.5, nothing sent',
    { mode: 'enforce', mx: 'mx.elsewhere.lab.test', mxCert: 'pkix', txtId: '20261201', site: 'serve' }, REFUSED),
  stsCase('sts-enforce-impostor', 'RFC8461-4.2',
    'MTA-STS enforce, the MX presents a CA-signed certificate for another name: name check fails, deferred 4.7.5, MAIL FROM never sent',
    { mode: 'enforce', mx: '*', mxCert: 'impostor', txtId: '20261201', site: 'serve' }, REFUSED),
  stsCase('sts-fetch-blocked-first-contact', 'RFC8461-3.3',
    'Attacker blocks the policy fetch at first contact (nothing cached): no policy, delivered as without MTA-STS (reported sts-policy-fetch-error)',
    { mode: 'enforce', mx: '*', mxCert: 'impostor', txtId: '20261201', site: 'reset' },
    { status: 'sent', dsn: '2', policyType: 'no-policy-found', feature: 'dane:may' }, fetchWitness({ kind: 'blocked', cacheKept: false })),
  stsCase('sts-fetch-blocked-cached', 'RFC8461-5.1',
    'Attacker blocks the fetch of a new policy id while a policy is cached: the cached enforce policy still applies, impostor refused, deferred 4.7.5',
    { mode: 'enforce', mx: '*', mxCert: 'impostor', txtId: '20261202', site: 'reset', cachedId: '20261201' }, REFUSED,
    fetchWitness({ kind: 'blocked', cacheKept: true })),
  stsCase('sts-txt-stripped-cached', 'RFC8461-3.3',
    'Attacker strips the _mta-sts TXT record while a policy is cached: the cached enforce policy still applies, impostor refused, deferred 4.7.5',
    { mode: 'enforce', mx: '*', mxCert: 'impostor', txtId: null, site: null, cachedId: '20261201' }, REFUSED,
    fetchWitness({ kind: 'no-fetch' })),
  stsCase('sts-testing', 'RFC8461-5',
    'MTA-STS testing mode, impostor certificate: delivered as without a policy (dane:may), the failure only reported',
    { mode: 'testing', mx: '*', mxCert: 'impostor', txtId: '20261201', site: 'serve' },
    { status: 'sent', dsn: '2', policyType: 'sts', feature: 'dane:may' }),
  stsCase('dane-over-sts', 'C28',
    'DANE and MTA-STS enforce both published; the self-signed certificate fails MTA-STS (no PKIX) but matches 3 1 1: delivered Verified by DANE',
    { mode: 'enforce', mx: '*', mxCert: 'self-signed', txtId: '20261201', site: 'serve', tlsa: true },
    { status: 'sent', dsn: '2', tlsState: 'Verified', sni: 'mx1', policyType: 'tlsa', feature: 'dane' }),
  {
    name: 'tlsrpt-reports', rule: 'RFC8460-4.4',
    description: 'Reporting domain (rua https collector + mailto sink): delivered Verified; its daily report POSTed and mailed (DKIM, from <>), both valid RFC 8460 JSON',
    servers: [{ label: 'mx1', mode: 'starttls' }],
    expect: { status: 'sent', dsn: '2', tlsState: 'Verified', policyType: 'tlsa' },
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      const mx1 = ctx.host('mx1');
      const collector = `reports.${ctx.domain}`;
      const rua = `rua=mailto:tlsrpt@${ctx.domain},https://${collector}:${ctx.sts.port}/tlsrpt`;
      return {
        chains: { mx1: chain },
        zones: [{ origin: ctx.domain, signed: true, records: [
          ctx.mx(10, mx1), ctx.a(mx1, 'mx1'), ctx.tlsa(mx1, 3, 1, 1, chain[0]!),
          { name: collector, type: 'A', data: ctx.sts.host }, ctx.txt(`_smtp._tls.${ctx.domain}`, `v=TLSRPTv1; ${rua}`),
        ] }],
        collectors: { [collector]: await publicCaChain(ctx.pki, [collector]) },
      };
    },
    followUp: tlsrptFollowUp,
  },
];
