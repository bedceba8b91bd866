# omnish shell integration for bash.
#
# Marks each prompt and each command in the terminal stream so omnish can split a session into
# commands (OSC 133 A/B/C/D, OSC 633 E and P, OSC 7). Every mark carries the session's
# nonce: omnish trusts only marks with it, so a program printing look-alike marks is ignored.
#
#   D (status, only if a command ran) → P (cwd) → 7 (cwd, for terminals) → A → prompt text → B
#   Enter → E (command line) → C → command output → next prompt
#
# Where a command line starts: bash 4.4+ expands PS0 right after it has read a command line and
# before it runs any of it, so E and C come from PS0, whatever the line is (a subshell, `time`, a
# pipeline of subshells, `!`, `coproc`, several lines). Older bash has no PS0; there, and for a line
# that bash did not save in its history (whose text PS0 cannot know), our DEBUG trap writes them
# before the line's first simple command at top level.
#
# Loaded after the user's rc files: by src/shell/bash/init.bash when omnish starts bash itself, or
# with `eval "$(omnish init bash)"` in ~/.bashrc for shells started some other way.
#
# Rules this file keeps, because it runs inside the user's own shell:
# - Only names starting with __omnish_; nothing is exported; `builtin` before builtins a user might
#   wrap in a function.
# - Works under the user's `set -u` (every expansion has a default) and leaves $?, $_ and their
#   DEBUG trap as they were; prepends nothing to their PS0 (ours goes at its end).
# - The nonce is in no exported variable, also under the user's `set -a`: PS1 and PS0 name the
#   variables holding the marks (expanded when bash draws them, with promptvars) instead of
#   holding the marks themselves, so an exported PS1 carries no secret into programs' environment.
# - Installs once: sourcing it again (e.g. `source ~/.bashrc`) changes nothing.
# - Never `return`s at top level: when eval'd from ~/.bashrc that would end the user's ~/.bashrc.
# - Works on bash 3.2 syntax; bash older than 4.4 gets boundaries (A B C D) without command text.

# Aliases expand while bash parses a function body; an alias such as `history='history 20'` must
# not leak into our functions. (Each top-level command of a sourced file is parsed after the
# previous one ran, so switching them off here covers the block below.)
if builtin shopt -q expand_aliases; then
  __omnish_aliases=1
  builtin shopt -u expand_aliases
else
  __omnish_aliases=0
fi

