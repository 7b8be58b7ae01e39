/**
 * The SMTP AUTH user file: password hashes only, never plaintext.
 *
 * Format, one user per line (`#` starts a comment, blank lines ignored):
 *
 *     username:$scrypt$N=16384,r=8,p=1$<salt, base64>$<hash, base64>
 *
 * The hash is node:crypto `scrypt(password, salt, keylen, {N, r, p})` with
 * keylen the decoded hash length (16..128 bytes; `hashPassword` writes 32)
 * and a salt of at least 16 bytes. Create a line with
 * `node bin/run-ts.js src/config/users-file.ts USERNAME` (reads the password from
 * stdin) or `hashPassword()`.
 *
 * Failure modes: a malformed file is a configuration error (`UsersFileError`
 * naming the line), raised at load so nothing half-starts. Verification of
 * an unknown user still runs one scrypt so timing does not reveal which
 * users exist; comparison is constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface UserHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export type UserTable = ReadonlyMap<string, UserHash>;

export class UsersFileError extends Error {
  readonly code = 'USERS_FILE';
}

const LINE = /^([^:\s]+):\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** Parses the user file's text; throws UsersFileError naming the bad line. */
export function parseUsers(text: string): UserTable {
  const users = new Map<string, UserHash>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new UsersFileError(`line ${i + 1}: expected user:$scrypt$N=..,r=..,p=..$salt$hash`);
    const entry: UserHash = { N: Number(m[2]), r: Number(m[3]), p: Number(m[4]), salt: Buffer.from(m[5] ?? '', 'base64'), hash: Buffer.from(m[6] ?? '', 'base64') };
    const powerOfTwo = entry.N > 1 && (entry.N & (entry.N - 1)) === 0;
    if (!powerOfTwo || entry.r < 1 || entry.p < 1 || entry.salt.length < 16 || entry.hash.length < 16 || entry.hash.length > 128) {
      throw new UsersFileError(`line ${i + 1}: bad scrypt parameters (N a power of two, salt >= 16 bytes, hash 16..128 bytes)`);
    }
    users.set(m[1] ?? '', entry);
  });
  return users;
}

export function readUsersFile(file: string): UserTable {
  return parseUsers(readFileSync(file, 'utf8'));
}

function scryptAsync(password: string, h: Pick<UserHash, 'N' | 'r' | 'p' | 'salt'>, keylen: number): Promise<Buffer> {
  const maxmem = 256 * h.N * h.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, h.salt, keylen, { N: h.N, r: h.r, p: h.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A user-file line for `username` with a fresh 16-byte salt. */
export async function hashPassword(username: string, password: string, params = { N: 16384, r: 8, p: 1 }): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, { ...params, salt }, 32);
  return `${username}:$scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const DUMMY: UserHash = { N: 16384, r: 8, p: 1, salt: Buffer.alloc(16), hash: Buffer.alloc(32) };

/** True when `password` matches the stored hash of `username`. */
export async function verifyPassword(users: UserTable, username: string, password: string): Promise<boolean> {
  const entry = users.get(username);
  const h = entry ?? DUMMY;
  const key = await scryptAsync(password, h, h.hash.length);
  return entry !== undefined && timingSafeEqual(key, h.hash);
}

async function main(): Promise<void> {
  const username = process.argv[2];
  if (!username) {
    process.stderr.write('usage: node bin/run-ts.js src/config/users-file.ts USERNAME < password\n');
    process.exitCode = 2;
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  process.stdout.write((await hashPassword(username, password)) + '\n');
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await main();
