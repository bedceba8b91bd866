import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.js';
import { CommandTracker, OUTPUT_TAIL_BYTES } from './commands.js';
import { commandNames, EventDetector } from './events.js';

describe('commandNames', () => {
  it('takes the first word and that of the last stage, past assignments and prefixes', () => {
    expect(commandNames('grep -r x .')).toEqual(['grep', 'grep']);
    expect(commandNames('make 2>&1 | grep warn')).toEqual(['make', 'grep']);
    expect(commandNames('cd src && make')).toEqual(['cd', 'make']);
    expect(commandNames('LC_ALL=C sudo -E /usr/bin/diff a b')).toEqual(['diff', 'diff']);
    expect(commandNames('\\rg x; echo done')).toEqual(['rg', 'echo']);
    expect(commandNames('[[ -f x ]]')).toEqual(['[[', '[[']);
    expect(commandNames('   ')).toEqual([]);
  });
});

describe('EventDetector', () => {
  const finished = (output: string, exitCode: number | null = 0, command: string | null = 'run') => ({
    record: { type: 'command' as const, seq: 7, command, cwd: null, startedAtUs: 1, endedAtUs: 2, exitCode, outputStart: 0, outputEnd: output.length, altScreen: false },
    output: Buffer.from(output),
    head: Buffer.from(output),
  });
  const detector = new EventDetector(defaultConfig().events);

  it('matches phrases as whole words, case-insensitively', () => {
    const kinds = (text: string) => detector.detect(finished(text)).map((e) => e.pattern);
    expect(kinds('ERROR: x')).toEqual(['error']);
    expect(kinds('0 errors, -Werror, error_count, terror')).toEqual([]);
    expect(kinds('bash: foo: command  not\tfound')).toEqual(['command not found']);
    expect(kinds("thread 'main' panicked at src/main.rs")).toEqual(['panicked']);
  });

  it('keeps control characters out of the match and reports no exit status when there was none', () => {
    const [e] = detector.detect(finished('\x07\x1b[31mfatal\x1b(B\x1b[m: bad\x08 thing  \r\n', null));
    expect(e).toEqual({ type: 'event', kind: 'output-pattern', seq: 7, pattern: 'fatal', match: 'fatal: bad thing', tUs: 2 });
  });

  it('searches the list of on_stderr_patterns instead of output_patterns when there is one', () => {
    const listed = new EventDetector({ ...defaultConfig().events, stderrPatterns: ['traceback', '^E\\d{4}:', '(["\'])boom\\1'] });
    const found = (text: string, command = 'run') => listed.detect(finished(text, 0, command)).map((e) => [e.pattern, e.match]);
    // Regular expressions, case-insensitive, per line; the phrases of output_patterns no longer count.
    expect(found('Traceback (most recent call last):')).toEqual([['traceback', 'Traceback (most recent call last):']]);
    expect(found('ok\nE0308: mismatched types\n')).toEqual([['^E\\d{4}:', 'E0308: mismatched types']]);
    expect(found('x E0308: quoted')).toEqual([]);
    expect(found('fatal error: permission denied')).toEqual([]);
    // The earliest match wins; a backreference works since each pattern is compiled on its own.
    expect(found("said 'boom' then\ntraceback")).toEqual([['(["\'])boom\\1', "said 'boom' then"]]);
    expect(found('said \'boom" only')).toEqual([]);
    // ignore_commands still apply.
    expect(found('traceback', 'grep -r traceback .')).toEqual([]);
  });

  it('treats null command lines as not ignored', () => {
    expect(detector.detect(finished('', 3, null)).map((e) => e.kind)).toEqual(['nonzero-exit']);
  });
});

describe('CommandTracker output tail', () => {
  it('keeps only the last OUTPUT_TAIL_BYTES of a long output', () => {
    const t = new CommandTracker('n1');
    const mark = (body: string) => Buffer.from(`\x1b]133;${body};omnish=n1\x07`);
    t.output(1, mark('C'));
    const chunk = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 100; i++) t.output(2, chunk);
    t.output(3, Buffer.from('the end'));
    const done = t.output(4, mark('D;0'))[0];
    if (!done) throw new Error('no command finished');
    expect(done.record.outputEnd - done.record.outputStart).toBe(100 * 4096 + 7);
    expect(done.output.length).toBe(OUTPUT_TAIL_BYTES);
    expect(done.output.subarray(-7).toString()).toBe('the end');
  });
});
