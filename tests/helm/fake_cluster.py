"""A fake `helm` and `kubectl` for one release (tests/helm/test_bluegreen_targets.py):

    python fake_cluster.py helm|kubectl ARGS...

The release's values and history are in the JSON file $FAKE_STATE; `helm upgrade` applies its
--set/--set-string pairs to them, and kubectl's Services and Deployments follow the values
(unless "service_selects" pins the stable Service to a color). Every call is appended to
$FAKE_LOG. Anything else exits non-zero, so a target calling something unexpected fails.
"""

import itertools
import json
import os
import sys
from pathlib import Path

COLOR = "wsgateway/color"


def put(tree: dict, dotted: str, value: object) -> None:
    *path, last = dotted.split(".")
    for key in path:
        tree = tree.setdefault(key, {})
    tree[last] = value


def services(state: dict) -> list[dict]:
    bg = state["values"]["blueGreen"]
    live = state.get("service_selects") or bg["activeColor"]
    idle = "green" if bg["activeColor"] == "blue" else "blue"
    return [
        {"metadata": {"name": name}, "spec": {"selector": {COLOR: selected}}}
        for name, selected in (("wsgateway-web", live), ("wsgateway-web-preview", idle))
    ]


def deployments(state: dict) -> list[dict]:
    bg = state["values"]["blueGreen"]
    return [
        {
            "metadata": {"name": f"wsgateway-web-{color}", "labels": {COLOR: color}},
            "spec": {
                "replicas": 2 if bg[color]["running"] else 0,
                "template": {"spec": {"containers": [{"image": f"app:{bg[color]['tag']}"}]}},
            },
            "status": {"readyReplicas": 2 if bg[color]["running"] else 0},
        }
        for color in ("blue", "green")
    ]


def upgrade(state: dict, args: list[str]) -> None:
    for flag, pair in itertools.pairwise(args):
        if flag in ("--set", "--set-string"):
            key, value = pair.split("=", 1)
            typed = {"true": True, "false": False}.get(value, value) if flag == "--set" else value
            put(state["values"], key, typed)


def helm(state: dict, args: list[str]) -> None:
    if args[:2] == ["get", "values"]:
        revision = args[args.index("--revision") + 1] if "--revision" in args else None
        print(json.dumps(state["revisions"][revision] if revision else state["values"]))
    elif args[0] == "history":
        print(json.dumps(state["history"]))
    elif args[0] == "upgrade":
        upgrade(state, args)
    elif args[0] == "test":
        sys.exit(int(os.environ.get("FAKE_TEST_EXIT", "0")))
    else:
        sys.exit(f"fake helm: unexpected {args}")


def kubectl(state: dict, args: list[str]) -> None:
    if args[:2] == ["get", "service"]:
        print(json.dumps({"items": services(state)}))
    elif args[:2] == ["get", "deployment"]:
        print(json.dumps({"items": deployments(state)}))
    elif args[:2] == ["rollout", "status"]:
        print(f"{args[2]} successfully rolled out")
    else:
        sys.exit(f"fake kubectl: unexpected {args}")


def main() -> None:
    tool, args = sys.argv[1], sys.argv[2:]
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(f"{tool} {' '.join(args)}\n")
    state_file = Path(os.environ["FAKE_STATE"])
    state = json.loads(state_file.read_text())
    {"helm": helm, "kubectl": kubectl}[tool](state, args)
    state_file.write_text(json.dumps(state))


if __name__ == "__main__":
    main()
