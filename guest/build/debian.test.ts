import { describe, expect, it } from 'vitest';
import { debSrcEntries } from './debian.js';

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
