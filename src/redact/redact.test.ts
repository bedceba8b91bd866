import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { redact, sumRedactions } from './redact.js';
import { isSecretName } from './redact-rules.js';

// Planted secrets are assembled at run time: written out whole, they would trip the secret
// scanners of the places this repository is pushed to. None of them is real.
const GITHUB = ['ghp', '_R7d2Kq9Xw4Lm8Vb3Nc6Tz1Yh5Pf0Ja2Ue7Si'].join('');
const GITHUB_PAT = ['github', '_pat_11ABCDEFG0', 'x'.repeat(12), '_', 'Yz'.repeat(20)].join('');
const AWS_ID = ['AKIA', 'Y3K7TQ2ZL5MW8RXN'].join('');
const AWS_SECRET = ['Zq8/hT3v', 'N1x+Rk5mW9bYc2Lp7Dg4Fs6Hj0Qa', 'Ev3K'].join('');
const OPENAI = ['sk-proj-', 'Xy7Qw2Er5Ty8Ui1Op4As6Df9Gh3Jk0Lz'].join('');
const JWT = ['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIiOiIxMjM0NTY3ODkwIn0', 'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'].join('.');
const SLACK = ['xoxb', '2210987654321', '1234567890123', 'AbCdEfGhIjKlMnOpQrStUvWx'].join('-');

function pem(type: 'pkcs1' | 'pkcs8'): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type, format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

/** The base64 body lines of a PEM block: none may survive. */
function bodyLines(block: string): string[] {
  return block.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
}

