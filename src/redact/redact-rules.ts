/**
 * omnish's own secret-detection rules, for what terminals show and a source-code scanner does not
 * look for: `KEY=value` in `env` output and shell commands, credentials in URLs, `Authorization`
 * headers from `curl -v`, unterminated private keys cut off by a pager. They complement the
 * secretlint preset (redact.ts). Each finding marks only the secret part: the name, the URL's
 * scheme/user/host stay, because they are what makes the context useful.
 *
 * Pure and synchronous; every pattern is linear in the text (no nested quantifiers over the same
 * characters), so 100 KB take a few milliseconds.
 */

/** A secret found in a text: the characters [start, end) (UTF-16 code units) are secret. */
export interface Finding {
  start: number;
  end: number;
  /** Short name of what was found, shown as `[REDACTED:kind]`. */
  kind: string;
}

/**
 * Kinds from the most to the least specific. When findings overlap, the merged span is named after
 * the most specific one (an AWS secret in `AWS_SECRET_ACCESS_KEY=…` is `aws-secret-key`, not
 * `env-secret`). Kinds not listed (secretlint's) rank between `jwt` and `auth-header`.
 */
const PRECEDENCE = [
  'private-key', 'aws-secret-key', 'aws-access-key', 'github-token', 'gitlab-token', 'slack-token',
  'slack-webhook', 'npm-token', 'pypi-token', 'docker-token', 'vault-token', 'api-key', 'bearer-token', 'jwt', '*',
  'auth-header', 'url-password', 'basic-auth', 'password', 'cookie', 'env-secret', 'custom',
];

/** Rank of a kind for merging: lower wins. */
export function kindRank(kind: string): number {
  const i = PRECEDENCE.indexOf(kind);
  return i >= 0 ? i : PRECEDENCE.indexOf('*');
}

interface Rule {
  kind: string;
  /** Global; with the `d` flag and a `secret` group when only part of the match is secret. */
  re: RegExp;
  /** Extra test on the secret part. */
  check?: (secret: string) => boolean;
}

/** Has letters and digits, as generated tokens do and words do not. */
const lettersAndDigits = (s: string): boolean => /[0-9]/.test(s) && /[A-Za-z]/.test(s);

/** Looks like a generated secret rather than a word: letters and digits, or long. */
function looksRandom(v: string): boolean {
  return (v.length >= 6 && lettersAndDigits(v)) || v.length >= 16;
}

