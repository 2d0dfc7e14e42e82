"""`check` on an encrypted secret (cron-secret.cred beside the config, no plain file):
decrypted with the real systemd-creds and judged like the plain one, never advised
back into clear text. systemd-creds makes this host's key
(/var/lib/systemd/credential.secret) on first use, as it does on any server."""

import os
import subprocess
import sys

import pytest

from support import EXIT, ok_reply


def encrypt(secret_bytes, cred, name="cron-secret"):
    subprocess.run(["systemd-creds", "encrypt", f"--name={name}", "--with-key=host", "-",
                    str(cred)], input=secret_bytes, check=True, capture_output=True,
                   timeout=60)
    os.chmod(cred, 0o600)


def check_without_credentials(cli):
    """check as root by hand: no $CREDENTIALS_DIRECTORY, so the files beside the config."""
    proc = subprocess.run([sys.executable, "-m", "ticketing_cron", "--config",
                           str(cli.config_path), "check"],
                          env=cli.env({"CREDENTIALS_DIRECTORY": ""}), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    return cli.result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def server(serve):
    return serve(ok_reply(0))


@pytest.fixture
def encrypted_only(cli, server):
    """A config in the test's directory with its secret only as cron-secret.cred."""
    if os.geteuid() != 0:
        pytest.fail("run the tests as root, as dev/test does")
    cli.configure(server.url)
    return cli.tmp / "cron-secret.cred"


def test_an_encrypted_secret_is_decrypted_and_judged(cli, encrypted_only):
    encrypt(cli.secret.encode() + b"\n", encrypted_only)
    result = check_without_credentials(cli)
    assert result.status == 0, result.stderr
    assert f"secret {encrypted_only}: ok (encrypted with systemd-creds, " \
        f"{len(cli.secret)} characters)" in result.stdout
    assert "install -m 0600" not in result.stdout + result.stderr


def test_a_bad_secret_inside_the_credential_is_refused(cli, encrypted_only):
    encrypt(b"your-secure-random-secret-key-here\n", encrypted_only)
    result = check_without_credentials(cli)
    assert result.status == EXIT["config"]
    assert f"secret {encrypted_only} (decrypted): is an example value" in result.stderr
    assert "install -m 0600" not in result.stderr


@pytest.mark.parametrize("kind", ["garbage", "wrong-name"])
def test_a_credential_that_does_not_decrypt_is_refused(cli, encrypted_only, kind):
    if kind == "garbage":
        encrypted_only.write_bytes(b"not a credential\n")
        encrypted_only.chmod(0o600)
    else:  # made for another name: systemd would refuse it for cron-secret
        encrypt(cli.secret.encode(), encrypted_only, name="other")
    result = check_without_credentials(cli)
    assert result.status == EXIT["config"]
    assert f"secret {encrypted_only}: cannot decrypt the secret: systemd-creds exited" \
        in result.stderr
    assert "encrypt it again" in result.stderr


def test_without_either_file_the_plain_one_is_asked_for(cli, encrypted_only):
    result = check_without_credentials(cli)
    assert result.status == EXIT["config"]
    assert f"secret {cli.tmp / 'cron-secret'}: no such file" in result.stderr
