# omnish's zsh startup file.
#
# omnish starts zsh with ZDOTDIR pointing at this directory, so zsh reads this .zshenv instead of
# the user's. It hands ZDOTDIR back at once, so zsh goes on to read the user's .zprofile, .zshrc
# and .zlogin from the usual place; reads the user's .zshenv in place of this one; and loads
# omnish.zsh, which installs its hooks at the first prompt, after everything in .zshrc. No rc file
# is edited. (kitty's shell integration uses the same technique.)
#
# From omnish (see src/shell/launch.ts): OMNISH_ORIG_ZDOTDIR, the user's ZDOTDIR if they had one
# (unset: zsh uses $HOME); OMNISH_NONCE_FILE, a private file holding the session's nonce.
#
# The user's aliases may be defined already (/etc/zsh/zshenv), so builtins are quoted: a quoted
# word is never alias-expanded.

# First of all, before the user's files can start a program: read the nonce and delete its file.
# The nonce never is in the environment (programs can read the shell's /proc/PID/environ); it stays
# in this unexported variable, which omnish.zsh takes over. (zsh/files has a builtin rm: no process.)
'builtin' 'typeset' -g __omnish_env_nonce=
if [[ -n ${OMNISH_NONCE_FILE-} ]]; then
  if [[ -r $OMNISH_NONCE_FILE ]]; then
    'builtin' 'read' -r __omnish_env_nonce <"$OMNISH_NONCE_FILE"
  fi
  if 'builtin' 'zmodload' -F zsh/files b:zf_rm 2>/dev/null; then
    'zf_rm' -f -- "$OMNISH_NONCE_FILE" 2>/dev/null
  else
    'command' 'rm' -f -- "$OMNISH_NONCE_FILE" 2>/dev/null
  fi
fi
'builtin' 'unset' 'OMNISH_NONCE_FILE'

if [[ -n ${OMNISH_ORIG_ZDOTDIR+x} ]]; then
  # It came from the environment, so it stays exported.
  'builtin' 'export' ZDOTDIR="$OMNISH_ORIG_ZDOTDIR"
  'builtin' 'unset' 'OMNISH_ORIG_ZDOTDIR'
else
  'builtin' 'unset' 'ZDOTDIR'
fi

# ${(%):-%x} is this file; omnish.zsh sits one directory up.
'builtin' 'typeset' __omnish_file="${${(%):-%x}:A:h:h}/omnish.zsh"
{
  # zsh would have read this file now. (An empty ZDOTDIR means "/", as in zsh.)
  'builtin' 'typeset' __omnish_zshenv="${ZDOTDIR-$HOME}/.zshenv"
  [[ ! -r $__omnish_zshenv ]] || 'builtin' 'source' -- "$__omnish_zshenv"
} always {
  # Even when the user's .zshenv failed: their shell still gets its prompt marks.
  if [[ -o interactive && -r $__omnish_file ]]; then
    'builtin' 'source' -- "$__omnish_file"
  fi
  'builtin' 'unset' '__omnish_file' '__omnish_zshenv'
}
