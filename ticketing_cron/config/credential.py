"""The encrypted form of the secret: systemd-creds, the service drop-in, and a check
of the credential exactly as the service receives it."""

import os
import subprocess
import sys

from ticketing_cron.base.errors import ConfigError
from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH, DEFAULT_JOB
from ticketing_cron.config.secret import secret_file, secret_problem

SERVICE_CONFIG_DIR = os.path.dirname(DEFAULT_CONFIG_PATH)
# sla-check's ticketing-cron.service, and every other job's ticketing-cron@NAME.service:
# both must read the encrypted secret once the plain file is gone.
SERVICE_DROPIN = "/etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf"
TEMPLATE_DROPIN = "/etc/systemd/system/ticketing-cron@.service.d/encrypted-secret.conf"
DROPIN_PATHS = (SERVICE_DROPIN, TEMPLATE_DROPIN)
EXAMPLE_DROPIN = "/usr/share/doc/ticketing-cron/examples/encrypted-secret.conf"
# The same text as the shipped example (systemd/encrypted-secret.conf; a test keeps
# them equal). Not read from /usr/share/doc: Debian may be installed without it.
DROPIN_TEXT = """\
# Drop-in for every job's service: read the secret from a credential
# encrypted with "systemd-creds encrypt --name=cron-secret" instead of the
# plain /etc/ticketing-cron/cron-secret. Install it as both
# /etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf and
# /etc/systemd/system/ticketing-cron@.service.d/encrypted-secret.conf
# (see ticketing-cron(8)) and run "systemctl daemon-reload".
[Service]
LoadCredential=
LoadCredentialEncrypted=cron-secret:/etc/ticketing-cron/cron-secret.cred
LoadCredential=ping-urls:/etc/ticketing-cron/ping-urls
"""
SUBPROCESS_TIMEOUT_S = 60


def encrypt_secret(secret):
    """The secret encrypted with the host key, through systemd-creds' stdin and stdout
    (never argv, never a plaintext file).

    Raises:
        ConfigError when systemd-creds fails.
    """
    proc = run(["systemd-creds", "encrypt", "--name=cron-secret", "--with-key=host", "-", "-"],
               "encrypt the secret", data=secret.encode() + b"\n")
    if not proc.stdout:
        raise ConfigError("systemd-creds encrypt wrote nothing; nothing was replaced")
    return proc.stdout


def run(argv, what, data=b""):
    """Run a helper program with ``data`` on stdin; return the CompletedProcess.

    Raises:
        ConfigError with its first line of stderr when it fails.
    """
    try:
        proc = subprocess.run(argv, input=data, capture_output=True,
                              timeout=SUBPROCESS_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ConfigError(f"cannot {what} with {argv[0]}: {e}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise ConfigError(f"cannot {what}: {argv[0]} exited {proc.returncode}"
                        f"{': ' + detail[0] if detail else ''}")
    return proc


def check_encrypted(config_path, jobs, out):
    """`check` on the encrypted secret, cron-secret.cred beside the config, for when no
    plain cron-secret is there: decrypted with systemd-creds (root, this host's key)
    and judged like the plain one, and the drop-ins that make every job's service
    read it are checked.

    Args:
        config_path: the config file.
        jobs: the config's job names (the template's drop-in matters when there are
            jobs besides sla-check).
        out: where the good news goes.
    Returns:
        None when there is no encrypted secret either; else (problems, warnings).
    """
    cred = secret_file(config_path) + ".cred"
    if not os.path.exists(cred):
        return None
    problems, warnings = [], []
    if os.path.dirname(os.path.abspath(config_path)) == SERVICE_CONFIG_DIR:
        needed = (SERVICE_DROPIN, TEMPLATE_DROPIN) if set(jobs) - {DEFAULT_JOB} else \
            (SERVICE_DROPIN,)
        for dropin in needed:
            if not os.path.exists(dropin):
                units = "ticketing-cron.service" if dropin == SERVICE_DROPIN else \
                    "every ticketing-cron@JOB.service"
                problems.append(f"secret {cred}: encrypted, but {dropin} is missing, so "
                                f"{units} reads the plain file, which is not there; install it: "
                                f"install -D -m 0644 {EXAMPLE_DROPIN} {dropin} && "
                                f"systemctl daemon-reload")
    try:
        raw = run(["systemd-creds", "decrypt", "--name=cron-secret", cred, "-"],
                  "decrypt the secret").stdout
    except ConfigError as e:
        if os.geteuid() == 0:  # root has the host's key: the credential itself is bad
            problems.append(f"secret {cred}: {e.message}; encrypt it again "
                            f"(ticketing-cron(8), Encrypted secret)")
        else:
            warnings.append(f"secret {cred}: encrypted; not checked, since {e.message} "
                            f"(as root, check can decrypt it)")
        return problems, warnings
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    problem = secret_problem(raw)
    if problem:
        problems.append(f"secret {cred} (decrypted): {problem}; encrypt the right one again "
                        f"(ticketing-cron(8), Encrypted secret)")
    elif not problems:
        out.write(f"secret {cred}: ok (encrypted with systemd-creds, {len(raw)} characters)\n")
    return problems, warnings


def check_through_service(config_path, cred_path, out, err):
    """Run `ticketing-cron check` in a transient unit that gets the secret through
    LoadCredentialEncrypted=, as ticketing-cron.service does; returns its exit status."""
    try:
        proc = subprocess.run(
            ["systemd-run", "--wait", "--pipe", "--quiet", "--collect",
             f"--property=LoadCredentialEncrypted=cron-secret:{cred_path}",
             sys.executable, "-m", "ticketing_cron", "--config", os.path.abspath(config_path),
             "check"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=SUBPROCESS_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ConfigError(f"cannot run check through systemd-run: {e}") from None
    out.write(proc.stdout)
    err.write(proc.stderr)
    return proc.returncode
