/**
 * Passwords typed on a command line, where only the command says which flag takes one: `-p` is
 * mysql's password but ssh's port, psql's port, cp's "preserve" and gcc's `-pedantic`. No pattern
 * over the text can tell them apart, so command lines are split into words (quotes respected)
 * and each word is read with the rules of the command it belongs to (COMMANDS). A command word
 * anywhere in a line starts its arguments, so `docker exec db mysql -pX` and `sudo mysql -pX`
 * are read as mysql's; they end at the next command word, `|`, `;`, `&` or the end of the line.
 *
 * Also `echo SECRET | sudo -S …`, `… | chpasswd`, `… | docker login --password-stdin`: what is
 * echoed into a program that reads a password from its standard input.
 *
 * Linear in the text: each word is read once by one command's rules (and once more as the echo
 * before a pipe).
 */
import { plausibleValue, unquoted, type Finding } from './redact-rules.js';

/** A word of a command line: its text (quotes included) and where it starts in the text. */
interface Word {
  text: string;
  start: number;
}

/** Reads the arguments of one command and pushes the spans of the passwords in them. */
type Reader = (args: readonly Word[], out: Finding[]) => void;

/**
 * A shell word: unquoted characters and quoted strings, glued (`-p'a b'` is one word); or a
 * separator that ends a command. Each alternative consumes at least one character and none
 * repeats another's characters, so the scan is linear.
 */