if [[ $- == *i* && -z ${__omnish_installed-} ]]; then
  __omnish_installed=1

  # The nonce: init.bash read it from the file omnish wrote (never from the environment, which
  # programs can read in /proc) into __omnish_env_nonce. It stays in unexported variables only.
  __omnish_nonce=${__omnish_env_nonce-}
  builtin unset __omnish_env_nonce
  __omnish_nonce=${__omnish_nonce//[!A-Za-z0-9_-]/}
  if [[ -z $__omnish_nonce ]]; then
    # Started without omnish's nonce (`omnish init bash` in a shell omnish did not start): make one.
    if [[ -n ${SRANDOM-} ]]; then
      builtin printf -v __omnish_nonce '%08x%08x' "$SRANDOM" "$SRANDOM"
    else
      __omnish_nonce=$(od -An -N8 -tx1 /dev/urandom 2>/dev/null)
      __omnish_nonce=${__omnish_nonce//[!0-9a-f]/}
      [[ -n $__omnish_nonce ]] || __omnish_nonce=$RANDOM$RANDOM$RANDOM$RANDOM
    fi
  fi

  # The tail of every trusted mark, and the two prompt marks. PS1 names them (\[ \] tell readline
  # they take no room on the screen); only with promptvars off, which leaves names unexpanded,
  # does PS1 hold them literally.
  __omnish_sfx=";omnish=$__omnish_nonce"$'\a'
  __omnish_mark_a=$'\e]133;A'$__omnish_sfx
  __omnish_mark_b=$'\e]133;B'$__omnish_sfx
  __omnish_ps1_a='\[${__omnish_mark_a-}\]'
  __omnish_ps1_b='\[${__omnish_mark_b-}\]'
  __omnish_ps1_la='\['$__omnish_mark_a'\]'
  __omnish_ps1_lb='\['$__omnish_mark_b'\]'
  # Under the user's `set -a` every assignment exports: take these out of the environment again.
  builtin export -n __omnish_nonce __omnish_sfx __omnish_mark_a __omnish_mark_b __omnish_ps1_la __omnish_ps1_lb

  # State between hooks.
  __omnish_armed=0      # 1 from the end of the prompt until the command line's first DEBUG trap
                        # (PS0 sets it back to 0 when it marked the line itself)
  __omnish_saved=0      # set by PS0: 1 if bash saved the line in its history
  __omnish_ran=0        # 1 once C was written for the current command line, until its D
  __omnish_histcmd=     # $HISTCMD at the prompt: the number the next history entry will get
  __omnish_trap_alive=0 # set by our DEBUG trap, reset at each prompt (see __omnish_pc_tail)
  __omnish_user_debug=  # the DEBUG trap the user had, which ours runs first
  __omnish_in_debug=
  __omnish_out=

  # Control characters 0x01-0x1f and their \xHH spellings, for __omnish_escape. (Built with printf
  # -v, not $(...): no process is started.)
  __omnish_ctl=()
  __omnish_ctl_hex=()
  for ((__omnish_i = 1; __omnish_i < 32; __omnish_i++)); do
    builtin printf -v __omnish_out '%03o' "$__omnish_i"
    builtin printf -v __omnish_out "\\$__omnish_out"
    __omnish_ctl[__omnish_i]=$__omnish_out
    builtin printf -v __omnish_out '\\x%02x' "$__omnish_i"
    __omnish_ctl_hex[__omnish_i]=$__omnish_out
  done
  builtin unset __omnish_i

  # Sets __omnish_out to $1 escaped for a mark field: \ → \\, ; → \x3b, bytes below 0x20 → \xHH.
  # (Replacements are quoted variables: with bash 5.2's patsub_replacement an unquoted & would
  # insert the match.)
  __omnish_escape() {
    local s=$1 bs='\' bs2='\\' semi=';' semi2='\x3b' i
    s=${s//"$bs"/"$bs2"}
    s=${s//"$semi"/"$semi2"}
    if [[ $s == *[[:cntrl:]]* ]]; then
      for ((i = 1; i < 32; i++)); do
        s=${s//"${__omnish_ctl[i]}"/"${__omnish_ctl_hex[i]}"}
      done
    fi
    __omnish_out=$s
  }

  # Sets __omnish_out to $1 percent-encoded byte by byte for a file:// URL (OSC 7).
  __omnish_urlencode() {
    local LC_ALL=C s=$1 out= c i
    case $s in
      *[!A-Za-z0-9/._~-]*) ;;
      *) __omnish_out=$s; return 0 ;;
    esac
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      case $c in
        [A-Za-z0-9/._~-]) out+=$c ;;
        *) builtin printf -v c '%%%02X' "'$c"; out+=$c ;;
      esac
    done
    __omnish_out=$out
  }

  # Sets $? (and $_, to its last argument) for the code that runs next.
  __omnish_status() {
    return "$1"
  }

  # Sets __omnish_out to the command line about to run. `history 1` has the whole line (pipes,
  # `a; b`, several lines); $BASH_COMMAND only the current simple command. The history entry is
  # this line's only if its number is the one bash gave out at the prompt: a line left out of
  # history (HISTCONTROL=ignorespace, HISTIGNORE, `set +o history`) leaves the previous entry there.
  __omnish_command_line() {
    local h num
    __omnish_out=$BASH_COMMAND
    [[ :$SHELLOPTS: == *:history:* ]] || return 0
    h=$(HISTTIMEFORMAT= builtin history 1 2>/dev/null) || return 0
    h=${h#"${h%%[![:space:]]*}"}
    num=${h%%[!0-9]*}
    [[ -n $num ]] || return 0
    h=${h:${#num}+2}  # history prints "%5d%c %s": the number, ' ' or '*' (edited), a space
    if [[ $num == "${__omnish_histcmd-}" ]]; then
      __omnish_out=$h
      return 0
    fi
    # Not saved. With ignoredups the line repeats the last entry, which is then the better text.
    case $h in
      "$BASH_COMMAND" | "$BASH_COMMAND"[\;\|\&$'\n']*) __omnish_out=$h ;;
    esac
    return 0
  }

  # Runs at the first DEBUG trap of a command line: E (bash 4.4+), then C.
  __omnish_preexec() {
    if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))); then
      __omnish_command_line
      __omnish_escape "$__omnish_out"
      builtin printf '\e]633;E;%s%s' "$__omnish_out" "$__omnish_sfx"
    fi
    builtin printf '\e]133;C%s' "$__omnish_sfx"
    __omnish_ran=1
  }

  # bash 4.4+ has PS0 and reports the command line (E); older bash gets C from the DEBUG trap only.
  if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))); then
    __omnish_has_ps0=1
  else
    __omnish_has_ps0=0
  fi

  # The end of PS0 (bash 4.4+, promptvars on), kept last in the user's PS0 by __omnish_prompt_end.
  # bash expands it in this shell, left to right, after reading a command line and before running
  # it. First an arithmetic expansion (no process) inside an array subscript that expands to
  # nothing: if $HISTCMD moved on since the prompt, bash saved the line in its history, so PS0 marks
  # it: a command runs (D at the next prompt), and the DEBUG trap stays out of it. (No `!` in it:
  # in posix mode bash replaces `!` in prompt strings with the history number.) Then a command
  # substitution, forked after that and so seeing __omnish_saved, that writes E and C. (A line bash
  # did not save is left to the DEBUG trap, which knows its text from $BASH_COMMAND.)
  __omnish_nil=()
  __omnish_ps0='${__omnish_nil[(__omnish_saved = ${HISTCMD:-0} > __omnish_histcmd) ? (__omnish_ran = 1, __omnish_armed = 0) : 0]-}$(__omnish_ps0_marks)'

  # In PS0's command substitution (a subshell): E and C for a line bash saved in its history.
  __omnish_ps0_marks() {
    # With `set -T` a user's DEBUG trap would follow us in here: this subshell needs none. (Named
    # so that __omnish_debug keeps this command from the user's trap.)
    __omnish_ps0_quiet=1 builtin trap - DEBUG
    ((__omnish_saved)) || return 0
    __omnish_command_line
    __omnish_escape "$__omnish_out"
    builtin printf '\e]633;E;%s%s\e]133;C%s' "$__omnish_out" "$__omnish_sfx" "$__omnish_sfx"
  }

  # Our DEBUG trap: `trap '__omnish_debug "$_"' DEBUG`. bash runs it before every simple command
  # at top level (and in functions only with `set -T`), restoring $? and $_ afterwards. The user's
  # own DEBUG trap runs first, with their $? and $_; with `shopt -s extdebug` its status decides
  # whether the command runs, so that status is ours too.
  __omnish_debug() {
    local s=$? last=${1-} ret=0
    __omnish_trap_alive=1
    # Something that wraps our trap and calls it again (bash-preexec) must not loop.
    [[ -z ${__omnish_in_debug-} ]] || return 0
    __omnish_in_debug=1
    # Our own commands (PROMPT_COMMAND entries, the end of init.bash) stay invisible to it.
    if [[ -n ${__omnish_user_debug-} && $BASH_COMMAND != *__omnish_* ]]; then
      __omnish_status "$s" "$last"
      builtin eval "$__omnish_user_debug"
      ret=$?
    fi
    if [[ $__omnish_armed == 1 ]]; then
      if [[ $BASH_COMMAND == *__omnish_* ]]; then
        # Our own PROMPT_COMMAND entries: back at the prompt without a command (an empty line,
        # Ctrl-C at the prompt), or our trap was just installed in the middle of PROMPT_COMMAND.
        __omnish_armed=0
      elif ((${#FUNCNAME[@]} > 1 || BASH_SUBSHELL > 0)) || [[ -n ${COMP_LINE-} || -n ${READLINE_LINE+x} ]]; then
        # Inside a function (set -T), a subshell, a completion or a `bind -x` widget: not the
        # command line itself.
        :
      elif ((ret != 0)) && builtin shopt -q extdebug; then
        # The user's trap told bash to skip this command.
        :
      else
        __omnish_armed=0
        __omnish_preexec
      fi
    fi
    __omnish_in_debug=
    return "$ret"
  }

  # Takes the output of `trap -p DEBUG` ($1) as the user's DEBUG trap and puts ours in its place.
  # Called from the tail of PROMPT_COMMAND, only when our trap is not installed: $(...) starts a
  # process.
  __omnish_chain_trap() {
    case ${1-} in
      "trap -- '__omnish_debug \"\$_\"' DEBUG") ;;
      *__omnish_debug*)
        # Someone's trap that calls ours (bash-preexec does that): leave it, and stop checking.
        __omnish_trap_foreign=1
        ;;
      *)
        __omnish_user_debug=
        # $1 reads: trap -- 'the command' DEBUG
        [[ -z ${1-} ]] || builtin eval "__omnish_trap_body ${1#trap }"
        builtin trap '__omnish_debug "$_"' DEBUG
        ;;
    esac
  }
  __omnish_trap_body() {
    [[ ${1-} != -- ]] || shift
    # Posix mode lists an unset trap as `-`.
    [[ ${1-} == - ]] || __omnish_user_debug=${1-}
  }

  # bash 5.1+ runs every element of a PROMPT_COMMAND array; older bash only the first one.
  if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
    __omnish_pc_arrays=1
  else
    __omnish_pc_arrays=0
  fi

  # The last PROMPT_COMMAND entry. It runs at top level, where the DEBUG trap can be read (bash
  # hides it inside functions and sourced files). __omnish_precmd resets __omnish_trap_alive and
  # our trap sets it before every command, so if it is still 0 here, ours is not installed: at
  # the first prompt (installing it then, after the rc files and anything they deferred to the
  # first prompt, is what lets us see the user's trap), or because something replaced it since.
  __omnish_pc_tail='[[ $__omnish_trap_alive == 1 ]] || __omnish_chain_trap "$(builtin trap -p DEBUG)"; __omnish_prompt_end'
  __omnish_trap_foreign=
  __omnish_tail_last=0

  # Keeps __omnish_precmd first in PROMPT_COMMAND (to see the command's $? before anything else
  # runs, and to write D before anything prints) and our tail last (to patch PS1 after prompt
  # frameworks rewrote it). A string stays a string, an array an array; the user's own entries
  # keep their order. Sets __omnish_tail_last to 1 if, before any change, our tail was the last
  # thing PROMPT_COMMAND runs.
  __omnish_fix_prompt_command() {
    local pc n=0
    if ((__omnish_pc_arrays)); then
      # Counted by keys: bash 5.2 with `set -u` fails on ${#PROMPT_COMMAND[@]} for a string.
      local -a keys=("${!PROMPT_COMMAND[@]}")
      n=${#keys[@]}
    fi
    if ((n > 1)); then pc=${PROMPT_COMMAND[*]: -1}; else pc=${PROMPT_COMMAND-}; fi
    case $pc in
      *"$__omnish_pc_tail") __omnish_tail_last=1 ;;
      *) __omnish_tail_last=0 ;;
    esac
    if ((n > 1)); then
      if [[ ${PROMPT_COMMAND[*]:0:1} == __omnish_precmd && ${PROMPT_COMMAND[*]: -1} == "$__omnish_pc_tail" ]]; then
        return 0
      fi
      # Take ours out, also where an element holds the string form (an array made from it).
      local -a rest=()
      for pc in "${PROMPT_COMMAND[@]}"; do
        pc=${pc//__omnish_precmd$'\n'/}
        pc=${pc//$'\n'"$__omnish_pc_tail"/}
        [[ -z $pc || $pc == __omnish_precmd || $pc == "$__omnish_pc_tail" ]] || rest+=("$pc")
      done
      PROMPT_COMMAND=(__omnish_precmd "${rest[@]}" "$__omnish_pc_tail")
    else
      # Newlines, not `;`: the user's text may end in a comment or an `&`.
      pc=${PROMPT_COMMAND-}
      case $pc in
        __omnish_precmd$'\n'*$'\n'"$__omnish_pc_tail") return 0 ;;
      esac
      pc=${pc//__omnish_precmd$'\n'/}
      pc=${pc//$'\n'"$__omnish_pc_tail"/}
      PROMPT_COMMAND=__omnish_precmd$'\n'$pc$'\n'$__omnish_pc_tail
    fi
  }

  # First in PROMPT_COMMAND: D for the command that ran, then the cwd (P and OSC 7). Returns the
  # command's status so the user's PROMPT_COMMAND sees it in $?.
  __omnish_precmd() {
    local s=$?
    if [[ $__omnish_ran == 1 ]]; then
      __omnish_ran=0
      builtin printf '\e]133;D;%s%s' "$s" "$__omnish_sfx"
    fi
    __omnish_escape "$PWD"
    builtin printf '\e]633;P;Cwd=%s%s' "$__omnish_out" "$__omnish_sfx"
    __omnish_urlencode "$PWD"
    builtin printf '\e]7;file://%s%s\a' "${HOSTNAME-}" "$__omnish_out"
    [[ -n $__omnish_trap_foreign ]] || __omnish_trap_alive=0
    return "$s"
  }

  # Last in PROMPT_COMMAND: A and B around PS1, then arm the DEBUG trap for the next command line.
  # bash itself restores $? (and PIPESTATUS, $_) for PS1 after PROMPT_COMMAND. If something was
  # added after us, it runs after this now, and its commands must not pass for the command line:
  # this once, the DEBUG trap stays disarmed (the next command line goes unmarked) and
  # PROMPT_COMMAND is put in order for the next prompt.
  __omnish_prompt_end() {
    local p a=$__omnish_ps1_a b=$__omnish_ps1_b vars=1
    __omnish_fix_prompt_command
    # Without promptvars bash would show the names in PS1 and PS0 as they are.
    builtin shopt -q promptvars || { vars=0; a=$__omnish_ps1_la; b=$__omnish_ps1_lb; }
    case ${PS1-} in
      "$a"*"$b") ;;
      *)
        # Missing, or not at the ends (a framework rewrote PS1, the user appended to it).
        p=${PS1-}
        p=${p//"$__omnish_ps1_a"/}
        p=${p//"$__omnish_ps1_b"/}
        p=${p//"$__omnish_ps1_la"/}
        p=${p//"$__omnish_ps1_lb"/}
        PS1=$a$p$b
        ;;
    esac
    # Only with promptvars off does PS1 hold the nonce: then it must not go into programs'
    # environment (where an exported PS1, or any PS1 under `set -a`, goes).
    ((vars)) || builtin export -n PS1
    if ((__omnish_has_ps0 && vars)); then
      case ${PS0-} in
        *"$__omnish_ps0") ;;
        *)
          p=${PS0-}
          PS0=${p//"$__omnish_ps0"/}$__omnish_ps0
          ;;
      esac
    elif [[ ${PS0-} == *"$__omnish_ps0"* ]]; then
      PS0=${PS0//"$__omnish_ps0"/}
    fi
    __omnish_histcmd=${HISTCMD-}
    __omnish_saved=0
    __omnish_armed=$__omnish_tail_last
  }

  __omnish_fix_prompt_command
  # Our DEBUG trap: now if init.bash read the user's (bash hides it from this sourced file), else
  # at the first prompt (see __omnish_pc_tail).
  if [[ -n ${__omnish_debug_trap+x} ]]; then
    __omnish_chain_trap "$__omnish_debug_trap"
  fi
fi

# (In a function: a user's DEBUG trap, chained to ours above, is not shown our own commands.)
__omnish_end_install() {
  [[ $__omnish_aliases == 0 ]] || builtin shopt -s expand_aliases
  builtin unset __omnish_aliases
}
__omnish_end_install
builtin unset -f __omnish_end_install
