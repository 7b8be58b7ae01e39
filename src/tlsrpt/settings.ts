/**
 * TLSRPT settings from the relay's configuration (the `tlsrpt:` section).
 *
 * Contract (`tlsrptSettingsFromConfig(config)`):
 * - `organizationName` defaults to `myhostname`, `contactInfo` to
 *   `postmaster@myhostname`;
 * - DKIM: `dkim.domain`, `dkim.selector` and `dkim.private_key_file` are all
 *   set (the key file is read and must hold a private key) or all null;
 *   anything in between, or an unreadable/unusable key, throws with the key
 *   name (bad configuration stops start-up with one clear message).
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RelayConfig } from '../config/schema.ts';
import type { ReportIdentity } from './daily.ts';
import type { DkimKey } from './mail.ts';

export interface TlsrptSettings {
  record: boolean;
  identity: ReportIdentity;
  dkim: DkimKey | null;
}

async function dkimOf(c: RelayConfig['tlsrpt']['dkim']): Promise<DkimKey | null> {
  const set = [c.domain, c.selector, c.private_key_file].filter((v) => v !== null).length;
  if (set === 0) return null;
  if (set !== 3) throw new Error('config error: tlsrpt.dkim: domain, selector and private_key_file must be set together');
  let privateKey: string;
  try {
    privateKey = await readFile(c.private_key_file as string, 'utf8');
    createPrivateKey(privateKey);
  } catch (err) {
    throw new Error(`config error: tlsrpt.dkim.private_key_file: ${(err as Error).message}`);
  }
  return { domainName: c.domain as string, keySelector: c.selector as string, privateKey };
}

export async function tlsrptSettingsFromConfig(config: RelayConfig): Promise<TlsrptSettings> {
  return {
    record: config.tlsrpt.record,
    identity: {
      organizationName: config.tlsrpt.organization_name ?? config.myhostname,
      contactInfo: config.tlsrpt.contact_info ?? `postmaster@${config.myhostname}`,
    },
    dkim: await dkimOf(config.tlsrpt.dkim),
  };
}
