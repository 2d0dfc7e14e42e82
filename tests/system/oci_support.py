"""The OCI image tests' host side: a small debootstrap base imported into podman, the
image built from the Containerfile and the .deb, and podman's command lines.

No image registry is reachable here, so the base image is made locally: a minbase
tree with only what the package needs (python3, python3-urllib3, python3-systemd),
imported with `podman import`. podman runs with runc and cgroupfs, which is what
works inside this environment (crun and the systemd cgroup manager do not).
"""

import shutil
import subprocess
import time
from pathlib import Path

from harness import REPO, host_env, prerequisite_missing, report, sh

OCI_BASE_PACKAGES = ["python3", "python3-urllib3", "python3-systemd"]
OCI_BASE_MARKER = ".ticketing-cron-oci-base"
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
RUN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
# The image's user (Containerfile's USER): not root, a fixed number for runAsNonRoot.
IMAGE_UID = 10001


def ensure_podman():
    """podman, buildah and runc from Debian, installed with apt-get when missing."""
    missing = [pkg for tool, pkg in (("podman", "podman"), ("buildah", "buildah"),
                                     ("runc", "runc"))
               if not shutil.which(tool, path=host_env()["PATH"])]
    if missing:
        proc = sh(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                  check=False, env=dict(host_env(), DEBIAN_FRONTEND="noninteractive"))
        if proc.returncode != 0:
            prerequisite_missing(f"cannot install {' '.join(missing)}: {proc.stderr[-300:]}")


def oci_base_tree(target, mirror, suite):
    """A minbase tree with OCI_BASE_PACKAGES, made once and kept at ``target``."""
    target = Path(target)
    want = f"{suite} {mirror} {','.join(OCI_BASE_PACKAGES)}\n"
    marker = target / OCI_BASE_MARKER
    if marker.exists() and marker.read_text() == want:
        return target
    partial = target.with_name(target.name + ".partial")
    for path in (target, partial):
        if path.exists():
            shutil.rmtree(path)
    started = time.monotonic()
    sh(["debootstrap", "--variant=minbase", "--include=" + ",".join(OCI_BASE_PACKAGES),
        suite, str(partial), mirror], timeout=1800)
    shutil.rmtree(partial / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (partial / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True)
    (partial / OCI_BASE_MARKER).write_text(want)
    partial.rename(target)
    report(f"debootstrap of the OCI base ({suite}, minbase + python3): "
           f"{time.monotonic() - started:.0f} s")
    return target


def import_base(tree, tag):
    """`podman import` the tree (without its marker) as image ``tag``."""
    tar = subprocess.Popen(["tar", "-C", str(tree), "--exclude=./" + OCI_BASE_MARKER,
                            "-c", "."], stdout=subprocess.PIPE, env=host_env())
    proc = subprocess.run([*PODMAN, "import", "-", tag], stdin=tar.stdout,
                          capture_output=True, text=True, env=host_env(), timeout=600)
    tar.stdout.close()
    tar.wait()
    if proc.returncode != 0:
        raise AssertionError(f"podman import failed: {proc.stderr}")


def build_image(deb, base_tag, tag, context):
    """Build the Containerfile with the .deb as its only input; returns podman's output."""
    context = Path(context)
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    shutil.copy(REPO / "Containerfile", context / "Containerfile")
    shutil.copy(deb, context / Path(deb).name)
    started = time.monotonic()
    proc = sh([*PODMAN, "build", "--pull=never", "--build-arg", f"BASE_IMAGE={base_tag}",
               "--build-arg", f"DEB={Path(deb).name}", "-t", tag, "-f",
               str(context / "Containerfile"), str(context)], timeout=900)
    report(f"podman build of the image from the .deb: {time.monotonic() - started:.0f} s")
    return proc.stdout + proc.stderr


def run_image(tag, args, mounts=(), env=(), extra=(), timeout=120):
    """`podman run --rm` the image on the host's network with a read-only root file
    system; returns the CompletedProcess."""
    argv = [*PODMAN, "run", "--rm", "--network=host", "--read-only", *RUN_LIMITS,
            "--cap-drop=ALL", "--security-opt=no-new-privileges", *extra]
    for source, target, options in mounts:
        argv += ["--mount", f"type=bind,source={source},target={target},{options}"]
    for name, value in env:
        argv += ["--env", f"{name}={value}"]
    return subprocess.run([*argv, tag, *args], capture_output=True, text=True,
                          env=host_env(), timeout=timeout, stdin=subprocess.DEVNULL)


def remove_image(tag):
    """Remove an image; no error if it is gone."""
    subprocess.run([*PODMAN, "rmi", "-f", tag], capture_output=True, env=host_env(),
                   timeout=120)
