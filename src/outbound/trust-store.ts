/**
 * Trust material for the outbound TLS client.
 *
 * Contract:
 * - `parsePemBundle` turns a PEM bundle into X509Certificate objects (the
 *   PKIX trust anchors handed to core verifyPeer, parsed once at start-up);
 *   a bundle without certificates, or one that does not parse, throws
 *   (bad configuration).
 * - `defaultTrustAnchors` is Node's bundled root store (`tls.rootCertificates`).
 * - `NO_ISSUER_CA_PEM` is given to the TLS client as its only `ca`: a
 *   self-signed, non-CA (basicConstraints CA:FALSE) certificate whose private
 *   key was discarded when it was generated, so it can never issue anything.
 *   With it, Node's `getPeerCertificate(true)` walk cannot append a root of the
 *   local store to the chain the server sent: only certificates the server
 *   actually presented can match DANE-TA records (C23, C25). The server's
 *   chain is never validated by the TLS library (`rejectUnauthorized: false`);
 *   verify-peer decides after the handshake.
 * - `noIssuerClientContext` is the TLS client's context with that CA, built
 *   once per engine and shared by its connections: Node otherwise builds a
 *   new OpenSSL context for every connection from the `ca` option (issue 15:
 *   0.6 ms of CPU per outbound connection, as much as the rest of the relay's
 *   own code for a message). It holds no key, no session and nothing learned
 *   from a peer.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

export const NO_ISSUER_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIB2zCCAYCgAwIBAgIUNeBPNO6ClZDz8YTKO1lk33wCnSswCgYIKoZIzj0EAwIw
OzE5MDcGA1UEAwwwZGFuZS1yZWxheSBuby1pc3N1ZXIgcGxhY2Vob2xkZXIgKGtl
eSBkaXNjYXJkZWQpMCAXDTI2MTEyMjIyMDk0NFoYDzIxMjYxMDI5MjIwOTQ0WjA7
MTkwNwYDVQQDDDBkYW5lLXJlbGF5IG5vLWlzc3VlciBwbGFjZWhvbGRlciAoa2V5
IGRpc2NhcmRlZCkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATXpMAnxo7DG2bt
qX2jm0nRVK8+HWxuatXj3gFyeJHMnV6BAq9ddVaaUnWglyQAoNI7muEHGIBukuOA
kkYWU7t0o2AwXjAdBgNVHQ4EFgQU3qH4yG27OLYj0kjyThgStvypWdswHwYDVR0j
BBgwFoAU3qH4yG27OLYj0kjyThgStvypWdswDAYDVR0TAQH/BAIwADAOBgNVHQ8B
Af8EBAMCB4AwCgYIKoZIzj0EAwIDSQAwRgIhAMbe2VA6VGccLLDmcOIQb6lWQPCl
/5SNNfDr+D0UlsE9AiEA11P8r8OFt5Sc30t/Ox5WXSNFUjm7h3NUm9xT132IAl0=
-----END CERTIFICATE-----
`;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function parsePemBundle(pem: string, source = 'PEM bundle'): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${source}: no certificates found`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new Error(`${source}: certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

export function noIssuerClientContext(): SecureContext {
  return createSecureContext({ ca: [NO_ISSUER_CA_PEM] });
}

export function defaultTrustAnchors(): X509Certificate[] {
  return parsePemBundle(rootCertificates.join('\n'), 'tls.rootCertificates');
}
