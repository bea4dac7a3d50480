"""The chart as a package: its versions, its .tgz, and a lint of the metadata Artifact Hub reads.

    python scripts/chart.py version               # the chart's version (make chart-push)
    python scripts/chart.py app-version           # the app image's version (CI tags images)
    python scripts/chart.py package [--destination dist]
    python scripts/chart.py lint [ARCHIVE]        # Artifact Hub's fields, of helm/ or a .tgz

`package` uses helm-python-sdk (Helm's own engine, pinned in requirements/dev.lock), so no helm
binary is needed; it refuses to write an archive whose metadata fails the lint. helm/Chart.yaml
is the one place both versions are written.
"""

import argparse
import io
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Run as a file by make: the repository root, where devtools/ is, as for bench/ and drill/.
sys.path.insert(0, str(ROOT))

from devtools.console import say  # noqa: E402

CHART = ROOT / "helm"
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
URL = re.compile(r"^https://[^\s]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Artifact Hub's annotation vocabularies (artifacthub.io/docs/topics/annotations/helm).
CHANGE_KINDS = {"added", "changed", "deprecated", "removed", "fixed", "security"}
CATEGORIES = {
    "ai-machine-learning", "database", "integration-delivery", "monitoring-logging",
    "networking", "security", "storage", "streaming-messaging",
}  # fmt: skip
# SPDX identifiers a chart of this project may carry; extend when the project's licence changes.
LICENSES = {"Apache-2.0", "MIT", "BSD-3-Clause", "MPL-2.0", "GPL-3.0-only", "AGPL-3.0-only"}


def chart_metadata(archive: Path | None = None) -> dict[str, Any]:
    """Chart.yaml of helm/, or of a packaged chart."""
    if archive is None:
        return yaml.safe_load((CHART / "Chart.yaml").read_text())
    with tarfile.open(archive) as packed:
        member = next(m for m in packed.getmembers() if m.name.endswith("/Chart.yaml"))
        return yaml.safe_load(io.TextIOWrapper(packed.extractfile(member)).read())


def _annotation_list(annotations: dict[str, str], key: str, problems: list[str]) -> list:
    """An annotation holding a YAML list (Artifact Hub's convention), or [] with a problem."""
    if key not in annotations:
        problems.append(f"annotation {key} is missing")
        return []
    value = yaml.safe_load(annotations[key])
    if not isinstance(value, list) or not value:
        problems.append(f"annotation {key} must be a non-empty YAML list")
        return []
    return value


def _lint_changes(changes: list, problems: list[str]) -> None:
    for change in changes:
        if change.get("kind") not in CHANGE_KINDS or not change.get("description"):
            problems.append(
                f"artifacthub.io/changes entry needs a kind and a description: {change}"
            )


def _lint_images(images: list, app_version: str, problems: list[str]) -> None:
    for image in images:
        reference = str(image.get("image", ""))
        if not image.get("name") or not reference:
            problems.append(f"artifacthub.io/images entry needs a name and an image: {image}")
        elif not reference.endswith(f":{app_version}"):
            problems.append(f"artifacthub.io/images {reference} is not at appVersion {app_version}")


def lint(metadata: dict[str, Any]) -> list[str]:
    """What Artifact Hub needs of a Helm chart's metadata, and what users read there."""
    problems = []
    for field in ("name", "version", "appVersion", "description", "home", "icon"):
        if not metadata.get(field):
            problems.append(f"{field} is missing")
    for field in ("version", "appVersion"):
        if metadata.get(field) and not SEMVER.match(str(metadata[field])):
            problems.append(f"{field} {metadata[field]!r} is not SemVer")
    for url in [metadata.get("home", ""), metadata.get("icon", ""), *metadata.get("sources", [])]:
        if url and not URL.match(url):
            problems.append(f"{url!r} is not an https URL")
    if not metadata.get("sources"):
        problems.append("sources is missing")
    if len(metadata.get("keywords", [])) < 3:
        problems.append("keywords: give at least three")
    maintainers = metadata.get("maintainers") or []
    if not maintainers:
        problems.append("maintainers is missing")
    for maintainer in maintainers:
        if not maintainer.get("name") or not EMAIL.match(maintainer.get("email", "")):
            problems.append(f"maintainer needs a name and an email: {maintainer}")
    annotations = metadata.get("annotations") or {}
    if annotations.get("artifacthub.io/license") not in LICENSES:
        problems.append("annotation artifacthub.io/license must be an SPDX identifier")
    if annotations.get("artifacthub.io/category", "integration-delivery") not in CATEGORIES:
        problems.append("annotation artifacthub.io/category is not one of Artifact Hub's")
    _lint_changes(_annotation_list(annotations, "artifacthub.io/changes", problems), problems)
    images = _annotation_list(annotations, "artifacthub.io/images", problems)
    _lint_images(images, str(metadata.get("appVersion", "")), problems)
    return problems


def package(destination: Path) -> Path:
    problems = lint(chart_metadata())
    if problems:
        raise SystemExit("helm/Chart.yaml fails the Artifact Hub lint:\n  " + "\n  ".join(problems))
    try:
        import helm_python
    except ImportError as error:
        raise SystemExit("helm-python-sdk is missing: run `make install`") from error
    destination.mkdir(parents=True, exist_ok=True)
    return Path(helm_python.package(CHART, destination=destination))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("version", help="print the chart's version")
    commands.add_parser("app-version", help="print the app image's version")
    packing = commands.add_parser("package", help="write the chart's .tgz")
    packing.add_argument("--destination", type=Path, default=ROOT / "dist")
    linting = commands.add_parser("lint", help="lint Artifact Hub's fields")
    linting.add_argument("archive", type=Path, nargs="?")
    args = parser.parse_args()
    metadata = chart_metadata()
    if args.command == "version":
        print(metadata["version"])
    elif args.command == "app-version":
        print(metadata["appVersion"])
    elif args.command == "package":
        archive = package(args.destination)
        say(f"packaged {archive} (chart {metadata['version']}, app {metadata['appVersion']})")
        print("    Artifact Hub metadata: no problem found")
    else:
        problems = lint(chart_metadata(args.archive))
        for problem in problems:
            print(f"    {problem}", file=sys.stderr)
        say(f"Artifact Hub lint of {args.archive or 'helm/Chart.yaml'}: {len(problems)} problem(s)")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
