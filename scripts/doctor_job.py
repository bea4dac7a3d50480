"""`make doctor ENV=…`: ``manage.py gateway_doctor`` in the cluster, read-only, as two Jobs made
from the chart's own provisioning Job (``helm template`` with ENV's values), so they run the
release's image with its ConfigMap, Secret, security context, volumes and NetworkPolicy:

    <release>-doctor          the deploy ServiceAccount (deploy role): every check but the post
    <release>-doctor-runtime  the runtime ServiceAccount (the web pods' role): the Management
                              API post, since that is the identity that must be allowed to post

    python -m scripts.doctor_job render   # print both Jobs as JSON; change nothing
    python -m scripts.doctor_job run      # (re)create both Jobs, wait, print their reports

The chart (helm/) belongs to the chart's owners: these Jobs are made here, never installed by
`make deploy`, and each is replaced by the next run (ttlSecondsAfterFinished removes it after
an hour). Settings from the environment: RELEASE, NAMESPACE, ENV_VALUES, HELM, KUBECTL,
IMAGE_TAG, HELM_ARGS, PK (the ApiGateway record; else provisioning.apiGatewayPk, else the
only record), DOCTOR_ARGS (e.g. --json), DOCTOR_TIMEOUT (seconds per Job). Each command is
printed before it runs (scripts.bluegreen.run).
"""

import copy
import json
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import yaml

from devtools.console import say
from devtools.environment import BadVariable, env_int, env_str
from scripts.bluegreen import Failure, run
from scripts.bluegreen import Settings as ReleaseSettings

COMPONENT = "app.kubernetes.io/component"


@dataclass(frozen=True)
class Settings:
    # RELEASE, NAMESPACE, ENV_VALUES, HELM, KUBECTL, HELM_ARGS, read as the blue/green steps do.
    release: ReleaseSettings
    image_tag: str
    pk: str
    doctor_args: list[str]
    timeout: int

    @classmethod
    def from_env(cls) -> "Settings":
        """A missing or wrong variable is a Failure with exit code 2, as a usage error."""
        try:
            return cls(
                release=ReleaseSettings.from_env(),
                image_tag=env_str("IMAGE_TAG", ""),
                pk=env_str("PK", ""),
                doctor_args=shlex.split(env_str("DOCTOR_ARGS", "")),
                timeout=env_int("DOCTOR_TIMEOUT", 300),
            )
        except BadVariable as error:
            raise Failure(str(error), code=2) from None


def render(s: Settings) -> list[dict]:
    """The release's objects as `make deploy` would apply them, with the provisioning Job on."""
    r = s.release
    command = [
        r.helm, "template", r.release, "helm", "--namespace", r.namespace, "-f", r.values_file,
        "--set", "provisioning.enabled=true",
        *(["--set", f"image.tag={s.image_tag}"] if s.image_tag else []),
        *r.helm_args,
    ]  # fmt: skip
    out = run(command, f"render release {r.release} with {r.values_file}", capture=True)
    return [document for document in yaml.safe_load_all(out) if document]


def _component(obj: dict) -> str:
    return (obj.get("metadata", {}).get("labels") or {}).get(COMPONENT, "")


def _pk(provisioning: dict, pk: str) -> list[str]:
    """--pk: the one asked for, else the environment's provisioning.apiGatewayPk if set."""
    container = provisioning["spec"]["template"]["spec"]["containers"][0]
    configured = next(
        (e.get("value", "") for e in container.get("env", []) if e["name"] == "API_GATEWAY_PK"), ""
    )
    chosen = pk or ("" if configured in ("", "0") else configured)
    return ["--pk", chosen] if chosen else []


def doctor_job(provisioning: dict, suffix: str, service_account: str, arguments: list[str]) -> dict:
    """The provisioning Job's pod with gateway_doctor as its command, under
    ``service_account``, without the Helm hook annotations (it belongs to no release)."""
    job = copy.deepcopy(provisioning)
    metadata = job["metadata"]
    base = metadata["name"].removesuffix("-provision")
    metadata["name"] = f"{base[: 62 - len(suffix)]}-{suffix}"
    metadata.pop("annotations", None)
    spec = job["spec"]
    for labels in (metadata["labels"], spec["template"]["metadata"]["labels"]):
        labels[COMPONENT] = suffix
        labels["app.kubernetes.io/managed-by"] = "make-doctor"
    spec.update(backoffLimit=0, activeDeadlineSeconds=300, ttlSecondsAfterFinished=3600)
    pod = spec["template"]["spec"]
    pod["serviceAccountName"] = service_account
    container = pod["containers"][0]
    container["name"] = "doctor"
    container["command"] = ["python", "manage.py", "gateway_doctor", *arguments]
    return job


