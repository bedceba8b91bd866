/**
 * `[redact]` end to end: the user's patterns and allow-list in config.toml reach the daemon's
 * redaction of a real recorded session (what `omnish context` shows is what an LLM would get), and
 * `omnish config set` changes them in the running omnishd. Typed command-line passwords are
 * redacted in the recorded command lines as well as in the output.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { omnishAsync, sessions } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { runIn, waitUntil } from './helpers/term.js';

const dir = useTestDir();

// The house format of an imaginary company: nothing built in knows it.
const ACME = ['ACME', '-', '7F3A9C21D4E8B605'].join('');
const LINES = [
  `echo "deploy key ${ACME} loaded"`,
  "echo 'password=changeme for the demo box'",
  ': mysql -u root -pMyS3cretMysql',
  'echo "ticket TCK-4821 opened"',
];

describe('[redact] in config.toml', () => {
  it("adds the user's patterns, keeps allowed text in clear, and changes at run time", async () => {
    writeFileSync(join(dir.path, 'config.toml'), [
      '[redact]', "patterns = ['ACME-[0-9A-F]{16}']", 'allow = ["changeme"]',
      // Nothing is asked in this test; failed commands must not start explanations.
      '[llm.auto_trigger]', 'on_nonzero_exit = false', 'on_stderr_patterns = false', '',
    ].join('\n'));
    const t = dir.omnish();
    for (const line of LINES) await runIn(t, line);
    await waitUntil(() => sessions(dir.path).length === 1, 'the session on disk');

    const shown = await omnishAsync(dir.path, ['context']);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).not.toContain(ACME);
    expect(shown.stdout).toContain('deploy key [REDACTED:custom] loaded');
    // Allowed: without the allow-list, password=changeme is an env-secret.
    expect(shown.stdout).toContain('password=changeme for the demo box');
    expect(shown.stdout).not.toContain('MyS3cretMysql');
    expect(shown.stdout).toContain('mysql -u root -p[REDACTED:password]');
    expect(shown.stdout).toContain('ticket TCK-4821 opened');

    // A new pattern and an emptied allow-list, in the running omnishd only.
    const set = await omnishAsync(dir.path, ['config', 'set', 'redact.patterns', "['ACME-[0-9A-F]{16}', 'TCK-\\d+']"]);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect((await omnishAsync(dir.path, ['config', 'set', 'redact.allow', '[]'])).status).toBe(0);
    const after = (await omnishAsync(dir.path, ['context'])).stdout;
    expect(after).toContain('ticket [REDACTED:custom] opened');
    expect(after).toContain('password=[REDACTED:env-secret] for the demo box');

    // A pattern that does not compile is refused, naming the key and the entry; nothing changes.
    const bad = await omnishAsync(dir.path, ['config', 'set', 'redact.patterns', "['(']"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/redact\.patterns entry 1 \("\("\) is not a valid regular expression/);
    expect((await omnishAsync(dir.path, ['context'])).stdout).toContain('ticket [REDACTED:custom] opened');
  });

  it('a bad pattern in the file is reported by `omnish config check` at its line', async () => {
    writeFileSync(join(dir.path, 'config.toml'), "[shell]\nstrip_marks = false\n[redact]\npatterns = ['ok', '[unclosed']\n");
    const r = await omnishAsync(dir.path, ['config', 'check']);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/config\.toml:4:1: redact\.patterns entry 2 \("\[unclosed"\) is not a valid regular expression/);
  });
});
