/** Recognising omnishd in /proc/PID/cmdline, so that `omnish daemon stop` never signals a stranger. */
import { describe, expect, it } from 'vitest';
import { isOmnishdCmdline } from './daemon.js';

const argv = (...args: string[]): string => `${args.join('\0')}\0`;

describe('isOmnishdCmdline', () => {
  it('knows omnishd as clients start it and as systemd starts it', () => {
    expect(isOmnishdCmdline(argv('/usr/bin/node', '/opt/omnish/bin/omnishd.js', '--foreground'))).toBe(true);
    expect(isOmnishdCmdline(argv('node', '--enable-source-maps', '/opt/omnish/bin/omnishd.js', '--foreground'))).toBe(true);
    expect(isOmnishdCmdline(argv('node', '/usr/local/bin/omnishd', '--foreground'))).toBe(true);
    expect(isOmnishdCmdline(argv('omnishd', '--foreground'))).toBe(true);
  });
  it('refuses other programs, including ones that only mention omnishd', () => {
    expect(isOmnishdCmdline(argv('sleep', '100'))).toBe(false);
    expect(isOmnishdCmdline(argv('vim', 'bin/omnishd.js'))).toBe(false);
    expect(isOmnishdCmdline(argv('node', '/opt/omnish/bin/omnish.js', 'daemon', 'stop'))).toBe(false);
    expect(isOmnishdCmdline(argv('node', 'server.js', 'omnishd.js'))).toBe(false);
    expect(isOmnishdCmdline('')).toBe(false);
  });
});
