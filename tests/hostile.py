"""Helpers for hostile-transport tests: compression bombs, raw replies, a private
resolver, certificates for other names, and measured runs with a memory ceiling."""

import os
import random
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

from support import REPO, openssl

RESOLVER = REPO / "tests" / "private_resolver.py"
# A ceiling on the child's address space, so that a regression inflating a bomb
# fails the test with MemoryError instead of exhausting the machine.
ADDRESS_SPACE_LIMIT = 1024 * 1024 * 1024


def gzip_of_zeros(size_mib):
    """A gzip member of size_mib MiB of zero bytes, made without compressing them all:
    after a full flush, deflate encodes each further MiB of zeros in the same bytes."""
    chunk = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeated = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size_mib):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (size_mib << 20) & 0xFFFFFFFF)
    return header + first + repeated * (size_mib - 1) + deflate.flush() + trailer


def encode(data, encodings):
    """Apply Content-Encodings in the order listed (the header's order)."""
    for name in encodings:
        if name == "gzip":
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            data = packer.compress(data) + packer.flush()
        elif name == "deflate":
            data = zlib.compress(data, 9)
        else:
            raise ValueError(name)
    return data


def raw_reply(head, body=b""):
    """A respond function writing exactly these bytes (status line and headers without
    the final blank line, then the body), then closing the connection."""
    def respond(handler, request):
        handler.close_connection = True
        handler.wfile.write(head + b"\r\nConnection: close\r\n\r\n" + body)
        handler.wfile.flush()
    return respond


def run_limited(cli, *args, env=None, timeout=60):
    """Run the CLI with an address-space ceiling; a checked Result with maxrss_kib."""
    status, out, err, maxrss = measured([*cli.argv(*args)], cli.env(env), timeout)
    return cli.result(status, out, err, maxrss)


def measured(argv, env, timeout=60):
    """Run argv under ADDRESS_SPACE_LIMIT; return (status, stdout, stderr, peak RSS KiB)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, preexec_fn=limit)
    output = {}
    threads = [threading.Thread(target=lambda n=n, s=s: output.__setitem__(n, s.read()))
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{argv} did not finish in {timeout} s")
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, output["out"], output["err"], usage.ru_maxrss


WEBHOOK_SCRIPT = """\
import sys
from ticketing_cron.alerts import channels
from ticketing_cron.base.errors import CronError
try:
    channels.send_webhook(sys.argv[1], {"text": "test alert"}, ca_file=sys.argv[2] or None)
    print("ok")
except CronError as e:
    print(e.outcome + ": " + e.message)
"""


def webhook_argv(url, ca_file=None):
    """argv of a Python process that calls channels.send_webhook once and prints
    'ok' or 'OUTCOME: message'."""
    return [sys.executable, "-c", WEBHOOK_SCRIPT, url, str(ca_file or "")]


def loopback_nameserver():
    """A random 127.x.y.z address for a private DNS server (not .0.0.1 or .0.0.53)."""
    return f"127.{random.randint(64, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"


def with_resolver(argv, isolated=False, silent=False, a=(), aaaa=()):
    """argv run in a private mount namespace whose resolver is private_resolver.py's
    DNS server; isolated: also in a network namespace of loopback only, where nothing
    outside this machine can be reached."""
    wrapper = ["unshare", "-m", *(["-n"] if isolated else []), sys.executable,
               str(RESOLVER), "--nameserver", loopback_nameserver()]
    wrapper += ["--isolated"] * isolated + ["--silent"] * silent
    for address in a:
        wrapper += ["--a", address]
    for address in aaaa:
        wrapper += ["--aaaa", address]
    return [*wrapper, "--", *argv]


def run_with_resolver(cli, *args, env=None, timeout=60, **resolver):
    """Run the CLI under with_resolver(); return (checked Result, seconds it took)."""
    started = time.monotonic()
    proc = subprocess.Popen(with_resolver(cli.argv(*args), **resolver), env=cli.env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    result = cli.finish(proc, timeout)
    return result, time.monotonic() - started


def cert_for_name(pki, name, directory):
    """(cert, key) paths of a server certificate for DNS name ``name`` only, signed by
    the pki's CA."""
    ca_dir = pki.ca_cert.parent
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
            f"/CN={name}", cwd=directory)
    (directory / f"{name}.cnf").write_text(f"subjectAltName=DNS:{name}\n"
                                           "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(pki.ca_cert), "-CAkey",
            str(ca_dir / "ca.key"), "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
            "-extfile", f"{name}.cnf", cwd=directory)
    return directory / f"{name}.pem", directory / f"{name}.key"


def free_port_listener(host, port):
    """A listening socket on (host, port); returns (socket, list of peers that connected)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(8)
    sock.settimeout(0.2)
    peers = []

    def accept():
        while sock.fileno() != -1:
            try:
                conn, peer = sock.accept()
            except OSError:
                continue
            peers.append(peer)
            conn.close()
    threading.Thread(target=accept, daemon=True).start()
    return sock, peers
