"""Run convplay from a source checkout: ``python main.py [options]``."""

from convplay.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
