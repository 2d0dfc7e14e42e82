"""Test helpers: loopback HTTP(S) servers, a throwaway CA, and the CLI as a subprocess."""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXIT = {"ok": 0, "config": 78, "auth": 77, "unavailable": 69, "timeout": 75,
        "protocol": 76, "bug": 70}


# --- servers -----------------------------------------------------------------------


@dataclass
class Received:
    """One request a test server received."""

    method: str
    path: str
    headers: dict
    body: bytes
    at: float


POLL_INTERVAL_S = 0.01


class LoopbackServer:
    """A threaded HTTP(S) server on loopback whose replies a test scripts.

    ``respond`` is called with the BaseHTTPRequestHandler and the Received request;
    it writes the reply itself (see the reply helpers below).
    """

    def __init__(self, respond, host="127.0.0.1", tls_context=None):
        self.respond = respond
        self.received = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Received(self.command, self.path,
                                   {k.lower(): v for k, v in self.headers.items()}, body,
                                   time.monotonic())
                server.received.append(request)
                server.respond(self, request)

            do_GET = do_POST

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        cls = type("Server", (ThreadingHTTPServer,), {"address_family": family,
                                                      "daemon_threads": True})
        self.httpd = cls((host, 0), Handler)
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.host = host
        self.scheme = "https" if tls_context else "http"
        # shutdown() waits for serve_forever() to look at its flag, which it does once
        # per poll_interval: the default 0.5 s made every test's teardown half a second.
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       kwargs={"poll_interval": POLL_INTERVAL_S})
        self.thread.start()

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler, status, body=b"", headers=()):
    """Write a complete reply with Content-Length."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    handler.send_response(status)
    has_type = any(k.lower() == "content-type" for k, _ in headers)
    if not has_type:
        handler.send_header("Content-Type", "application/json")
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def ok_reply(count=0):
    """A respond function answering like the real app."""
    def respond(handler, request):
        send(handler, 200, {"success": True, "unassignedCount": count,
                            "timestamp": "2024-01-01T00:00:00.000Z", "durationMs": 45})
    return respond


def sequence(*responders):
    """A respond function that uses each responder in turn, then repeats the last."""
    calls = []

    def respond(handler, request):
        responder = responders[min(len(calls), len(responders) - 1)]
        calls.append(1)
        responder(handler, request)
    return respond


def status_reply(status, body=None, headers=()):
    """A respond function answering a fixed status."""
    def respond(handler, request):
        send(handler, status, body if body is not None else {"error": f"status {status}"},
             headers)
    return respond


# --- a throwaway certificate authority -----------------------------------------------


@dataclass
class Pki:
    """A CA and a server certificate for 127.0.0.1, ::1 and localhost, made with openssl."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    self_signed_cert: Path
    self_signed_key: Path

    def context(self, self_signed=False):
        """A server-side TLS context with the CA-signed or the self-signed certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self_signed:
            ctx.load_cert_chain(self.self_signed_cert, self.self_signed_key)
        else:
            ctx.load_cert_chain(self.server_cert, self.server_key)
        return ctx


def openssl(*args, cwd):
    """Run the openssl command in cwd."""
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


# --- the command line as a subprocess ------------------------------------------------


@dataclass
class Result:
    """What a CLI run did."""

    status: int
    stdout: str
    stderr: str
    maxrss_kib: int = 0
    fields: dict = field(default_factory=dict)

    @property
    def summary(self):
        """The summary line (the stderr line that carries OUTCOME=)."""
        lines = [line for line in self.stderr.splitlines() if " OUTCOME=" in line]
        assert len(lines) == 1, f"expected one summary record, got: {self.stderr!r}"
        return lines[0]


def parse_fields(line):
    """The [K=V ...] fields that -v appends to a record line."""
    if not line.endswith("]") or " [" not in line:
        return {}
    inner = line[line.rindex(" [") + 2:-1]
    return dict(part.split("=", 1) for part in inner.split(" ") if "=" in part)


@dataclass
class Cli:
    """Runs ticketing-cron with a config and a credentials directory of its own."""

    tmp: Path
    secret: str

    @property
    def cred_dir(self):
        return self.tmp / "credentials"

    @property
    def config_path(self):
        return self.tmp / "config.toml"

    def write_config(self, text):
        self.config_path.write_text(text)

    def configure(self, base_url, api_extra="", rest=""):
        """A config pointing at base_url with short test timeouts."""
        self.write_config(f'[api]\nbase_url = "{base_url}"\ndeadline = 6\n'
                          f'connect_timeout = 2\nread_timeout = 3\n{api_extra}\n{rest}')

    def write_secret(self, data, mode=0o600):
        """Write the credential as systemd would hand it over: private to its owner."""
        self.cred_dir.mkdir(exist_ok=True)
        path = self.cred_dir / "cron-secret"
        path.write_bytes(data)
        path.chmod(mode)

    def env(self, extra=None):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "PYTHONPATH": str(REPO), "CREDENTIALS_DIRECTORY": str(self.cred_dir)}
        env.update(extra or {})
        return env

    def argv(self, *args, verbose=True):
        return [sys.executable, "-m", "ticketing_cron", "--config", str(self.config_path),
                *(["-v"] if verbose else []), *args]

    def start(self, *args, verbose=True, env=None):
        return subprocess.Popen(self.argv(*args, verbose=verbose), env=self.env(env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)

    def finish(self, proc, timeout=60):
        """Wait for a started run; assert the secret leaked nowhere; parse its record."""
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            raise AssertionError(
                f"ticketing-cron did not finish in {timeout} s: {stderr}") from None
        return self.result(proc.returncode, stdout, stderr)

    def result(self, status, stdout, stderr, maxrss_kib=0):
        """A checked Result: the secret leaked nowhere, no traceback; the record parsed."""
        assert self.secret not in stdout and self.secret not in stderr, "secret leaked"
        assert "Traceback" not in stderr, stderr
        result = Result(status, stdout, stderr, maxrss_kib)
        records = [line for line in stderr.splitlines() if " OUTCOME=" in line]
        if records:
            result.fields = parse_fields(records[-1])
        return result

    def run(self, *args, verbose=True, env=None, timeout=60):
        proc = self.start(*args, verbose=verbose, env=env)
        return self.finish(proc, timeout)

    def run_measured(self, *args, env=None, timeout=60):
        """Like run, also recording the child's peak RSS (KiB) from wait4."""
        proc = self.start(*args, env=env)
        out_chunks = {}

        def drain(name, stream):
            out_chunks[name] = stream.read()
        threads = [threading.Thread(target=drain, args=(n, s)) for n, s in
                   (("out", proc.stdout), ("err", proc.stderr))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("ticketing-cron did not finish")
            time.sleep(0.02)
        for t in threads:
            t.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        return self.result(proc.returncode, out_chunks["out"], out_chunks["err"],
                           rusage.ru_maxrss)


def kill_after(proc, seconds, sig=signal.SIGTERM):
    """Send ``sig`` to proc after ``seconds`` from a background thread."""
    def fire():
        time.sleep(seconds)
        if proc.poll() is None:
            proc.send_signal(sig)
    threading.Thread(target=fire, daemon=True).start()


def make_pki(d):
    """Make a CA, a server certificate it signs, and a self-signed one, in directory d."""
    san = "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=ticketing-cron test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
            cwd=d)
    (d / "ext.cnf").write_text(f"{san}\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    openssl("req", "-x509", *key, "-keyout", "self.key", "-out", "self.pem", "-days", "2",
            "-subj", "/CN=localhost", "-addext", san, cwd=d)
    return Pki(d / "ca.pem", d / "server.pem", d / "server.key", d / "self.pem", d / "self.key")
