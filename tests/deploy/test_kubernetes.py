"""deploy/kubernetes/: valid for a current Kubernetes (kubernetes-validate, strict), no failed
check of a manifest security linter (checkov), and in step with the config it carries.

The two linters come from PyPI into a venv of dev/test's own, which puts them on PATH
(TC_K8S_TOOLS may name their directory instead). checkov runs with --skip-download,
so that it sends nothing anywhere.
"""

import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ticketing_cron.schedules import match  # noqa: E402
from ticketing_cron.schedules.plan import TIMEOUT_MARGIN_S  # noqa: E402

MANIFESTS = REPO / "deploy" / "kubernetes"
# A current release: the newest whose schema this kubernetes-validate knows well.
KUBERNETES_VERSION = "1.34.0"


def tool(name):
    directory = os.environ.get("TC_K8S_TOOLS")
    found = shutil.which(name, path=directory) if directory else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: dev/test installs it from PyPI into a venv "
                    f"(or set TC_K8S_TOOLS to its bin directory)", pytrace=False)
    return found


def documents():
    """(file name, document) for every manifest."""
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        found += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return found


def by_kind(kind):
    return [d for _, d in documents() if d["kind"] == kind]


def test_kubernetes_validate_strict():
    files = sorted(str(p) for p in MANIFESTS.glob("*.yaml"))
    assert len(files) >= 4
    proc = subprocess.run([tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION,
                           *files], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("passed for resource") == len(documents())


def test_checkov_finds_no_failed_check_and_every_skip_is_explained(tmp_path):
    proc = subprocess.run([tool("checkov"), "-d", str(MANIFESTS), "--framework", "kubernetes",
                           "--skip-download", "--output", "json"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env=dict(os.environ, BC_SKIP_MAPPING="TRUE"))
    report = json.loads(proc.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, json.dumps(report["results"]["failed_checks"], indent=1)
    assert summary["passed"] > 100 and summary["parsing_errors"] == 0
    assert summary["resource_count"] == len(documents())
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 20, skipped
    assert proc.returncode == 0


def test_each_cronjob_matches_its_job_in_the_configmap():
    (config_map,) = by_kind("ConfigMap")
    config = tomllib.loads(config_map["data"]["config.toml"])
    cron_jobs = {c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
                 ["args"][-1]: c for c in by_kind("CronJob")}
    assert set(cron_jobs) == set(config["jobs"])
    for name, cron_job in cron_jobs.items():
        job = config["jobs"][name]
        spec = cron_job["spec"]
        schedule = job.get("schedule", "* * * * *")
        assert spec["schedule"] == schedule or (name == "sla-check" and
                                                spec["schedule"] == "* * * * *")
        assert spec["timeZone"] in (job.get("timezone", "UTC"), "Etc/UTC")
        assert spec["concurrencyPolicy"] == "Forbid"
        assert 10 <= spec["startingDeadlineSeconds"]
        job_spec = spec["jobTemplate"]["spec"]
        assert job_spec["backoffLimit"] == 0
        deadline = job.get("deadline", config["api"].get("deadline", 50))
        # As TimeoutStartSec=: room for the run's own deadline, below the period.
        assert job_spec["activeDeadlineSeconds"] >= math.ceil(deadline) + TIMEOUT_MARGIN_S
        assert job_spec["activeDeadlineSeconds"] < shortest_period_s(schedule)
        assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1


def shortest_period_s(schedule):
    """The shortest time between two elapses of a cron line over two weeks (UTC)."""
    specs = match.specs_for(schedule)
    moment = datetime.datetime(2026, 1, 15, tzinfo=match.UTC)
    elapses = []
    while len(elapses) < 12:
        due = match.latest_due(specs, match.UTC, moment)
        elapses.append(due)
        moment = due - datetime.timedelta(seconds=1)
    return min((a - b).total_seconds() for a, b in zip(elapses, elapses[1:]))


def test_the_pods_are_locked_down():
    for cron_job in by_kind("CronJob"):
        pod = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]["memory"] == "96Mi"
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["TICKETING_CRON_LOG_FORMAT"] == "json"
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        secret_mount = mounts[env["CREDENTIALS_DIRECTORY"] + "/cron-secret"]
        assert secret_mount["subPath"] == "cron-secret" and secret_mount["readOnly"]
        assert mounts["/etc/ticketing-cron/config.toml"]["readOnly"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mode = volumes[secret_mount["name"]]["secret"]["defaultMode"]
        assert mode & 0o007 == 0 and mode & 0o400  # the reader refuses other-readable
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]


def test_the_pods_may_reach_dns_and_https_only_and_nothing_may_reach_them():
    (policy,) = by_kind("NetworkPolicy")
    spec = policy["spec"]
    selected = spec["podSelector"]["matchLabels"]
    for cron_job in by_kind("CronJob"):
        labels = cron_job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        assert selected.items() <= labels.items(), "the policy does not select the pods"
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert spec["ingress"] == []
    ports = sorted((p["protocol"], p["port"]) for rule in spec["egress"]
                   for p in rule["ports"])
    assert ports == [("TCP", 53), ("TCP", 443), ("UDP", 53)]
    https = [rule for rule in spec["egress"] if rule["ports"] == [{"protocol": "TCP",
                                                                  "port": 443}]][0]
    blocks = {b["ipBlock"]["cidr"]: b["ipBlock"].get("except", []) for b in https["to"]}
    # Cloud instance metadata (and the credentials it serves) is link-local.
    assert blocks == {"0.0.0.0/0": ["169.254.0.0/16"], "::/0": ["fe80::/10"]}


def test_the_image_has_no_unqualified_default_base():
    """A short name such as debian:bookworm-slim is resolved by the build tool's registry
    search list, which another registry may answer first; the base must be given."""
    text = (REPO / "Containerfile").read_text()
    (arg,) = [line for line in text.splitlines() if line.startswith("ARG BASE_IMAGE")]
    assert arg == "ARG BASE_IMAGE=give-BASE_IMAGE-a-digest-pinned-debian-image"


def test_no_secret_is_applied_with_the_directory():
    """`kubectl apply -f deploy/kubernetes/` would replace the real Secret with a
    placeholder; the example lives beside the directory, and its placeholder is one
    that ticketing-cron refuses."""
    from ticketing_cron.config.secret import secret_problem  # noqa: E402

    assert by_kind("Secret") == []
    example = yaml.safe_load((REPO / "deploy" / "secret.example.yaml").read_text())
    mounted = {v["secret"]["secretName"] for c in by_kind("CronJob")
               for v in c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
               if "secret" in v}
    assert mounted == {example["metadata"]["name"]}
    assert "example value" in secret_problem(example["stringData"]["cron-secret"].encode())


def test_no_credential_url_is_in_the_configmap():
    """A job's ping_url and the alert webhook are credentials: the view role reads a
    ConfigMap, so they belong in the Secret (mounted as ping-urls_NAME)."""
    (configmap,) = by_kind("ConfigMap")
    config = tomllib.loads(configmap["data"]["config.toml"])
    assert "webhook_url" not in config.get("alerts", {})
    assert [name for name, job in config["jobs"].items() if "ping_url" in job] == []
    text = (REPO / "deploy" / "kubernetes" / "cronjob-sla-check.yaml").read_text()
    assert "/run/credentials/ticketing-cron/ping-urls_sla-check" in text
