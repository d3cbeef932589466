import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AptView, candidateUrls, debSrcEntries, fetchSources } from './debian.js';

describe('deb-src entries from the machine apt configuration', () => {
  it('turns this release\'s deb822 stanzas into deb-src and drops other vendors', () => {
    const debian = [
      'Types: deb',
      '# a comment',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://mirror.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n');
    const vendor = 'Types: deb\nURIs: https://vendor.example/node\nSuites: nodistro\nComponents: main\n';
    const out = debSrcEntries('bookworm', [
      { name: 'debian.sources', text: debian },
      { name: 'vendor.sources', text: vendor },
    ]);
    expect(out.match(/Types: deb-src/g)).toHaveLength(2);
    expect(out).toContain('Suites: bookworm bookworm-updates');
    expect(out).toContain('Suites: bookworm-security');
    expect(out).not.toContain('vendor.example');
    expect(out).not.toContain('# a comment');
    expect(out).not.toMatch(/Types: deb\n/);
  });

  it('handles one-line .list files, options included, and skips a look-alike suite', () => {
    const list = [
      'deb [arch=amd64] http://mirror.example/debian bookworm main',
      'deb https://cloud.example/apt cloud-sdk-bookworm main',
      '# deb http://mirror.example/debian bookworm contrib',
    ].join('\n');
    const out = debSrcEntries('bookworm', [{ name: 'sources.list', text: list }]);
    expect(out.trim()).toBe('deb-src [arch=amd64] http://mirror.example/debian bookworm main');
  });
});

describe('orig tarballs from whichever archive still serves them', () => {
  const file = 'zlib_1.2.13.dfsg.orig.tar.bz2';
  const body = Buffer.from('the orig tarball, byte for byte');
  const sha = createHash('sha256').update(body).digest('hex');
  let server: Server;
  let base = '';
  const hits: string[] = [];

  beforeAll(async () => {
    // The "security" archive knows the newest revision but answers 404 for the orig
    // tarball; the "main" archive's pool serves it.
    server = createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === `/debian/pool/main/z/zlib/${file}`) return res.end(body);
      if (req.url === `/corrupt/pool/main/z/zlib/${file}`) return res.end('something else');
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const apt = (roots: string[]): AptView => ({
    archiveRoots: roots,
    // What apt prints for the newest version: the security archive.
    printedUris: () => `'${base}/debian-security/pool/updates/main/z/zlib/zlib_1.2.13.dfsg-1+deb12u1.dsc' zlib_1.2.13.dfsg-1+deb12u1.dsc 2345 SHA256:00\n` +
      `'${base}/debian-security/pool/updates/main/z/zlib/${file}' ${file} 1234 SHA256:${sha}\n`,
    showsrc: () => 'Package: zlib\nVersion: 1.2.13.dfsg-1+deb12u1\nDirectory: pool/updates/main/z/zlib\n\nPackage: zlib\nVersion: 1.2.13.dfsg-1\nDirectory: pool/main/z/zlib\n',
  });

  it('lists apt\'s own URL first, then every archive root with every pool directory', () => {
    const urls = candidateUrls(file, 'zlib', {
      printedUris: apt([]).printedUris('zlib'),
      showsrc: apt([]).showsrc('zlib'),
      archiveRoots: ['http://a/debian-security', 'http://a/debian'],
    });
    expect(urls[0]).toBe(`${base}/debian-security/pool/updates/main/z/zlib/${file}`);
    expect(urls).toContain(`http://a/debian/pool/main/z/zlib/${file}`);
    expect(urls).toContain(`http://a/debian-security/pool/updates/main/z/zlib/${file}`);
    expect(new Set(urls).size).toBe(urls.length);
  });

  it('falls back from a 404 in one archive to the main pool of another, and checks the hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-src-'));
    hits.length = 0;
    const lines: string[] = [];
    const paths = await fetchSources(dir, join(dir, 'apt'), (l) => lines.push(l), {
      keys: ['zlib'],
      apt: apt([`${base}/corrupt`, `${base}/debian-security`, `${base}/debian`]),
      sha256: { zlib: sha },
    });
    expect(readFileSync(paths.zlib)).toEqual(body);
    expect(hits[0]).toBe(`/debian-security/pool/updates/main/z/zlib/${file}`);
    expect(hits).toContain(`/corrupt/pool/main/z/zlib/${file}`); // served, but the wrong bytes
    expect(hits.at(-1)).toBe(`/debian/pool/main/z/zlib/${file}`);
    expect(lines.join('\n')).toContain(`from ${base}/debian/pool/main/z/zlib/${file}`);
  });

  it('names every URL tried and its status when none serves the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-src-'));
    const err = await fetchSources(dir, join(dir, 'apt'), () => {}, {
      keys: ['zlib'],
      apt: apt([`${base}/corrupt`, `${base}/nowhere`]),
      sha256: { zlib: sha },
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`${base}/debian-security/pool/updates/main/z/zlib/${file}: HTTP 404`);
    expect(msg).toContain(`${base}/nowhere/pool/main/z/zlib/${file}: HTTP 404`);
    expect(msg).toMatch(new RegExp(`${base}/corrupt/pool/main/z/zlib/${file}: HTTP 200, but sha256 [0-9a-f]{64}`));
    expect(existsSync(join(dir, file))).toBe(false);
  });
});
