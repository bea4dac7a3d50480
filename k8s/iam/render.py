"""Fill in an IAM document of this folder and print it (JSON, validated).

    python k8s/iam/render.py runtime-policy.json ACCOUNT_ID=123456789012 REGION=eu-west-1 \
        API_ID=a1b2c3d4e5 STAGE=production > /tmp/runtime-policy.json

Placeholders are ${NAME}; values come from NAME=value arguments, else from the environment.
PARTITION defaults to `aws` (aws-cn, aws-us-gov elsewhere). A placeholder left without a value
stops the script, naming it. docs/deployment.md ("IAM roles") uses it for every role.
"""

import json
import os
import re
import sys
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
DEFAULTS = {"PARTITION": "aws"}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", text))


def render(name: str, values: dict[str, str]) -> dict:
    text = (HERE / name).read_text()
    known = {**DEFAULTS, **{k: v for k, v in os.environ.items() if k in placeholders(text)}}
    known.update(values)
    missing = sorted(placeholders(text) - known.keys())
    if missing:
        raise SystemExit(f"{name}: no value for {', '.join(missing)} (pass NAME=value)")
    return json.loads(Template(text).substitute(known))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        documents = sorted(p.name for p in HERE.glob("*.json"))
        print("Documents:", ", ".join(documents))
        return 0 if argv else 2
    values = dict(arg.split("=", 1) for arg in argv[1:])
    print(json.dumps(render(argv[0], values), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
