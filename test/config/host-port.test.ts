/** HOST:PORT as the configuration and `tlsa generate --connect` write it (src/config/host-port.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostPort } from '../../src/config/host-port.ts';

const cases: [string, { host: string; port: number } | undefined][] = [
  ['127.0.0.1:2525', { host: '127.0.0.1', port: 2525 }],
  ['[::1]:25', { host: '::1', port: 25 }],
  ['localhost:25', { host: 'localhost', port: 25 }],
  ['mx.example.net:65535', { host: 'mx.example.net', port: 65535 }],
  ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ['127.0.0.1:65536', undefined],
  ['127.0.0.1:025250', undefined],
  ['127.0.0.1', undefined],
  [':25', undefined],
  ['[::1]', undefined],
  ['::1:25', undefined],
  ['[::1:25', undefined],
  ['a b:25', undefined],
  ['127.0.0.1:-1', undefined],
  ['', undefined],
];

for (const [text, want] of cases) {
  test(`parseHostPort(${JSON.stringify(text)})`, () => assert.deepEqual(parseHostPort(text), want));
}
