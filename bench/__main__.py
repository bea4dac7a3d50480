"""``python -m bench`` (``make bench``) and ``python -m bench --smoke`` (``make bench-smoke``)."""

import argparse
import sys
from pathlib import Path

# The app's packages (config, realtime, gateway_emulator...) live in app/, as for manage.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from bench.plan import FULL, SMOKE
from bench.report.figures import Figures
from bench.run import report, run
from devtools.console import say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one run, no docs: proves the harness"
    )
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="FIGURES_JSON",
        help="no measuring: write docs/performance.md and the chart from a full run's figures",
    )
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    if args.report_from:
        report(Figures.load(args.report_from), plan, write_docs=True)
        return 0
    figures = run(plan, write_docs=not args.smoke)
    if figures.problems:
        say("the run is not valid:\n  " + "\n  ".join(figures.problems), sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
