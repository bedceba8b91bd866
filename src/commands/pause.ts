/**
 * `::pause` / `::resume`: stop and restart recording of the session they are typed in. While
 * paused nothing of the session is stored or sent to an LLM; on resume a gap with the reason marks
 * what was left out. The prompt stays usable throughout.
 */
import { UsageError } from '../common/errors.js';
import type { CommandIo, SessionControl } from './io.js';
import type { CommandSpec } from './registry.js';

function session(io: CommandIo, name: string): SessionControl {
  const s = io.session;
  if (!s) throw new UsageError(`${name} works at the prompt of an omnish session: type ::${name} there`);
  return s;
}

export const pauseCommand: CommandSpec<[]> = {
  name: 'pause',
  summary: 'stop recording this session until ::resume',
  usage: {},
  run(io) {
    if (!session(io, 'pause').pause()) throw new UsageError('this session is already paused; ::resume records again');
    io.out('omnish: recording paused: nothing of this session is stored or sent to an LLM until ::resume\n');
  },
};

export const resumeCommand: CommandSpec<[]> = {
  name: 'resume',
  summary: 'record this session again after ::pause',
  usage: {},
  run(io) {
    if (!session(io, 'resume').resume()) throw new UsageError('this session is not paused');
    io.out('omnish: recording again (the paused stretch is marked as a gap)\n');
  },
};
