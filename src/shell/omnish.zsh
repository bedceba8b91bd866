# omnish shell integration for zsh (5.1+).
#
# Marks each prompt and each command in the terminal stream so omnish can split a session into
# commands (OSC 133 A/B/C/D, OSC 633 E and P, OSC 7). Every mark carries the session's nonce:
# omnish trusts only marks with it, so a program printing look-alike marks is ignored.
#
#   D (status, only if a command ran) → P (cwd) → 7 (cwd, for terminals) → A → prompt text → B
#   Enter → E (command line) → C → command output → next prompt
#
# Loaded by src/shell/zsh/.zshenv when omnish starts zsh itself (before the user's .zshrc), or
# with `eval "$(omnish init zsh)"` in ~/.zshrc for shells started some other way.
#
# Hooks, and why they sit where they do:
# - __omnish_precmd is the FIRST precmd hook: it writes D before any other hook prints.
# - __omnish_prompt_end is the LAST precmd hook: it puts A and B around PS1 after prompt
#   frameworks (powerlevel10k, pure...) rewrote it for this prompt.
# - __omnish_preexec is the LAST preexec hook: C comes right before the command's own output.
# The user's .zshrc adds hooks after us, so the hooks are installed at the first prompt, after
# .zshrc, and put back in place at every prompt.
#
# Everything is a function or variable named __omnish_*; nothing is exported. Sourcing this file
# again changes nothing.

# Function bodies are parsed when defined, with the user's aliases expanded (a global alias such
# as `alias -g G='| grep'` matches any word): turn aliases off until the end of this file.
# (A sourced file is parsed one command at a time, so this covers the definitions below.)
if [[ -o aliases ]]; then
  'builtin' 'typeset' -g __omnish_aliases=1
  'builtin' 'unsetopt' aliases
fi