const RULES: Rule[] = [
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  // Personal, deploy, runner, pipeline-trigger, feed, service-account and CI-job tokens; runner registration tokens.
  { kind: 'gitlab-token', re: /\b(?:gl(?:pat|dt|rt|ptt|ft|soat|cbt)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,})/g },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b/g },
  // The secret key has no prefix: it is recognised by its name (env, ~/.aws/credentials, `aws sts` JSON) …
  { kind: 'aws-secret-key', re: /secret_?access_?key["']?\s{0,4}(?:[:=]|=>)\s{0,4}["']?(?<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi },
  // … or by standing right after an access key id (`aws configure list`, credentials CSV).
  { kind: 'aws-secret-key', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}["']?[\s,;:|=]{1,8}["']?(?<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dg },
  { kind: 'slack-token', re: /\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g },
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  // PyPI API tokens are macaroons whose base64 starts with the same bytes ("pypi.org" or "test.pypi.org").
  { kind: 'pypi-token', re: /\bpypi-AgE[A-Za-z0-9_-]{40,}/g },
  { kind: 'docker-token', re: /\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{20,}/g },
  // HashiCorp Vault service, batch and recovery tokens (`vault login hvs.…`, `VAULT_TOKEN`).
  { kind: 'vault-token', re: /\bhv[sbr]\.[A-Za-z0-9_-]{24,}/g },
  // OpenAI, Anthropic, DeepSeek and others (`sk-…`), Google (`AIza…` API keys, `GOCSPX-` OAuth client
  // secrets), Stripe secret and restricted keys, Hugging Face.
  {
    kind: 'api-key',
    re: /\bsk-[A-Za-z0-9_-]{20,}|\bAIza[0-9A-Za-z_-]{35}\b|\bGOCSPX-[A-Za-z0-9_-]{28}|\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}\b|\bhf_[A-Za-z0-9]{30,}\b/g,
  },
  // Azure SAS URLs: the signature is what grants access (`?sv=…&sig=…`).
  { kind: 'api-key', re: /[?&]sig=(?<secret>[A-Za-z0-9%+/=]{16,})/dg },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  // Prose ("Bearer authentication failed") has no digits and short words; tokens have one or the other.
  { kind: 'bearer-token', re: /\bBearer\s+(?<secret>[A-Za-z0-9._~+/-]{12,}=*)/dg, check: (s) => lettersAndDigits(s) || s.length >= 24 },
  {
    kind: 'auth-header',
    re: /\b(?:Proxy-)?Authorization["']?\s{0,4}[:=]\s{0,4}["']?(?:(?:Basic|Bearer|Token|Digest|Negotiate|Bot|AWS4-HMAC-SHA256)\s+)?(?<secret>[^\s"'][^\r\n"']*)/dgi,
  },
  // scheme://user:password@host — keep scheme, user and host. `/` is not allowed in the password
  // so that `https://host:443/@scope/pkg` (a port, then an `@` in the path) is not taken for one.
  { kind: 'url-password', re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@'"<>]*:(?<secret>[^\s@/'"<>]+)@[^\s@/]/dgi },
  // curl -u user:password, wget --user=… --password is covered by the assignment rule.
  { kind: 'basic-auth', re: /(?:^|\s)(?:-u|--user)[\s=]+["']?[^\s:"']+:(?<secret>[^\s"']+)/dg },
  { kind: 'cookie', re: /\b(?:Set-)?Cookie:[ \t]*(?<secret>[^\r\n]+)/dgi },
  // ~/.netrc: `machine HOST login USER password SECRET`, on one line or one key a line.
  // Only netrc's own keywords may stand between: prose ("machine learning … password managers") does not.
  {
    kind: 'password',
    re: /(?:\bmachine[ \t]+\S+|^[ \t]*default)(?:[ \t]+(?:login|account|port)[ \t]+\S+){0,3}[ \t]+password[ \t]+(?<secret>\S+)/dgm,
  },
  { kind: 'password', re: /^[ \t]*password[ \t]+(?<secret>\S+)[ \t]*$/dgm, check: looksRandom },
  // ~/.pgpass: `host:port:database:user:password`, a port (or *) in the second field.
  { kind: 'password', re: /^(?:[A-Za-z0-9._-]+|\*):(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:(?<secret>\S+)$/dgm },
  // ~/.docker/config.json `"auth": "base64(user:password)"`, .npmrc `_auth=base64(user:password)`.
  { kind: 'password', re: /(?:"auth"|(?<![\w.-])_auth)[ \t]*[:=][ \t]*"?(?<secret>[A-Za-z0-9+/]{8,}={0,2})/dg, check: looksRandom },
  // Base64 of a PEM private key: kubeconfig `client-key-data`, `tls.key` in `kubectl get secret -o yaml`.
  // The prefixes are "-----BEGIN PRIVATE KEY" (PKCS#8, RSA, EC, OPENSSH, ENCRYPTED, DSA) encoded.
  {
    kind: 'private-key',
    re: /\bLS0tLS1CRUdJTiB(?:QUklWQVRFIEtFWS0|SU0EgUFJJVkFURSBLRVkt|FQyBQUklWQVRFIEtFWS0|PUEVOU1NIIFBSSVZBVEUgS0VZLS0|FTkNSWVBURUQgUFJJVkFURSBLRVkt|EU0EgUFJJVkFURSBLRVkt)[A-Za-z0-9+/=]*/g,
  },
];

/** Last words of a name that mark its value as secret. */
const SECRET_WORDS = new Set(['token', 'secret', 'password', 'passwd', 'passphrase', 'apikey', 'credential', 'credentials']);
/** Last words that mark a secret only after a qualifier (`API_KEY`, `DB_PASS`; not `key`, `pass`, `PWD`). */
const QUALIFIED_WORDS = new Set(['key', 'pass', 'pwd']);
/** Qualifiers of `…_KEY` that name something that is not a secret. */
const NOT_SECRET_KEYS = new Set(['public', 'primary', 'foreign', 'sort', 'partition', 'cache', 'unique', 'hot', 'shortcut', 'map', 'hash', 'range', 'row', 'lookup', 'ssh']);
const PASSWORD_WORDS = new Set(['password', 'passwd', 'passphrase']);
/** PGPASSWORD, keyStorePassword's last word; not sudoers' NOPASSWD. */
const PASSWORD_SUFFIX = /^(?!no)[a-z]{2,}(?:password|passwd|passphrase)$/;
/** Last words after PASSWORD that make the value metadata: `PASSWORD_MIN_LENGTH=8`, `POSTGRES_PASSWORD_FILE=/run/…`. */
const METADATA_WORDS = new Set([
  'length', 'len', 'min', 'max', 'file', 'path', 'dir', 'policy', 'prompt', 'hint', 'enabled', 'required',
  'expiry', 'expires', 'age', 'days', 'reset', 'rules', 'regex', 'pattern', 'strength', 'complexity', 'count',
  'url', 'field', 'label', 'command', 'cmd', 'env', 'id', 'name', 'type', 'store', 'manager', 'auth', 'stdin',
]);

/** Words of an identifier: `DB_PASSWORD` → db, password; `apiKey` → api, key; `x-api-key` → x, api, key. */
function words(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[_.-]+/).filter((w) => w !== '');
}

/**
 * True if a variable, JSON key, header or flag called `name` holds a secret: its last word is
 * token/secret/password/…, or key/pass/pwd with a qualifier (`API_KEY`), or it contains PASSWORD and
 * does not end in a word that makes it metadata (`PASSWORD_MIN_LENGTH`).
 */
export function isSecretName(name: string): boolean {
  const w = words(name);
  const last = w[w.length - 1];
  if (last === undefined) return false;
  if (SECRET_WORDS.has(last)) return true;
  if (QUALIFIED_WORDS.has(last) && w.length > 1) return !(last === 'key' && NOT_SECRET_KEYS.has(w[w.length - 2] ?? ''));
  return w.some((x) => PASSWORD_WORDS.has(x) || PASSWORD_SUFFIX.test(x)) && !METADATA_WORDS.has(last);
}

/**
 * `NAME=value`, `export NAME=value`, `NAME: value`, `"name": "value"`, `--name=value`, `NAME := value`,
 * and Java system properties `-Dname=value`. Not a URL's user (`https://x-access-token:…@host`):
 * url-password marks only its password.
 */
const ASSIGNMENT = /(?<![\w.-]|\/\/)(?<dash>--|-D)?(?<q>["']?)(?<name>[A-Za-z_][\w.-]{0,80})\k<q>[ \t]*(?<op>:=|=>|=|:)[ \t]*(?<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',;&|)}\]]+)/dg;
/** `--password hunter2`: a secret-named flag followed by a separate argument. */
const FLAG_ARGUMENT = /(?<![\w-])--(?<name>[A-Za-z][\w-]{0,60})[ \t]+(?<value>"[^"\n]*"|'[^'\n]*'|[^\s"'-][^\s"']*)/dg;

/**
 * Whether `value` (quotes removed) is worth redacting. References and placeholders are not values:
 * `$TOKEN`, `${TOKEN}`, `$(pass show x)`, `***`, `<token>`, `[password]`, `[REDACTED:…]`, `null`. With weak
 * evidence (a bare single word before `:`, as in "unexpected token: }") it must also look random.
 */
export function plausibleValue(value: string, strong: boolean): boolean {
  if (value === '' || value.startsWith('[REDACTED') || value.startsWith('$(') || value.startsWith('`')) return false;
  if (/^\$\{?[A-Z_][A-Z0-9_]*\}?$/.test(value) || /^\$\{[^}]*\}$/.test(value)) return false;
  if (/^\*+$/.test(value) || /^<[^>]*>$/.test(value) || /^\[[^\]]*\]$/.test(value) || /^(?:true|false|null|none|nil|undefined)$/i.test(value)) return false;
  return strong || looksRandom(value);
}

/** Range of the value without its quotes: `raw` starts at `start` in the text. */
export function unquoted(start: number, raw: string): { start: number; end: number; value: string } {
  const q = raw[0];
  const quoted = raw.length >= 2 && (q === '"' || q === "'") && raw[raw.length - 1] === q;
  return quoted ? { start: start + 1, end: start + raw.length - 1, value: raw.slice(1, -1) } : { start, end: start + raw.length, value: raw };
}

/**
 * Whether the word after `--password` reads as prose, not a value: a short lowercase word (docker
 * prints "WARNING! Using --password via the CLI is insecure" after every such login) or no letter
 * or digit at all (`--with-token < file`). Quoted values are always values.
 * The price: an unquoted all-lowercase password under 16 letters after a long flag is not caught.
 */
function proseAfterFlag(raw: string): boolean {
  return /^[a-z]{1,15}[.,:;!?]?$/.test(raw) || !/[A-Za-z0-9]/.test(raw);
}

function assignments(text: string, out: Finding[]): void {
  ASSIGNMENT.lastIndex = 0;
  for (let m = ASSIGNMENT.exec(text); m; m = ASSIGNMENT.exec(text)) {
    const g = m.groups ?? {};
    const at = m.indices?.groups?.value;
    if (!at || !isSecretName(g.name ?? '')) {
      // Resume right after the operator: the value may hold an assignment itself (`url=…?token=…`).
      if (at) ASSIGNMENT.lastIndex = at[0];
      continue;
    }
    // A bare single word before ':' is weak evidence ("unexpected token: }"); names with a
    // qualifier, quoted keys, flags and '=' are strong.
    const strong = g.op !== ':' || g.q !== '' || g.dash !== undefined || words(g.name ?? '').length > 1;
    const v = unquoted(at[0], g.value ?? '');
    if (plausibleValue(v.value, strong)) out.push({ start: v.start, end: v.end, kind: 'env-secret' });
  }
  FLAG_ARGUMENT.lastIndex = 0;
  for (let m = FLAG_ARGUMENT.exec(text); m; m = FLAG_ARGUMENT.exec(text)) {
    const at = m.indices?.groups?.value;
    const raw = m.groups?.value ?? '';
    if (!at || !isSecretName(m.groups?.name ?? '') || proseAfterFlag(raw)) continue;
    const v = unquoted(at[0], raw);
    if (plausibleValue(v.value, true)) out.push({ start: v.start, end: v.end, kind: 'env-secret' });
  }
}

const KEY_BEGIN = /-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----/g;
const KEY_END = /-----END[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----/g;
/** Longest block taken for one key, characters: a stray BEGIN must not reach an unrelated END far away. */
const MAX_KEY_BLOCK = 64 * 1024;
/**
 * What follows a BEGIN whose END is missing (cut off by `head`, a pager, a clipped output): lines
 * of base64 and PEM headers, after real or `\n`-escaped newlines. Sticky: applied at one position.
 */
const KEY_BODY = /(?:(?:\r?\n|\\n)(?:[A-Za-z0-9+/=]{1,200}|[A-Za-z-]{1,30}: [^\n\\]{0,200})?)*/y;

/**
 * Private key blocks: BEGIN … END as a whole; a BEGIN without END with the key lines after it; an
 * END without BEGIN (the context read only the tail of a long output) with the base64 lines
 * above it. BEGINs and ENDs are paired in code, not by one regex, because a lazy `BEGIN[\s\S]*?END`
 * rescans the rest of the text for every BEGIN that has no END (quadratic).
 */
function privateKeys(text: string, out: Finding[]): void {
  const begins = [...text.matchAll(KEY_BEGIN)];
  const ends = [...text.matchAll(KEY_END)];
  const blocks: Finding[] = [];
  let j = 0;
  let coveredTo = 0;
  for (const b of begins) {
    if (b.index < coveredTo) continue; // a BEGIN inside the previous block
    const afterBegin = b.index + b[0].length;
    while ((ends[j]?.index ?? Infinity) < afterBegin) j++;
    const e = ends[j];
    let end: number;
    if (e && e.index - b.index <= MAX_KEY_BLOCK) {
      end = e.index + e[0].length;
      j++;
    } else {
      KEY_BODY.lastIndex = afterBegin;
      end = afterBegin + (KEY_BODY.exec(text)?.[0].trimEnd().length ?? 0);
    }
    blocks.push({ start: b.index, end, kind: 'private-key' });
    coveredTo = end;
  }
  for (const e of ends) {
    if (blocks.some((f) => f.start <= e.index && e.index < f.end)) continue;
    // Walk back line by line over the base64 above the END. The last line of a key is as short
    // as the key makes it ("Zg=="); the ones above are full (64 characters in PEM).
    let start = e.index;
    while (start > 0 && text[start - 1] === '\n') {
      const lineStart = text.lastIndexOf('\n', start - 2) + 1;
      const line = text.slice(lineStart, start - 1).replace(/\r$/, '');
      if (!/^[A-Za-z0-9+/=]+$/.test(line) || (line.length < 16 && start !== e.index)) break;
      start = lineStart;
    }
    if (start < e.index) out.push({ start, end: e.index + e[0].length, kind: 'private-key' });
  }
  out.push(...blocks);
}

/** All findings of omnish's own rules in `text`, unsorted and possibly overlapping. */
export function findOwnSecrets(text: string): Finding[] {
  const out: Finding[] = [];
  for (const { kind, re, check } of RULES) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const span = m.indices?.groups?.secret ?? [m.index, m.index + m[0].length];
      const secret = text.slice(span[0], span[1]);
      if (secret.length > 0 && !secret.startsWith('[REDACTED') && (!check || check(secret))) {
        out.push({ start: span[0], end: span[1], kind });
      }
    }
  }
  privateKeys(text, out);
  assignments(text, out);
  return out;
}
