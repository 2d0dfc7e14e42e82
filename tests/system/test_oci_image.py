"""The OCI image built from the .deb with the Containerfile, run by podman (runc, cgroupfs)
as Kubernetes would run it: non-root, read-only root file system, no capabilities, the
config and the secret mounted read-only as single files (a Secret volume's subPath
mount: a regular root-owned file, group-readable for the pod's fsGroup, mode 0440).

The stand-in API runs on the host's loopback; the container shares the host's network.
"""

import json
import os
import shutil
import uuid

import pytest

from harness import host_release, own_standin, report
from oci_support import (IMAGE_UID, build_image, ensure_podman, import_base, oci_base_tree,
                         remove_image, run_image)

CREDENTIALS = "/run/credentials/ticketing-cron"
CONFIG = "/etc/ticketing-cron/config.toml"


@pytest.fixture(scope="module")
def image(workdir, deb):
    ensure_podman()
    mirror, suite = host_release()
    cached = os.environ.get("TC_OCI_BASE")
    tree = oci_base_tree(cached or workdir / "oci-base", mirror, suite)
    tag = f"localhost/ticketing-cron-test:{uuid.uuid4().hex[:8]}"
    base = tag.replace("ticketing-cron-test", "ticketing-cron-test-base")
    import_base(tree, base)
    try:
        output = build_image(deb, base, tag, workdir / "oci-context")
        # The base has the dependencies: the .deb alone was installed, nothing fetched.
        assert "Get:1 /tmp/deb/ticketing-cron_" in output
        assert "http://" not in output and "https://" not in output
        yield tag
    finally:
        remove_image(tag)
        remove_image(base)


@pytest.fixture(scope="module")
def app(workdir, secret):
    api = own_standin(workdir, "oci-standin", secret)
    yield api
    api.stop()


def secret_file(directory, text):
    """The secret as a Kubernetes Secret volume's subPath mount presents it with
    defaultMode 0440 and fsGroup: a regular file, owner root, group the pod's."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "cron-secret"
    path.write_text(text + "\n")
    os.chown(path, 0, IMAGE_UID)
    path.chmod(0o440)
    return path


def config_file(directory, base_url):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(f'[api]\nbase_url = "{base_url}"\ndeadline = 10\n\n'
                    f'[jobs.sla-check]\npath = "/api/cron/sla-check"\n')
    path.chmod(0o644)
    return path


def mounts(config, secret):
    return [(config, CONFIG, "ro"), (secret, f"{CREDENTIALS}/cron-secret", "ro")]


def json_records(stderr):
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert records, "no JSON log line"
    return records


def test_the_image_runs_as_a_non_root_user_on_a_read_only_root(image):
    proc = run_image(image, [], extra=["--entrypoint", "/usr/bin/id"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == f"uid={IMAGE_UID}(ticketing-cron-run)"
    proc = run_image(image, ["/etc/ticketing-cron/x"], extra=["--entrypoint", "/usr/bin/touch"])
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr


def test_a_successful_job(image, app, workdir, secret):
    app.seed(expired=2)
    config = config_file(workdir / "oci-ok", app.url)
    cred = secret_file(workdir / "oci-ok" / "secret", secret)
    proc = run_image(image, [], mounts(config, cred))
    assert proc.returncode == 0, proc.stderr
    (summary,) = [r for r in json_records(proc.stderr) if "OUTCOME" in r]
    assert summary["OUTCOME"] == "ok" and summary["JOB"] == "sla-check"
    assert summary["UNASSIGNED_COUNT"] == "2" and summary["PRIORITY"] == "6"
    assert summary["IDEMPOTENCY_KEY"].startswith("sla-check:")
    assert secret not in proc.stderr + proc.stdout
    calls = app.calls()
    assert calls[-1]["secret_ok"] and calls[-1]["idempotency_key"] == \
        f'"{summary["IDEMPOTENCY_KEY"]}"'
    report(f"OCI image: successful run, summary {summary['MESSAGE']!r}")


def test_a_failing_job(image, app, workdir):
    config = config_file(workdir / "oci-fail", app.url)
    cred = secret_file(workdir / "oci-fail" / "secret", "not-the-apps-secret-" + "x" * 20)
    proc = run_image(image, [], mounts(config, cred))
    assert proc.returncode == 77, proc.stderr
    (summary,) = [r for r in json_records(proc.stderr) if "OUTCOME" in r]
    assert summary["OUTCOME"] == "auth" and summary["PRIORITY"] == "3"
    assert summary["HTTP_STATUS"] == "401" and summary["EXIT_STATUS"] == "77"


def test_a_secret_volumes_default_layout_is_refused(image, app, workdir, secret):
    """Without subPath a Secret volume presents cron-secret as a symlink into ..data/,
    mode 0644: refused (exit 78), which is why the manifests use subPath and 0440."""
    config = config_file(workdir / "oci-symlink", app.url)
    volume = workdir / "oci-symlink" / "volume"
    if volume.exists():
        shutil.rmtree(volume)
    data = volume / "..2026_11_29_00_00_00.000000001"
    data.mkdir(parents=True)
    (data / "cron-secret").write_text(secret + "\n")
    (data / "cron-secret").chmod(0o644)
    (volume / "..data").symlink_to(data.name)
    (volume / "cron-secret").symlink_to("..data/cron-secret")
    proc = run_image(image, [], [(config, CONFIG, "ro"), (volume, CREDENTIALS, "ro")])
    assert proc.returncode == 78, proc.stderr
    (summary,) = [r for r in json_records(proc.stderr) if "OUTCOME" in r]
    assert summary["OUTCOME"] == "config" and "symlink" in summary["MESSAGE"]
    assert secret not in proc.stderr