describe('redact', () => {
  test('planted secrets do not survive, and what surrounds them does', async () => {
    const key = pem('pkcs1');
    const text = [
      `$ echo $GH`, GITHUB, `token: ${GITHUB_PAT}`,
      `aws_access_key_id = ${AWS_ID}`, `aws_secret_access_key = ${AWS_SECRET}`,
      `$ psql postgres://app:s3cr3t@db:5432/x`,
      `$ cat id_rsa`, key,
      `$ export OPENAI_API_KEY=${OPENAI}`,
      `> Authorization: Bearer ${JWT}`,
      `{"user": "bob", "password": "hunter2"}`,
      `SLACK=${SLACK}`,
    ].join('\n');
    const { text: out, redactions } = await redact(text);
    for (const secret of [GITHUB, GITHUB_PAT, AWS_ID, AWS_SECRET, 's3cr3t', OPENAI, JWT, 'hunter2', SLACK, ...bodyLines(key)]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('postgres://app:[REDACTED:url-password]@db:5432/x');
    expect(out).toContain('aws_secret_access_key = [REDACTED:aws-secret-key]');
    expect(out).toContain('aws_access_key_id = [REDACTED:aws-access-key]');
    expect(out).toContain('export OPENAI_API_KEY=[REDACTED:api-key]');
    expect(out).toContain('Authorization: Bearer [REDACTED:bearer-token]');
    expect(out).toContain('"password": "[REDACTED:env-secret]"');
    expect(out).toContain('$ cat id_rsa\n[REDACTED:private-key]\n');
    expect(out).toContain('"user": "bob"');
    expect(redactions).toEqual([
      { kind: 'api-key', count: 1 }, { kind: 'aws-access-key', count: 1 }, { kind: 'aws-secret-key', count: 1 },
      { kind: 'bearer-token', count: 1 }, { kind: 'env-secret', count: 1 }, { kind: 'github-token', count: 2 },
      { kind: 'private-key', count: 1 }, { kind: 'slack-token', count: 1 }, { kind: 'url-password', count: 1 },
    ]);
  });

  test('counts every occurrence; overlapping findings merge into one of the most specific kind', async () => {
    // GITHUB_TOKEN=ghp_… is found three times (env-secret, our github rule, secretlint's): one redaction.
    const { text, redactions } = await redact(`GITHUB_TOKEN=${GITHUB}\nagain: ${GITHUB}\nDB_PASSWORD=x1 DB_PASS='two words'`);
    expect(text).toBe("GITHUB_TOKEN=[REDACTED:github-token]\nagain: [REDACTED:github-token]\nDB_PASSWORD=[REDACTED:env-secret] DB_PASS='[REDACTED:env-secret]'");
    expect(redactions).toEqual([{ kind: 'env-secret', count: 2 }, { kind: 'github-token', count: 2 }]);
  });

  test('ANSI colours are removed first, so they cannot hide a secret', async () => {
    const coloured = `\x1b[1;34mGITHUB_TOKEN\x1b[0m=\x1b[32m${GITHUB}\x1b[0m\n\x1b[31mpassword\x1b[0m: "\x1b[33mhunter2\x1b[0m"`;
    const { text } = await redact(coloured);
    expect(text).toBe('GITHUB_TOKEN=[REDACTED:github-token]\npassword: "[REDACTED:env-secret]"');
  });

  test('key blocks: PKCS#8, JSON-escaped, and cut off before their END line', async () => {
    const key = pem('pkcs8');
    const json = JSON.stringify({ type: 'service_account', private_key: key });
    const cut = key.split('\n').slice(0, 6).join('\n'); // `head -6 key.pem`
    const { text } = await redact(`${json}\n---\n${cut}\n$ next command`);
    for (const line of bodyLines(key)) expect(text).not.toContain(line);
    expect(text).toContain('"type":"service_account"');
    expect(text).toMatch(/---\n\[REDACTED:private-key\]\n\$ next command$/);
  });

  test('the tail of a key block (its BEGIN not in the text) loses its base64 lines', async () => {
    // Several keys: the last base64 line's length varies with the key (it can be "Zg==").
    for (let i = 0; i < 8; i++) {
      const tail = pem(i % 2 ? 'pkcs8' : 'pkcs1').trimEnd().split('\n').slice(-4).join('\n'); // `tail -4 key.pem`
      const { text } = await redact(`$ tail -4 key.pem\n${tail}\n$ `);
      expect(text).toBe('$ tail -4 key.pem\n[REDACTED:private-key]\n$ ');
    }
    expect((await redact('ok\nZg==\n-----END PRIVATE KEY-----')).text).toBe('ok\n[REDACTED:private-key]');
  });

  test('more terminal shapes: curl -u, --password ARG, URLs with an empty user, cookies', async () => {
    const { text } = await redact([
      'curl -u bob:pa55word -H "Cookie: session=abc123" https://x',
      'mysql --password hunter3 -h db', 'redis-cli -u redis://:hunter22@cache:6379',
      'git clone https://oauth2:tok3nvalue@gitlab.example/x.git',
    ].join('\n'));
    for (const s of ['pa55word', 'abc123', 'hunter3', 'hunter22', 'tok3nvalue']) expect(text).not.toContain(s);
    expect(text).toContain('https://oauth2:[REDACTED:url-password]@gitlab.example/x.git');
  });

  test('ordinary terminal text is left alone', async () => {
    // Decision (docs/context.md): names whose last word says they hold metadata about a password
    // (PASSWORD_MIN_LENGTH, POSTGRES_PASSWORD_FILE) keep their value; so do references ($TOKEN),
    // PWD/OLDPWD, and a bare "token:" followed by a word, as in compiler errors.
    const ordinary = [
      '/usr/lib/x86_64-linux-gnu/libssl.so.3', 'commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f',
      'id 123e4567-e89b-12d3-a456-426614174000', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'PASSWORD_MIN_LENGTH=8', 'POSTGRES_PASSWORD_FILE=/run/secrets/pg', 'PWD=/home/me OLDPWD=/tmp',
      'export API_KEY=$API_KEY TOKEN=${TOKEN}', 'SyntaxError: Unexpected token: }', 'max_tokens=1024 PRIMARY_KEY=id',
      'https://registry.npmjs.org:443/@types/node', 'git@github.com:me/repo.git', 'https://example.com/a?page=2',
      'Enter password:', 'password: ********', 'Bearer authentication failed',
    ].join('\n');
    expect(await redact(ordinary)).toEqual({ text: ordinary, redactions: [] });
  });

  test("the user's patterns: the whole match, or only the group named secret", async () => {
    const patterns = ['ACME-[0-9A-F]{8}', '^pin (?<secret>\\d{4,})$'];
    const { text, redactions } = await redact('key ACME-0A1B2C3D here\npin 48213\nwe pin 48213 down\nACME-xyz', { patterns });
    expect(text).toBe('key [REDACTED:custom] here\npin [REDACTED:custom]\nwe pin 48213 down\nACME-xyz');
    expect(redactions).toEqual([{ kind: 'custom', count: 2 }]);
    // Patterns that can match nothing somewhere (a lookahead) do not loop.
    expect((await redact('a1 b2', { patterns: ['(?=b)', 'b2'] })).text).toBe('a1 [REDACTED:custom]');
  });

  test('the allow-list keeps a finding in clear when it lies inside an allowed string', async () => {
    const allow = ['hunter2', 'AWS_KEY_FOR_DOCS=' + AWS_ID];
    const text = [
      'DB_PASSWORD=hunter2', 'DB_PASSWORD=hunter3', `AWS_KEY_FOR_DOCS=${AWS_ID}`, `real ${AWS_ID}`,
      'postgres://app:hunter2@db:5432/x', 'postgres://app:hunter4@db:5432/x',
    ].join('\n');
    expect((await redact(text, { allow })).text).toBe([
      'DB_PASSWORD=hunter2', 'DB_PASSWORD=[REDACTED:env-secret]', `AWS_KEY_FOR_DOCS=${AWS_ID}`, 'real [REDACTED:aws-access-key]',
      // secretlint marks the whole URL; the allowed password keeps all of it readable.
      'postgres://app:hunter2@db:5432/x', 'postgres://app:[REDACTED:url-password]@db:5432/x',
    ].join('\n'));
    // It applies to the user's patterns too, and a short allowed string seen many times stays cheap.
    expect((await redact('ACME-00000000 ACME-11111111', { patterns: ['ACME-\\d{8}'], allow: ['ACME-00000000'] })).text).toBe('ACME-00000000 [REDACTED:custom]');
    const many = `${'a '.repeat(50_000)}DB_PASSWORD=x1`;
    const t0 = performance.now();
    expect((await redact(many, { allow: ['a'] })).text).toBe(`${'a '.repeat(50_000)}DB_PASSWORD=[REDACTED:env-secret]`);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test('a "secretlint-disable" comment in the text does not switch detection off', async () => {
    const { text } = await redact(`// secretlint-disable\nconst t = "${SLACK}";`);
    expect(text).not.toContain(SLACK);
  });

  test('is idempotent: redacting its own output finds nothing more', async () => {
    const once = await redact(`postgres://app:s3cr3t@db/x\nDB_PASSWORD=x1\nAuthorization: Bearer ${JWT}\nCookie: a=b1`);
    expect(await redact(once.text)).toEqual({ text: once.text, redactions: [] });
  });

  test("secretlint's profiler is off: marks do not pile up call after call", async () => {
    const marks = () => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('@core>')).length;
    await redact('warm up');
    const before = marks();
    for (let i = 0; i < 20; i++) await redact(`DB_PASSWORD=x${i}`);
    expect(marks()).toBe(before);
  });

  test('is fast enough for a whole context', async () => {
    const block = `$ make\ncc -O2 -c src/x.c -o build/x.o\nsrc/x.c:12:5: warning: unused variable 'n'\nDB_PASSWORD=hunter2 ${GITHUB}\n`;
    const text = block.repeat(Math.ceil(100_000 / block.length));
    await redact('warm up'); // loads secretlint once
    const t0 = performance.now();
    const { redactions } = await redact(text);
    const ms = performance.now() - t0;
    // Measured: ~40 ms for 100 KB holding ~1,200 secrets (Node 20, one core); the bound leaves room for slow CI.
    expect(ms).toBeLessThan(1000);
    expect(sumRedactions(redactions).reduce((n, r) => n + r.count, 0)).toBe(2 * Math.ceil(100_000 / block.length));
  });

  test.each([
    ['BEGINs without END', '-----BEGIN PRIVATE KEY-----\nMIIB\n'.repeat(4000)],
    ['a long base64 run before END', `${'QUJD'.repeat(30_000)}\n-----END PRIVATE KEY-----`],
    ['base64 lines before END', `${`${'QUJD'.repeat(16)}\n`.repeat(1500)}-----END PRIVATE KEY-----`],
    ['flags and assignments', '--x a=b c: d '.repeat(8000)],
    ['a URL without end', `https://${'a'.repeat(100_000)}`],
    ['a long dotted name', `${'a.'.repeat(50_000)}=x`],
    ['many Bearer', 'Bearer '.repeat(15_000)],
    ['command words', 'mysql docker login sshpass -p '.repeat(4000)],
    ['echoes into a pipe', 'echo echo echo '.repeat(8000) + '| sudo -S x'],
    ['unterminated quotes', `-p'${"a'".repeat(50_000)}`],
    ['netrc prose', 'machine a login b '.repeat(6000)],
    ['base64 of a key without end', `LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0${'A'.repeat(100_000)}`],
  ])('stays linear on pathological input: %s', async (_name, text) => {
    await redact('warm up');
    const t0 = performance.now();
    await redact(text);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('isSecretName', () => {
  test.each([
    ['OPENAI_API_KEY', true], ['GITHUB_TOKEN', true], ['client_secret', true], ['DB_PASSWORD', true], ['password', true],
    ['SMTP_PASS', true], ['PASSWD', true], ['apiKey', true], ['accessToken', true], ['x-api-key', true], ['DB_PWD', true],
    ['PASSWORD_MIN_LENGTH', false], ['POSTGRES_PASSWORD_FILE', false], ['PWD', false], ['OLDPWD', false], ['key', false],
    ['pass', false], ['PUBLIC_KEY', false], ['PRIMARY_KEY', false], ['max_tokens', false], ['TOKEN_COUNT', false], ['HOME', false],
  ])('%s → %s', (name, secret) => {
    expect(isSecretName(name)).toBe(secret);
  });
});
