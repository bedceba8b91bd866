/**
 * The wire contract is defined once. Two kinds of proof:
 * - at type level (checked by `npm run typecheck`, which covers tests): the results computed below
 *   the daemon, by layers that may not import the protocol (store, llm), have exactly the shape the
 *   protocol restates; a field added on one side only fails the type check;
 * - by reading the sources: neither side of the wire (the daemon; the CLI: commands, client,
 *   control) declares a type of its own under a name of the contract, or under a name it used to
 *   re-declare one with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ConfigFileProblem } from '../config/file.js';
import type { BuiltContext } from '../llm/context.js';
import type { EventRecord, ExplanationRecord, RetentionReport, StoredSession } from '../store/index.js';
import {
  readEvent, REQUEST_METHODS,
  type ConfigProblem, type ContextResult, type DaemonEvent, type DetectedEventData, type EventData, type ExplanationEventData, type GcResult, type ResultOf,
  type SessionListing,
} from './index.js';

const SRC = join(import.meta.dirname, '..');

describe('results computed below the daemon keep the shape of the contract', () => {
  it('gc, context, sessions and the detected events', () => {
    expectTypeOf<GcResult>().toEqualTypeOf<RetentionReport>();
    expectTypeOf<ContextResult>().toEqualTypeOf<BuiltContext>();
    // `.branded` compares intersections by their resulting properties.
    expectTypeOf<SessionListing>().branded.toEqualTypeOf<StoredSession & { active: boolean }>();
    expectTypeOf<DetectedEventData>().branded.toEqualTypeOf<Omit<EventRecord, 'type' | 'kind'> & { command: string | null }>();
    // The explanation Event says `text` where the record says `answer`, and carries the command line.
    expectTypeOf<Pick<ExplanationEventData, 'seq' | 'backend' | 'model'>>().toEqualTypeOf<Pick<ExplanationRecord, 'seq' | 'backend' | 'model'>>();
    expectTypeOf<ResultOf<'gc'>>().toEqualTypeOf<GcResult>();
    expectTypeOf<Omit<ConfigProblem, 'sinceMs'>>().toEqualTypeOf<ConfigFileProblem>();
  });
});

/** Every .ts file (tests excluded) under src/<folder>. */
function sources(folder: string): string[] {
  return readdirSync(join(SRC, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(folder, f));
}

/** Names of the types (interface or type alias) a file declares itself; `export type { X } from` re-exports are not declarations. */
function declaredTypes(text: string): string[] {
  return [...text.matchAll(/^\s*(?:export\s+)?(?:declare\s+)?(?:interface|type)\s+([A-Za-z_]\w*)(?=\s*(?:[=<{]|extends\b))/gm)].map((m) => m[1] ?? '');
}

/** The names the contract defines (src/protocol/requests.ts and events.ts). */
const CONTRACT = ['requests.ts', 'events.ts'].flatMap((f) => declaredTypes(readFileSync(join(SRC, 'protocol', f), 'utf8')));
/** Names under which a side of the wire once declared its own copy of a result. */
const RETIRED = ['LlmReport', 'DoctorLlmResult', 'DoctorBackendResult', 'AskResult', 'ContextResult', 'StatusResult', 'StoreProblem', 'ConfigSetResult'];

describe('neither side of the wire declares the contract again', () => {
  it('knows the names of the contract', () => {
    expect(CONTRACT).toEqual(expect.arrayContaining(['Requests', 'StatusResult', 'AskResult', 'DoctorLlmResult', 'ContextResult', 'EventKinds']));
  });

  it.each(['daemon', 'commands', 'client', 'control'])('src/%s', (side) => {
    const found = sources(side).flatMap((file) =>
      declaredTypes(readFileSync(join(SRC, file), 'utf8'))
        .filter((name) => CONTRACT.includes(name) || RETIRED.includes(name))
        .map((name) => `${file}: ${name}`),
    );
    expect(found, 'import it from src/protocol instead').toEqual([]);
  });

  it('the check sees a re-declaration', () => {
    expect(declaredTypes('/** x */\nexport interface StatusResult {\n  a: number;\n}\ntype AskResult = { answer: string };\n')).toEqual(['StatusResult', 'AskResult']);
    expect(declaredTypes("export type { StoreProblem } from '../protocol/index.js';\n")).toEqual([]);
  });
});

describe('methods and events', () => {
  it('REQUEST_METHODS lists each method once', () => {
    expect(new Set(REQUEST_METHODS).size).toBe(REQUEST_METHODS.length);
  });

  it('readEvent narrows a known kind by its data and skips the rest', () => {
    const explanation: EventData<'explanation'> = { seq: 2, command: 'make', text: 'it failed', backend: 'b', model: 'm' };
    const ev = readEvent({ type: 'Event', sessionId: '0123456789ab', kind: 'explanation', data: explanation });
    expect(ev).toEqual({ sessionId: '0123456789ab', kind: 'explanation', data: explanation });
    if (ev?.kind === 'explanation') expectTypeOf(ev.data.text).toEqualTypeOf<string>();
    expectTypeOf<Extract<DaemonEvent, { kind: 'ask-chunk' }>['data']>().toEqualTypeOf<{ text: string }>();
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'ask-chunk', data: { text: 'hi' } })).toEqual({ sessionId: '', kind: 'ask-chunk', data: { text: 'hi' } });
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'notice', data: {} })).toBeNull(); // unknown kind: skipped
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'toString', data: {} })).toBeNull();
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'ask-chunk', data: { text: 7 } })).toBeNull(); // wrong type: skipped
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'explanation', data: { ...explanation, command: 1 } })).toBeNull();
    const detected = { seq: 1, command: null, exitCode: 2, tUs: 5 };
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'nonzero-exit', data: detected })?.data).toEqual(detected);
    expect(readEvent({ type: 'Event', sessionId: '', kind: 'rule', data: { ...detected, name: 3 } })).toBeNull();
  });
});
