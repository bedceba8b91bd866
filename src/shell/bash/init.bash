# omnish's bash startup file.
#
# omnish starts bash as `bash --posix [-l] -i` with ENV pointing at this file. In posix mode an
# interactive bash reads nothing but $ENV at startup, even as a login shell, so this file runs
# first and alone. It leaves posix mode, puts back what posix mode changed, reads the user's
# startup files exactly as bash would have, and only then loads omnish.bash, after everything the
# user set up. No rc file is edited. (kitty's shell integration uses the same technique.)
#
# From omnish (see src/shell/launch.ts), all removed from the environment here:
#   OMNISH_ORIG_ENV     the user's own ENV, if they had one
#   OMNISH_BASH_FLAGS   words: norc noprofile posix (bash flags the user gave, which omnish took
#                       out of bash's argv), default-histfile default-mailcheck (HISTFILE or
#                       MAILCHECK was not in the environment, so bash set its posix-mode default),
#                       inherit-errexit (the environment's BASHOPTS turned it on)
#   OMNISH_BASH_RCFILE  the file given with --rcfile / --init-file
#   OMNISH_NONCE_FILE   a private file holding the session's nonce, for omnish.bash

# First of all, before anything else can start a program: read the nonce and delete its file. The
# nonce never is in the environment (programs can read the shell's /proc/PID/environ); it stays in
# this unexported variable, which omnish.bash takes over.
__omnish_env_nonce=
if [ -n "${OMNISH_NONCE_FILE-}" ]; then
  if [ -r "$OMNISH_NONCE_FILE" ]; then builtin read -r __omnish_env_nonce <"$OMNISH_NONCE_FILE"; fi
  # (bash has no builtin to delete a file. If rm cannot run, omnish removes it within seconds.)
  command rm -f -- "$OMNISH_NONCE_FILE" 2>/dev/null
fi
builtin export -n __omnish_env_nonce 2>/dev/null

__omnish_flags=" ${OMNISH_BASH_FLAGS-} "
__omnish_rcfile=${OMNISH_BASH_RCFILE-}
__omnish_self=${BASH_SOURCE[0]:-$ENV}
builtin unset OMNISH_BASH_FLAGS OMNISH_BASH_RCFILE OMNISH_NONCE_FILE

# Programs started from this shell see the user's ENV, not ours.
if [ -n "${OMNISH_ORIG_ENV+x}" ]; then
  builtin export ENV="$OMNISH_ORIG_ENV"
  builtin unset OMNISH_ORIG_ENV
else
  builtin unset ENV
fi

case $__omnish_flags in
  *" posix "*)
    # The user asked for posix mode (--posix or POSIXLY_CORRECT): stay in it and read $ENV, which
    # is all bash would have read.
    if [ -n "${ENV-}" ] && [ -r "$ENV" ]; then
      # bash opens $ENV as a path; `.` would search PATH for a bare name.
      case $ENV in
        */*) . "$ENV" ;;
        *) . "./$ENV" ;;
      esac
    fi
    ;;
  *)
    builtin set +o posix
    # Starting in posix mode left traces that leaving it does not undo (bash 5.2).
    case $__omnish_flags in *" inherit-errexit "*) ;; *) builtin shopt -u inherit_errexit 2>/dev/null ;; esac
    case $__omnish_flags in *" default-histfile "*) HISTFILE=$HOME/.bash_history ;; esac
    case $__omnish_flags in *" default-mailcheck "*) MAILCHECK=60 ;; esac

    # The startup files bash reads when not in posix mode (bash(1), INVOCATION).
    if builtin shopt -q login_shell; then
      case $__omnish_flags in
        *" noprofile "*) ;;
        *)
          if [ -r /etc/profile ]; then . /etc/profile; fi
          if [ -r "$HOME/.bash_profile" ]; then
            . "$HOME/.bash_profile"
          elif [ -r "$HOME/.bash_login" ]; then
            . "$HOME/.bash_login"
          elif [ -r "$HOME/.profile" ]; then
            . "$HOME/.profile"
          fi
          ;;
      esac
    else
      case $__omnish_flags in
        *" norc "*) ;;
        *)
          # Debian, Ubuntu and Arch build bash to read /etc/bash.bashrc first (also with --rcfile);
          # where it exists, this bash was most likely built that way.
          if [ -r /etc/bash.bashrc ]; then . /etc/bash.bashrc; fi
          if [ -n "$__omnish_rcfile" ]; then
            if [ -r "$__omnish_rcfile" ]; then . "$__omnish_rcfile"; fi
          elif [ -r "$HOME/.bashrc" ]; then
            . "$HOME/.bashrc"
          fi
          ;;
      esac
    fi
    ;;
esac

# bash hides the DEBUG trap from sourced files, so the one the user's rc files set is read here
# and handed to omnish.bash, which chains it to its own. (The user's trap, if any, sees these two
# commands: it is in force from the moment their rc set it.)
__omnish_debug_trap=$(builtin trap -p DEBUG)
. "${__omnish_self%/*}/../omnish.bash"
builtin unset __omnish_flags __omnish_rcfile __omnish_self __omnish_debug_trap
