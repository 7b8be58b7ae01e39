import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isOwnListener, loopsBackMessage, type SelfAddresses } from '../../src/core/self-loop.ts';

const LOCAL = ['192.0.2.10', '2001:db8::10', '127.0.0.1', '::1'];

describe('RFC 5321 §5.1 / Postfix smtp_addr: a next hop that is one of our own listeners', () => {
  const cases: Array<{ name: string; listeners: SelfAddresses['listeners']; ip: string; port: number; own: boolean }> = [
    { name: 'exact address and port', listeners: [{ host: '127.0.0.1', port: 2525 }], ip: '127.0.0.1', port: 2525, own: true },
    { name: 'same address, other port: not us', listeners: [{ host: '127.0.0.1', port: 2525 }], ip: '127.0.0.1', port: 25, own: false },
    { name: 'other loopback address, specific listener: not us', listeners: [{ host: '127.0.0.1', port: 25 }], ip: '127.0.0.2', port: 25, own: false },
    { name: '0.0.0.0 takes any local IPv4 address', listeners: [{ host: '0.0.0.0', port: 25 }], ip: '192.0.2.10', port: 25, own: true },
    { name: '0.0.0.0 takes every 127/8 address', listeners: [{ host: '0.0.0.0', port: 25 }], ip: '127.0.0.7', port: 25, own: true },
    { name: '0.0.0.0 does not take IPv6', listeners: [{ host: '0.0.0.0', port: 25 }], ip: '2001:db8::10', port: 25, own: false },
    { name: ':: takes local IPv6 and IPv4 (dual stack)', listeners: [{ host: '::', port: 25 }], ip: '192.0.2.10', port: 25, own: true },
    { name: ':: takes local IPv6', listeners: [{ host: '::', port: 25 }], ip: '2001:DB8::10', port: 25, own: true },
    { name: 'wildcard: a remote address is not us', listeners: [{ host: '0.0.0.0', port: 25 }], ip: '198.51.100.1', port: 25, own: false },
    { name: 'IPv4-mapped IPv6 compares as IPv4', listeners: [{ host: '127.0.0.1', port: 25 }], ip: '::ffff:127.0.0.1', port: 25, own: true },
    { name: '[::1] listener spec', listeners: [{ host: '[::1]', port: 2525 }], ip: '::1', port: 2525, own: true },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.own ? 'loops back (5.4.6)' : 'deliverable'}`, () => {
      assert.equal(isOwnListener(c.ip, c.port, { listeners: c.listeners, localAddresses: LOCAL }), c.own);
    });
  }
  test('Postfix wording', () => assert.equal(loopsBackMessage('example.net'), 'mail for example.net loops back to myself'));
});
