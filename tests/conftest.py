"""Fixtures shared by the unit and integration tests."""

import secrets

import pytest

from support import Cli, LoopbackServer, make_pki


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
