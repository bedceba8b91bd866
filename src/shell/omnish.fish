# omnish shell integration for fish (3.x and 4.x).
#
# Marks each prompt and each command in the terminal stream so omnish can split a session into
# commands (OSC 133 A/B/C/D, OSC 633 E and P, OSC 7). Every mark carries the session's nonce:
# omnish trusts only marks with it, so a program printing look-alike marks is ignored. fish 4
# writes OSC 133 marks of its own; they have no nonce, and ours are written as well.
#
#   D (status, only if a command ran) → P (cwd) → 7 (cwd, for terminals) → A → prompt text → B
#   Enter → E (command line) → C → command output → next prompt
#
# Loaded with `fish --init-command 'source .../omnish.fish'` when omnish starts fish itself (that
# runs after the user's config files), or with `omnish init fish | source` in config.fish for
# shells started some other way.
#
# A and B go into the prompt's own output: fish_prompt (and fish_mode_prompt, which fish prints in
# front of it) are wrapped at each prompt unless they are our wrappers already, so a prompt the
# user or a framework defines later is wrapped too. Everything is named __omnish_*; nothing is exported.
# Sourcing this file again changes nothing.

if status is-interactive; and not set -q __omnish_nonce

    # First of all: read the nonce from the file omnish wrote and delete the file. The nonce never
    # is in the environment (programs can read the shell's /proc/PID/environ); it stays in
    # unexported variables only. (fish runs its config files before this: a program they start
    # could read the file too. omnish removes it after a few seconds if fish never gets here.)
    set -g __omnish_nonce
    if set -q OMNISH_NONCE_FILE
        if test -r "$OMNISH_NONCE_FILE"
            read -l __omnish_line <$OMNISH_NONCE_FILE
            and set __omnish_nonce (string replace -ra '[^A-Za-z0-9_-]' '' -- "$__omnish_line")
        end
        command rm -f -- "$OMNISH_NONCE_FILE" 2>/dev/null
        set -e OMNISH_NONCE_FILE
    end
    if test -z "$__omnish_nonce"
        # Started without omnish's nonce (`omnish init fish` in a shell omnish did not start).
        set __omnish_nonce (command od -An -N8 -tx1 /dev/urandom 2>/dev/null | string replace -ra '[^0-9a-f]' '' | string join '')
        test -n "$__omnish_nonce"; or set __omnish_nonce (random)(random)(random)
    end
    set -g __omnish_sfx ";omnish=$__omnish_nonce"\a
    set -g __omnish_ran 0

    # Control characters 0x01-0x1f except the newline, and \xHH for each (fish has no
    # character-code arithmetic).
    set -g __omnish_ctl
    set -g __omnish_ctl_hex
    for i in 01 02 03 04 05 06 07 08 09 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
        set -a __omnish_ctl (builtin printf "\\x$i")
        set -a __omnish_ctl_hex "\\x$i"
    end

    # Prints $argv[1] escaped for a mark field: \ → \\, ; → \x3b, bytes below 0x20 → \xHH.
    # fish's string tools work line by line, so the text is split at newlines first and joined
    # again with \x0a.
    function __omnish_escape
        set -l parts (string split \n -- $argv[1])
        set parts (string replace -a '\\' '\\\\' -- $parts)
        set parts (string replace -a ';' '\\x3b' -- $parts)
        set -l s (string join '\\x0a' -- $parts)
        if string match -qr '[\x01-\x1f]' -- $s
            # (Not `seq`: that would start a process.)
            for i in (string split ' ' -- '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30')
                set s (string replace -a -- $__omnish_ctl[$i] $__omnish_ctl_hex[$i] $s)
            end
        end
        builtin printf '%s' $s
    end

    function __omnish_report_cwd
        # (Through a variable, quoted: an empty result must still be one argument.)
        set -l cwd (__omnish_escape $PWD)
        builtin printf '\e]633;P;Cwd=%s%s' "$cwd" $__omnish_sfx
        builtin printf '\e]7;file://%s%s\a' $hostname (string escape --style=url -- $PWD)
    end

    # Sets $status to $argv[1] for the code that runs next.
    function __omnish_status
        return $argv[1]
    end

    # E with the command line as typed, then C. (fish does not fire this for an empty line.)
    function __omnish_preexec --on-event fish_preexec
        set -l cmd (__omnish_escape $argv[1])
        builtin printf '\e]633;E;%s%s\e]133;C%s' "$cmd" $__omnish_sfx $__omnish_sfx
        set -g __omnish_ran 1
    end

    # D as soon as the command is done: fish gives its status to fish_postexec handlers.
    function __omnish_postexec --on-event fish_postexec
        set -l s $status
        if test "$__omnish_ran" = 1
            set -g __omnish_ran 0
            builtin printf '\e]133;D;%s%s' $s $__omnish_sfx
        end
    end

    # Before fish draws the prompt: the cwd, and make sure the prompt functions are wrapped.
    function __omnish_prompt_event --on-event fish_prompt
        __omnish_report_cwd
        __omnish_wrap_prompt
    end

    # Whether function $argv[1] is one of our wrappers (they all call __omnish_* functions).
    function __omnish_ours
        functions -q $argv[1]; and functions $argv[1] | string match -q '*__omnish_*'
    end

    function __omnish_wrap_prompt
        if not __omnish_ours fish_prompt
            functions -e __omnish_user_prompt
            # `functions -q` loads an autoloaded prompt, so it can be copied.
            functions -q fish_prompt; and functions -c fish_prompt __omnish_user_prompt
            function fish_prompt
                set -l s $status
                # A, unless our fish_mode_prompt, printed just before, wrote it.
                if test "$__omnish_a_written" = 1
                    set -g __omnish_a_written 0
                else
                    builtin printf '\e]133;A%s' $__omnish_sfx
                end
                __omnish_prompt_body $s
            end
        end
        if functions -q fish_mode_prompt; and not __omnish_ours fish_mode_prompt
            # fish prints the mode prompt (vi mode) in front of the prompt: A goes there.
            functions -e __omnish_user_mode_prompt
            functions -c fish_mode_prompt __omnish_user_mode_prompt
            function fish_mode_prompt
                set -l s $status
                builtin printf '\e]133;A%s' $__omnish_sfx
                set -g __omnish_a_written 1
                __omnish_status $s
                __omnish_user_mode_prompt
            end
        end
    end

    # The user's prompt with B at its end. fish drops one trailing newline from a prompt; B must
    # come after the text that stays, so the output is taken in and printed again.
    function __omnish_prompt_body
        set -l lines
        if functions -q __omnish_user_prompt
            __omnish_status $argv[1]
            set lines (__omnish_user_prompt)
        end
        if set -q lines[2]
            builtin printf '%s\n' $lines[1..-2]
        end
        builtin printf '%s\e]133;B%s' "$lines[-1]" $__omnish_sfx
    end
end
