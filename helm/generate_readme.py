"""Generate helm/README.md from README.md.tmpl and the `# --` comments of values.yaml.

    python helm/generate_readme.py          # rewrite helm/README.md (make helm-docs)
    python helm/generate_readme.py --check  # exit 1 when README.md is out of date

The comment convention is helm-docs': a `# --` comment (continued by further `#` lines) right
above a key documents it; its default comes from values.yaml itself. A key inside a documented
object is covered by its parent, so only keys with their own comment get a row.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parent
MARKER = "<!-- values-table -->"
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/]+|\"[^\"]+\"):(?:\s|$)")


def documented_keys(text: str) -> list[tuple[str, str]]:
    """(dotted key path, description) for every key with a `# --` comment, in file order."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    list_indent: int | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if not stripped:
            pending = None
            continue
        if stripped.startswith("#"):
            comment = stripped[1:].strip()
            if stripped.startswith("# --"):
                pending = [stripped[4:].strip()]
            elif pending is not None:
                pending.append(comment)
            continue
        if list_indent is not None and indent >= list_indent:
            continue  # inside a list: its items are part of the documented value above
        list_indent = None
        if stripped.startswith("- "):
            list_indent = indent
            continue
        match = KEY_LINE.match(raw)
        if not match:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = match.group("key").strip('"')
        stack.append((indent, key))
        if pending is not None:
            found.append((".".join(k for _, k in stack), " ".join(pending).strip()))
        pending = None
    return found


def lookup(values: dict, path: str):
    node = values
    for part in path.split("."):
        node = node[part]
    return node


def leaf_paths(node, prefix: str = "") -> list[str]:
    """Dotted paths of every value that is not a non-empty mapping."""
    if isinstance(node, dict) and node:
        paths = []
        for key, value in node.items():
            paths.extend(leaf_paths(value, f"{prefix}.{key}" if prefix else str(key)))
        return paths
    return [prefix]


def undocumented(values: dict, documented: list[str]) -> list[str]:
    """Leaves neither documented themselves nor inside a documented key."""
    return [
        leaf
        for leaf in leaf_paths(values)
        if not any(leaf == key or leaf.startswith(key + ".") for key in documented)
    ]


def type_name(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def values_table(values_text: str) -> str:
    values = yaml.safe_load(values_text)
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for path, description in documented_keys(values_text):
        value = lookup(values, path)
        default = json.dumps(value, separators=(", ", ": "))
        rows.append(
            f"| `{cell(path)}` | {type_name(value)} | `{cell(default)}` | {cell(description)} |"
        )
    return "\n".join(rows)


def generate() -> str:
    template = (CHART / "README.md.tmpl").read_text()
    if MARKER not in template:
        raise SystemExit(f"README.md.tmpl has no {MARKER} line")
    table = values_table((CHART / "values.yaml").read_text())
    return template.replace(MARKER, table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when README.md is stale")
    args = parser.parse_args()
    readme = CHART / "README.md"
    text = generate()
    if args.check:
        if readme.read_text() != text:
            print("helm/README.md is out of date: run `make helm-docs`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(text)
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
