"""Command line entry point.  Qt and torch are imported lazily so ``--help`` is instant."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --describe (or argparse's abbreviation of it, --des…) answers a parse error in JSON too
    if any(arg.startswith("--des") and "--describe".startswith(arg) for arg in argv):
        from convplay.describe import parse_args
    else:
        from convplay.cli import parse_args

    args = parse_args(argv)
    if args.describe:  # JSON on stdout, no window: Qt is never imported
        from convplay.describe import run as describe

        return describe(args)
    if args.list_lessons:  # one line a lesson, no window: Qt is never imported
        from convplay.core.lessons import list_lines

        for line in list_lines():
            print(line)
        return 0
    if args.save_session:  # a session file, no window: Qt is never imported
        from convplay.session_cli import run as save_session

        return save_session(args)
    from convplay.qt.app import run

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