const WORD = /(?<word>(?:[^\s'"|;&<>()]|'[^'\n]*'|"(?:[^"\\\n]|\\.)*")+)|(?<sep>[|;&()])/g;

/** Pushes the part of `word` from `offset` on, quotes removed, when it is a value and not a reference. */
function secretFrom(word: Word, offset: number, out: Finding[]): void {
  const v = unquoted(word.start + offset, word.text.slice(offset));
  if (plausibleValue(v.value, true)) out.push({ start: v.start, end: v.end, kind: 'password' });
}

interface FlagRules {
  /** Flags whose value is glued to them: `-pSECRET`, `-p'SECRET'`. */
  glued?: readonly string[];
  /** Flags whose value is the next word: `-p SECRET`. */
  separate?: readonly string[];
  /** The flags count only after this subcommand (`docker login`, `az login`). */
  after?: string;
  /**
   * The options end at the first argument that is neither a flag nor a flag's value: what follows
   * is a command of its own (`sshpass -p X ssh -p 2222 host`: the second -p is ssh's port).
   */
  wrapper?: boolean;
}

/** A Reader for the common case: password flags, glued or separate. */
function flags({ glued = [], separate = [], after, wrapper = false }: FlagRules): Reader {
  return (args, out) => {
    let active = after === undefined;
    for (let i = 0; i < args.length; i++) {
      const w = args[i] as Word;
      if (!active) {
        active = w.text === after;
        continue;
      }
      if (separate.includes(w.text)) {
        const next = args[i + 1];
        // `mongosh -u admin -p --authenticationDatabase admin` prompts: the next word is a flag.
        if (next && !next.text.startsWith('-')) secretFrom(next, 0, out);
        i++;
        continue;
      }
      if (wrapper && !w.text.startsWith('-')) return;
      const flag = glued.find((f) => w.text.startsWith(f) && w.text.length > f.length);
      if (flag) secretFrom(w, flag.length, out);
    }
  };
}

/** A Reader for words that carry the password after a marker: `pass:SECRET`, `/p:SECRET`. */
function prefixed(prefix: string): Reader {
  return (args, out) => {
    for (const w of args) if (w.text.startsWith(prefix) && w.text.length > prefix.length) secretFrom(w, prefix.length, out);
  };
}

/** A Reader for `USER<sep>PASSWORD` after a user flag: smbclient `-U bob%pw`, lftp `-u bob,pw`. */
function userAndPassword(userFlags: readonly string[], sep: string): Reader {
  return (args, out) => {
    for (let i = 0; i < args.length; i++) {
      const w = args[i] as Word;
      let value: Word | undefined;
      if (userFlags.includes(w.text)) value = args[++i];
      else {
        const flag = userFlags.find((f) => w.text.startsWith(f.startsWith('--') ? `${f}=` : f) && w.text.length > f.length + 1);
        if (flag) value = { text: w.text, start: w.start };
      }
      const at = value ? value.text.indexOf(sep) : -1;
      if (value && at >= 0) secretFrom(value, at + 1, out);
    }
  };
}

/**
 * htpasswd's batch mode takes the password as an argument: `htpasswd -b[c…] FILE USER PASSWORD`,
 * `htpasswd -nb[…] USER PASSWORD` (no file with -n). Without -b it prompts.
 */
const htpasswd: Reader = (args, out) => {
  const options = args.filter((w) => /^-[a-zA-Z]+$/.test(w.text)).map((w) => w.text).join('');
  if (!options.includes('b')) return;
  const positional = args.filter((w) => !w.text.startsWith('-'));
  const password = positional[options.includes('n') ? 1 : 2];
  if (password) secretFrom(password, 0, out);
};

const MYSQL = flags({ glued: ['-p'] });
const REGISTRY_LOGIN = flags({ glued: ['-p'], separate: ['-p'], after: 'login' });
const MONGO = flags({ separate: ['-p'] });
const LDAP = flags({ glued: ['-w'], separate: ['-w'] });
const SQLSERVER = flags({ glued: ['-P'], separate: ['-P'] });
const SAMBA = userAndPassword(['-U', '--user'], '%');
const FREERDP = prefixed('/p:');
const KEYTOOL_FLAGS = ['-storepass', '-keypass', '-srcstorepass', '-deststorepass', '-srckeypass', '-destkeypass', '-new'];

/** Commands and how their arguments carry a password (`--password=…` is redact-rules.ts's, for every command). */
const COMMANDS = new Map<string, Reader>([
  // mysql prompts for `-p` alone (`mysql -p mydb`: mydb is the database), so only the glued form.
  ...['mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlshow', 'mysqlcheck', 'mysqlpump', 'mysqlbinlog', 'mysqlsh',
    'mariadb', 'mariadb-dump', 'mariadb-admin'].map((c) => [c, MYSQL] as const),
  ...['docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'helm', 'oras'].map((c) => [c, REGISTRY_LOGIN] as const),
  ['az', flags({ separate: ['-p'], after: 'login' })],
  ['sshpass', flags({ glued: ['-p'], separate: ['-p'], wrapper: true })],
  ...['redis-cli', 'valkey-cli', 'keydb-cli'].map((c) => [c, flags({ separate: ['-a', '--pass'] })] as const),
  ...['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport', 'mongostat', 'mongotop', 'mongofiles'].map((c) => [c, MONGO] as const),
  ...['ldapsearch', 'ldapadd', 'ldapmodify', 'ldapdelete', 'ldapmodrdn', 'ldapcompare', 'ldapwhoami', 'ldapexop'].map((c) => [c, LDAP] as const),
  ['ldappasswd', flags({ glued: ['-w'], separate: ['-w', '-s', '-a'] })],
  ...['sqlcmd', 'bcp'].map((c) => [c, SQLSERVER] as const),
  ...['zip', 'unzip', 'zipcloak'].map((c) => [c, flags({ separate: ['-P'] })] as const),
  ...['7z', '7za', '7zr'].map((c) => [c, flags({ glued: ['-p'] })] as const),
  ['keytool', flags({ separate: KEYTOOL_FLAGS })],
  ['openssl', (args, out) => {
    prefixed('pass:')(args, out);
    flags({ separate: ['-k'] })(args, out);
  }],
  ...['smbclient', 'rpcclient', 'smbcacls', 'smbget'].map((c) => [c, SAMBA] as const),
  ['smbmap', flags({ separate: ['-p'] })],
  ['lftp', userAndPassword(['-u', '--user'], ',')],
  ...['xfreerdp', 'xfreerdp3', 'wlfreerdp', 'sdl-freerdp'].map((c) => [c, FREERDP] as const),
  ['rdesktop', flags({ separate: ['-p'] })],
  ['htpasswd', htpasswd],
  ['twine', flags({ separate: ['-p'] })],
]);

/** `/usr/bin/mysql` → mysql; quotes are not part of a command name. */
function commandName(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/**
 * How the command after a `|` reads what is piped into it: 'password' (sudo -S, passwd --stdin,
 * `login --password-stdin`), 'user:password' (chpasswd), or undefined when it reads no password.
 */
function stdinPassword(words: readonly Word[]): 'password' | 'user:password' | undefined {
  if (words.some((w) => commandName(w.text) === 'chpasswd')) return 'user:password';
  if (words.some((w) => w.text === '--password-stdin' || w.text === '--stdin')) return 'password';
  const sudo = words.findIndex((w) => commandName(w.text) === 'sudo');
  if (sudo < 0) return undefined;
  for (const w of words.slice(sudo + 1)) {
    if (!w.text.startsWith('-')) break;
    if (/^-[A-Za-z]*S/.test(w.text)) return 'password';
  }
  return undefined;
}

/** `echo SECRET` / `printf '%s\n' SECRET` piped into a command that reads a password. */
function echoed(command: string, args: readonly Word[], next: readonly Word[], out: Finding[]): void {
  const how = stdinPassword(next);
  if (!how) return;
  let values = args.filter((w) => !/^-[neE]+$/.test(w.text));
  if (command === 'printf' && values.length > 1) values = values.slice(1); // the format
  for (const w of values) {
    if (how === 'password') {
      secretFrom(w, 0, out);
      continue;
    }
    const v = unquoted(w.start, w.text);
    const colon = v.value.indexOf(':');
    if (colon >= 0 && plausibleValue(v.value.slice(colon + 1), true)) out.push({ start: v.start + colon + 1, end: v.end, kind: 'password' });
  }
}

/**
 * A line worth splitting into words names one of the commands. Most terminal output names none,
 * and testing a line is much cheaper than splitting it.
 */
const HINT = new RegExp(`(?:^|[^\\w-])(?:${[...COMMANDS.keys(), 'echo', 'printf'].join('|')})(?![\\w-])`);

/** The commands of one line starting at `offset`: words up to a separator, and whether a pipe ended them. */
function commandsOf(line: string, offset: number): { words: Word[]; piped: boolean }[] {
  const out: { words: Word[]; piped: boolean }[] = [];
  let words: Word[] = [];
  WORD.lastIndex = 0;
  for (let m = WORD.exec(line); m; m = WORD.exec(line)) {
    if (m.groups?.sep === undefined) {
      words.push({ text: m[0], start: offset + m.index });
      continue;
    }
    // `||` is not a pipe: its left side is a command of its own, not the input of the right side.
    const piped = m[0] === '|' && line[m.index + 1] !== '|' && line[m.index - 1] !== '|';
    if (words.length > 0) out.push({ words, piped });
    words = [];
  }
  if (words.length > 0) out.push({ words, piped: false });
  return out;
}

/** Passwords on the command lines in `text` (kind `password`), unsorted. */
export function findCommandLineSecrets(text: string): Finding[] {
  const out: Finding[] = [];
  for (let start = 0; start < text.length;) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end);
    if (HINT.test(line)) readLine(commandsOf(line, start), out);
    start = end + 1;
  }
  return out;
}

/** Reads each command of a line with the rules of its command word. */
function readLine(commands: readonly { words: Word[]; piped: boolean }[], out: Finding[]): void {
  commands.forEach(({ words, piped }, index) => {
    // Each command word starts its arguments; they end at the next command word.
    let reader: Reader | undefined;
    let from = 0;
    let echo = piped; // only the first echo of a command: `echo echo echo …` stays linear
    const flush = (to: number) => reader?.(words.slice(from, to), out);
    words.forEach((w, i) => {
      const name = commandName(w.text);
      const next = COMMANDS.get(name);
      if (echo && (name === 'echo' || name === 'printf')) {
        echoed(name, words.slice(i + 1), commands[index + 1]?.words ?? [], out);
        echo = false;
      }
      if (!next) return;
      flush(i);
      reader = next;
      from = i + 1;
    });
    flush(words.length);
  });
}
