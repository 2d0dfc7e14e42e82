"""Fixtures shared by the unit and integration tests."""

import secrets
import subprocess
import sys

import pytest

from support import REPO, Cli, LoopbackServer, make_pki


@pytest.fixture
def serve():
    """serve(respond, host=..., tls=None) -> a running LoopbackServer, closed after the test."""
    servers = []

    def start(respond, host="127.0.0.1", tls=None):
        server = LoopbackServer(respond, host, tls)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A throwaway CA and certificates for loopback, made once per test session."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def cli(tmp_path):
    """A Cli with a fresh random secret (and a trailing newline) in its credentials dir."""
    secret = "tc-" + secrets.token_urlsafe(24)
    c = Cli(tmp_path, secret)
    c.write_secret(secret.encode() + b"\n")
    return c


@pytest.fixture
def standin(tmp_path, cli):
    """dev/standin_api.py on loopback with 3 expired and 2 active requests, knowing
    cli's secret; yields its URL."""
    secret_file = tmp_path / "app-secret"
    secret_file.write_text(cli.secret + "\n")
    proc = subprocess.Popen([sys.executable, str(REPO / "dev/standin_api.py"), "--listen",
                             "127.0.0.1:0", "--db", str(tmp_path / "app.sqlite"),
                             "--secret-file", str(secret_file), "--seed-expired", "3",
                             "--seed-active", "2"], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:")
    yield line.split()[-1]
    proc.terminate()
    proc.wait(timeout=10)
