"""``python -m bench`` (``make bench``), ``python -m bench --smoke`` (``make bench-smoke``) and
``python -m bench --profile`` (``make bench-profile``)."""

import argparse
import sys
from pathlib import Path

# The app's packages (config, realtime, gateway_emulator...) live in app/, as for manage.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from bench.plan import FULL, SMOKE
from bench.report.figures import Figures
from bench.run import report, run, run_profile
from devtools.console import say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one run, no docs: proves the harness"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy samples one replica under $connect load: stacks, flame graph, top frames",
    )
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="FIGURES_JSON",
        help="no measuring: write docs/performance.md and the chart from a full run's figures",
    )
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    if args.profile:
        run_profile(plan)
        return 0
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
