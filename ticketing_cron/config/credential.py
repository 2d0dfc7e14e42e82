"""The encrypted form of the secret: systemd-creds, the service drop-in, and a check
of the credential exactly as the service receives it."""

import os
import subprocess
import sys

from ticketing_cron.base.errors import ConfigError

DROPIN_PATH = "/etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf"
# The same text as the shipped example (systemd/encrypted-secret.conf; a test keeps
# them equal). Not read from /usr/share/doc: Debian may be installed without it.
DROPIN_TEXT = """\
# Drop-in for ticketing-cron.service: read the secret from a credential
# encrypted with "systemd-creds encrypt --name=cron-secret" instead of the
# plain /etc/ticketing-cron/cron-secret. Install it as
# /etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf
# (see ticketing-cron(8)) and run "systemctl daemon-reload".
[Service]
LoadCredential=
LoadCredentialEncrypted=cron-secret:/etc/ticketing-cron/cron-secret.cred
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
