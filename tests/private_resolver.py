#!/usr/bin/python3
"""Run a command with a DNS server of the test's own as the system's only resolver.

Meant to run inside `unshare -m` (and `-n` for a network of loopback only): it starts
a tiny DNS server on a loopback address, bind-mounts a resolv.conf naming it and an
nsswitch.conf of `hosts: files dns` (Debian's default) over /etc's, runs the command
and exits with its status. The mounts vanish with the private mount namespace.

    unshare -m [-n] private_resolver.py --nameserver 127.0.80.9 [--isolated]
        [--silent | --a 127.0.0.1 ... --aaaa ::1 ...] -- COMMAND...

--silent never answers (a resolver that has gone quiet); otherwise every A query is
answered with the --a addresses and every AAAA query with the --aaaa ones.
--isolated brings up the loopback interface of a fresh network namespace.
"""

import argparse
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

TYPE_A, TYPE_AAAA = 1, 28


def answer(query, a, aaaa):
    """The DNS reply to one query: the configured records of the asked type, TTL 0."""
    qid, flags = struct.unpack("!HH", query[:4])
    end = 12
    while query[end]:
        end += 1 + query[end]
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0]
    question = query[12:end + 5]
    family, addresses = {TYPE_A: (socket.AF_INET, a),
                         TYPE_AAAA: (socket.AF_INET6, aaaa)}.get(qtype, (None, ()))
    records = b"".join(
        struct.pack("!HHHIH", 0xC00C, qtype, 1, 0, len(rdata)) + rdata
        for rdata in (socket.inet_pton(family, address) for address in addresses))
    header = struct.pack("!6H", qid, 0x8480 | (flags & 0x0100), 1, len(addresses), 0, 0)
    return header + question + records


def serve(sock, a, aaaa, silent):
    """Answer (or, if silent, swallow) queries until the process ends."""
    while True:
        query, peer = sock.recvfrom(4096)
        if not silent:
            sock.sendto(answer(query, a, aaaa), peer)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nameserver", required=True)
    parser.add_argument("--a", action="append", default=[])
    parser.add_argument("--aaaa", action="append", default=[])
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--isolated", action="store_true")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    if args.isolated:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.nameserver, 53))
    threading.Thread(target=serve, args=(sock, args.a, args.aaaa, args.silent),
                     daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        files = {"resolv.conf": f"nameserver {args.nameserver}\n",
                 "nsswitch.conf": "hosts: files dns\n"}
        for name, text in files.items():
            Path(tmp, name).write_text(text)
            subprocess.run(["mount", "--bind", str(Path(tmp, name)), f"/etc/{name}"],
                           check=True)
        status = subprocess.run(args.command).returncode
        for name in files:
            subprocess.run(["umount", f"/etc/{name}"], check=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
