import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, createIntermediateCa, issueLeaf, createSelfSigned, chainOf, daysFromNow } from '../../src/lab/certs.ts';

test('lab PKI: root -> intermediate -> leaf chain verifies with node X509Certificate', async () => {
  const root = await createRootCa('Lab Root');
  const inter = await createIntermediateCa(root, 'Lab Intermediate');
  const leaf = await issueLeaf(inter, { dnsNames: ['mx.example.com'] });
  assert.equal(root.x509.ca, true);
  assert.equal(inter.x509.ca, true);
  assert.equal(leaf.x509.ca, false);
  assert.ok(leaf.x509.checkIssued(inter.x509));
  assert.ok(leaf.x509.verify(inter.x509.publicKey));
  assert.ok(inter.x509.verify(root.x509.publicKey));
  assert.ok(!leaf.x509.verify(root.x509.publicKey));
  assert.equal(leaf.x509.checkHost('mx.example.com'), 'mx.example.com');
  assert.equal(leaf.x509.checkHost('other.example.com'), undefined);
  assert.deepEqual(chainOf(leaf).map((c) => c.name), ['mx.example.com', 'Lab Intermediate']);
  assert.deepEqual(chainOf(leaf, true).map((c) => c.name), ['mx.example.com', 'Lab Intermediate', 'Lab Root']);
});

test('lab PKI: expired self-signed and RSA keys', async () => {
  const old = await createSelfSigned({ dnsNames: ['mx.example.com'], notBefore: daysFromNow(-30), notAfter: daysFromNow(-1), keyType: 'rsa' });
  assert.ok(new Date(old.x509.validTo) < new Date());
  assert.equal(old.x509.publicKey.asymmetricKeyType, 'rsa');
  assert.match(old.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const renewed = await createSelfSigned({ dnsNames: ['mx.example.com'], keys: old.keys, keyType: 'rsa' });
  assert.deepEqual(
    renewed.x509.publicKey.export({ type: 'spki', format: 'der' }),
    old.x509.publicKey.export({ type: 'spki', format: 'der' }),
  );
});
