"""``convplay [options] --save-session OUT.convplay``: the session the options set up,
written as a session file, without a window (Qt is never imported)."""

from __future__ import annotations

import argparse
import sys


def view_from(args: argparse.Namespace):
    """The view the options ask for: --step, --workspace (or --focus), --device, --dtype."""
    from convplay.core.session_file import ViewState

    workspace = getattr(args, "workspace", None) or ("focus" if getattr(args, "focus", False) else None)
    return ViewState(
        animation_step=getattr(args, "step", None),
        workspace=workspace,
        device=getattr(args, "device", None),
        dtype=getattr(args, "dtype", None),
    )


def saved_state(args: argparse.Namespace):
    """The state to save: the opened session file's (the chosen step of a lesson), or the
    one the options set up; the view options given override the file's."""
    from dataclasses import replace

    from convplay.core.session_file import state_of
    from convplay.startup import initial_session, opened_document

    view = view_from(args)
    opened = opened_document(args)
    if opened is not None:
        document, index = opened
        state = document.state if document.kind == "session" else document.steps[index].state
        given = {k: v for k, v in vars(view).items() if v is not None}
        return replace(state, view=replace(state.view, **given))
    session, notes = initial_session(args)
    for note in notes:
        print(f"convplay: {note}", file=sys.stderr)
    return state_of(session, view)


def run(args: argparse.Namespace) -> int:
    """Write the session to ``args.save_session``; 0, or 2 with the reason on stderr."""
    from convplay.core.session_file import (
        SessionDocument,
        SessionFileError,
        write_document,
    )
    from convplay.startup import StartupError

    out = args.save_session
    try:
        state = saved_state(args)
        write_document(out, SessionDocument("session", state=state))
    except (StartupError, SessionFileError, ValueError) as exc:
        print(f"convplay: {exc}", file=sys.stderr)
        return 2
    print(f"convplay: saved {out}", file=sys.stderr)
    return 0