def doctor_jobs(objects: list[dict], pk: str = "", extra: list[str] | None = None) -> list[dict]:
    """The two Jobs: every check but the post under the deploy identity, the post under the
    runtime identity."""
    provisioning = next(
        (o for o in objects if o["kind"] == "Job" and _component(o) == "provisioning"), None
    )
    web = next(
        (o for o in objects if o["kind"] in ("Deployment", "Rollout") and _component(o) == "web"),
        None,
    )
    if provisioning is None or web is None:
        raise Failure("the rendered chart has no provisioning Job or no web workload")
    chosen = [*_pk(provisioning, pk), *(extra or [])]
    runtime_account = web["spec"]["template"]["spec"]["serviceAccountName"]
    deploy_account = provisioning["spec"]["template"]["spec"]["serviceAccountName"]
    return [
        doctor_job(provisioning, "doctor", deploy_account, [*chosen, "--skip", "management-api"]),
        doctor_job(
            provisioning, "doctor-runtime", runtime_account, [*chosen, "--only", "management-api"]
        ),
    ]


def _kubectl(s: Settings, *args: str) -> list[str]:
    return [s.release.kubectl, "--namespace", s.release.namespace, *args]


def _wait(s: Settings, name: str) -> bool:
    """Whether Job ``name`` succeeded; fails when it neither succeeds nor fails in time."""
    status = _kubectl(s, "get", "job", name, "-o", "jsonpath={.status.succeeded}/{.status.failed}")
    say(f"wait for job/{name} to finish (at most {s.timeout} s)")
    print(f"    $ {shlex.join(status)}", flush=True)
    deadline = time.monotonic() + s.timeout
    while time.monotonic() < deadline:
        # Polled quietly: the command is printed once above.
        answer = subprocess.run(  # noqa: S603 - the operator's own kubectl
            status, capture_output=True, text=True, check=False
        ).stdout
        succeeded, _, failed = (part.strip() not in ("", "0") for part in answer.partition("/"))
        if succeeded or failed:
            return succeeded
        time.sleep(2)
    raise Failure(
        f"job/{name} did not finish in {s.timeout} s: kubectl -n {s.release.namespace} "
        f"describe job {name}"
    )


def run_job(s: Settings, job: dict) -> bool:
    name = job["metadata"]["name"]
    account = job["spec"]["template"]["spec"]["serviceAccountName"]
    run(
        _kubectl(s, "get", "serviceaccount", account),
        f"find ServiceAccount {account}",
        capture=True,
    )
    run(_kubectl(s, "delete", "job", name, "--ignore-not-found"), f"remove a previous job/{name}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix=f"{name}-") as manifest:
        json.dump(job, manifest)
        manifest.flush()
        run(_kubectl(s, "apply", "-f", manifest.name), f"create job/{name} as {account}")
    succeeded = _wait(s, name)
    print(
        run(_kubectl(s, "logs", f"job/{name}"), f"the report of job/{name}", capture=True),
        flush=True,
    )
    return succeeded


def main(argv: list[str]) -> int:
    try:
        if argv not in (["render"], ["run"]):
            raise Failure(f"usage: {sys.argv[0]} render|run", code=2)
        s = Settings.from_env()
        jobs = doctor_jobs(render(s), s.pk, s.doctor_args)
        if argv == ["render"]:
            print(json.dumps(jobs, indent=2), flush=True)
            return 0
        results = [run_job(s, job) for job in jobs]
    except Failure as failure:
        say(f"doctor: FAILED: {failure}", sys.stderr)
        return failure.code
    if not all(results):
        say("doctor: a check failed (✗ above); docs/troubleshooting.md has each fix")
        return 1
    say("doctor: every check passed; next: make smoke-test-cluster ENV=…")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