() {
  builtin emulate -L zsh
  [[ -o interactive ]] || builtin return 0
  (( ! ${+__omnish_nonce} )) || builtin return 0

  # The nonce: .zshenv read it from the file omnish wrote (never from the environment, which
  # programs can read in /proc) into __omnish_env_nonce. It stays in unexported variables only.
  builtin typeset -g __omnish_nonce=${__omnish_env_nonce-}
  builtin unset __omnish_env_nonce
  __omnish_nonce=${__omnish_nonce//[^A-Za-z0-9_-]/}
  if [[ -z $__omnish_nonce ]]; then
    # Started without omnish's nonce (`omnish init zsh` in a shell omnish did not start): make one.
    __omnish_nonce=$(command od -An -N8 -tx1 /dev/urandom 2>/dev/null)
    __omnish_nonce=${__omnish_nonce//[^0-9a-f]/}
    [[ -n $__omnish_nonce ]] || __omnish_nonce=$RANDOM$RANDOM$RANDOM$RANDOM
  fi

  # The tail of every trusted mark; the prompt marks, and the same as prompt text (%{ %} take no
  # room on the screen).
  builtin typeset -g __omnish_sfx=";omnish=$__omnish_nonce"$'\a'
  builtin typeset -g __omnish_a=$'\e]133;A'$__omnish_sfx
  builtin typeset -g __omnish_ps1_a="%{$__omnish_a%}"
  builtin typeset -g __omnish_ps1_b=$'%{\e]133;B'$__omnish_sfx'%}'
  builtin typeset -gi __omnish_ran=0   # 1 once C was written, until its D
  builtin typeset -g __omnish_out=     # result of __omnish_escape / __omnish_urlencode
  builtin typeset -ga precmd_functions preexec_functions

  # Installs the hooks at the first prompt, once .zshrc is done. zsh/sched runs a `sched +0`
  # command after the precmd hooks, just before the prompt is drawn: the right moment for the
  # first prompt. Without the module, fall back to a precmd hook (that prompt may miss B).
  if builtin zmodload zsh/sched 2>/dev/null; then
    builtin sched +0 __omnish_install
  else
    precmd_functions+=(__omnish_install)
  fi
}

__omnish_install() {
  builtin emulate -L zsh
  precmd_functions=(${precmd_functions:#__omnish_install})
  builtin autoload -Uz add-zsh-hook
  add-zsh-hook precmd __omnish_precmd
  add-zsh-hook precmd __omnish_prompt_end
  add-zsh-hook preexec __omnish_preexec
  __omnish_fix_hooks
  # This first prompt's precmd hooks have run already: do their part now.
  __omnish_report_cwd
  __omnish_prompt_end
}

# Sets __omnish_out to $1 escaped for a mark field: \ → \\, ; → \x3b, bytes below 0x20 → \xHH.
__omnish_escape() {
  builtin emulate -L zsh -o extended_glob
  builtin local s=${1//\\/\\\\}
  s=${s//;/\\x3b}
  __omnish_out=${s//(#m)[$'\x00'-$'\x1f']/\\x${(L)${(l:2::0:)$(( [##16] #MATCH ))}}}
}

# Sets __omnish_out to $1 percent-encoded byte by byte (no_multibyte) for a file:// URL.
__omnish_urlencode() {
  builtin emulate -L zsh -o extended_glob -o no_multibyte
  __omnish_out=${1//(#m)[^A-Za-z0-9\/._~-]/%${(l:2::0:)$(( [##16] #MATCH ))}}
}

__omnish_report_cwd() {
  __omnish_escape $PWD
  builtin print -rn -- $'\e]633;P;Cwd='$__omnish_out$__omnish_sfx
  __omnish_urlencode $PWD
  builtin print -rn -- $'\e]7;file://'$HOST$__omnish_out$'\a'
}

# Puts our hooks back where they belong (see the top of this file). zsh runs the precmd hooks
# from a copy of the array, so a change here counts from the next prompt; if __omnish_prompt_end
# is not last in this one, `sched +0` runs it once more after the other hooks.
__omnish_fix_hooks() {
  if [[ ${precmd_functions[1]-} != __omnish_precmd || ${precmd_functions[-1]-} != __omnish_prompt_end ]]; then
    [[ ${precmd_functions[-1]-} == __omnish_prompt_end ]] || builtin sched +0 __omnish_prompt_end 2>/dev/null
    precmd_functions=(__omnish_precmd ${precmd_functions:#__omnish_(precmd|prompt_end)} __omnish_prompt_end)
  fi
  if [[ ${preexec_functions[-1]-} != __omnish_preexec ]]; then
    preexec_functions=(${preexec_functions:#__omnish_preexec} __omnish_preexec)
  fi
}

# First precmd hook: D for the command that ran, then the cwd. zsh gives every precmd hook the
# command's $?, so nothing is lost for the hooks after this one.
__omnish_precmd() {
  builtin local -i s=$?
  builtin emulate -L zsh
  # Some plugins call precmd hooks from inside zle to refresh the prompt: that is no new prompt.
  if ! builtin zle; then
    if (( __omnish_ran )); then
      __omnish_ran=0
      builtin print -rn -- $'\e]133;D;'$s$__omnish_sfx
    fi
    __omnish_report_cwd
  fi
  __omnish_fix_hooks
  builtin return s
}

# Last precmd hook: A at the start of PS1, B at its end, unless both are in place already.
__omnish_prompt_end() {
  # Read before `emulate`, which would turn it on.
  if [[ ! -o prompt_percent ]]; then
    # %{ %} do not work: write A now; B cannot be placed.
    builtin zle || builtin print -rn -- $__omnish_a
    builtin return 0
  fi
  builtin emulate -L zsh
  if [[ $PS1 != "$__omnish_ps1_a"*"$__omnish_ps1_b" ]]; then
    builtin local p=${PS1//"$__omnish_ps1_a"}
    p=${p//"$__omnish_ps1_b"}
    PS1=$__omnish_ps1_a$p$__omnish_ps1_b
  fi
  # PS1 now holds the nonce: it must not go into programs' environment, where PS1 goes if it came
  # from the environment, was exported, or `setopt allexport` is on. (zsh's prompt has no way to
  # name the marks instead without prompt_subst, which would change how the user's PS1 expands.)
  [[ ${(t)PS1} != *export* ]] || builtin typeset -g +x PS1
}

# Last preexec hook: E with the command line as typed ($1; $3 when history is off), then C.
__omnish_preexec() {
  builtin emulate -L zsh
  __omnish_escape ${1:-$3}
  builtin print -rn -- $'\e]633;E;'$__omnish_out$__omnish_sfx$'\e]133;C'$__omnish_sfx
  __omnish_ran=1
}

if (( ${__omnish_aliases:-0} )); then
  builtin setopt aliases
fi
builtin unset __omnish_aliases
