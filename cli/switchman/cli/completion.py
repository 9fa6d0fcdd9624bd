"""``switchman completion bash|zsh``: completion scripts generated from the parser."""

from __future__ import annotations

import argparse


def _commands(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Top-level commands and, for each, its sub-commands or options."""
    out: dict[str, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words: list[str] = []
                for a in sub._actions:
                    if isinstance(a, argparse._SubParsersAction):
                        words += list(a.choices)
                    elif a.help is not argparse.SUPPRESS:
                        words += [o for o in a.option_strings if o.startswith("--")]
                out[name] = words
    return out


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    cmds = _commands(parser)
    globals_ = [
        o for a in parser._actions if a.help is not argparse.SUPPRESS for o in a.option_strings if o.startswith("--")
    ]
    cases = "\n".join(f'        {name}) words="{" ".join(words)}" ;;' for name, words in sorted(cmds.items()))
    body = f"""_switchman() {{
    local cur cmd words
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    cmd=""
    for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$w" in -*) ;; *) cmd="$w"; break ;; esac
    done
    case "$cmd" in
{cases}
        *) words="{" ".join(sorted(cmds))} {" ".join(globals_)}" ;;
    esac
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}}
complete -F _switchman switchman
"""
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + body
    return body
