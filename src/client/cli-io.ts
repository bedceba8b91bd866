/**
 * The CommandIo of `omnish NAME` on the command line: stdout and stderr, and, when stdin and
 * stdout are a terminal, the keyboard in raw mode for a command that reads keys (`replay`'s space
 * and q). Terminal modes are the client's business, so the commands get them through their io.
 */
import { processIo, type CommandIo } from '../commands/io.js';
import { ProcessTerminal, saveTermios } from './terminal.js';

/** processIo() with rawKeys when there is a terminal to take. */
export function cliIo(): CommandIo {
  const io = processIo();
  if (!io.isTTY || !process.stdin.isTTY) return io;
  return { ...io, rawKeys };
}

/** Raw mode (keys one by one, output not altered) until the returned function restores the terminal, or the process exits. */
function rawKeys(listener: (key: Buffer) => void): () => void {
  const terminal = new ProcessTerminal(saveTermios());
  terminal.enterRaw();
  const restore = (): void => terminal.restore();
  process.on('exit', restore);
  terminal.onInput(listener);
  return () => {
    terminal.restore();
    terminal.close();
    process.off('exit', restore);
  };
}
