"""`ticketing-cron import-env` as a subprocess over a table of real-world .env files.

Each good file must leave the config byte for byte as it was apart from base_url's
value (the old one kept as config.toml.bak), the secret in cron-secret (root, 0600),
and the secret in no output. Each bad one must name its problem (and line) and
write nothing at all, as must --dry-run.
"""

import hashlib
import os
import resource
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from support import EXIT, REPO, Cli

OLD_LINE = 'base_url = "https://tickets.example.com"'
# The shipped conffile, as an administrator might have edited it elsewhere.
CONFIG = (REPO / "config.toml.example").read_text().replace(
    "# deadline = 50", "deadline = 40  # edited by hand").replace(
    '# alert_after = 1', 'alert_after = 3')
URL = "https://tickets.acme.test"


@pytest.fixture
def cli(tmp_path):
    """A Cli whose config is a copy of the conffile in a root-only directory."""
    etc = tmp_path / "etc"
    etc.mkdir(mode=0o755)
    c = Cli(etc, "tc-" + secrets.token_urlsafe(24))
    c.config_path.write_text(CONFIG)
    return c


def write_env(cli, data):
    path = cli.tmp.parent / "old-app.env"
    path.write_bytes(data.replace(b"@SECRET@", cli.secret.encode()))
    return path


def snapshot(directory):
    """Every file below directory: content, mode and owner."""
    found = {}
    for top, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(top, name)
            st = os.lstat(path)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = f.read()
            found[os.path.relpath(path, directory)] = (content, st.st_mode, st.st_uid,
                                                       st.st_gid)
    return found


def import_env(cli, env_path, *extra):
    return cli.run("import-env", str(env_path), *extra, verbose=False)


GOOD = {
    "seed": (b"API_BASE_URL=https://tickets.acme.test\nCRON_SECRET=@SECRET@\n"
             b"NODE_ENV=production\nLOG_LEVEL=info\n", URL),
    "seed-loopback": (b"API_BASE_URL=http://localhost:3000\nCRON_SECRET=@SECRET@\n"
                      b"NODE_ENV=production\nLOG_LEVEL=info\n", "http://localhost:3000"),
    "windows-crlf-bom": (b"\xef\xbb\xbf# cron app settings\r\nAPI_BASE_URL=https://tickets.acme"
                         b".test\r\nCRON_SECRET=@SECRET@\r\nNODE_ENV=production\r\n", URL),
    "double-quotes": (b'API_BASE_URL="https://tickets.acme.test"\n'
                      b'CRON_SECRET="@SECRET@"   # must match the app\n', URL),
    "single-quotes": (b"API_BASE_URL='https://tickets.acme.test'\nCRON_SECRET='@SECRET@'\n", URL),
    "backticks": (b"API_BASE_URL=https://tickets.acme.test\nCRON_SECRET=`@SECRET@`\n", URL),
    "export": (b"export API_BASE_URL=https://tickets.acme.test\nexport CRON_SECRET=@SECRET@\n",
               URL),
    "duplicates-last-wins": (b"API_BASE_URL=http://localhost:3000\nCRON_SECRET=old-dev-secret\n"
                             b"\n# production\nAPI_BASE_URL=https://tickets.acme.test\n"
                             b"CRON_SECRET=@SECRET@\n", URL),
    "inline-comments-spaces": (b"  API_BASE_URL = https://tickets.acme.test/   # prod\n\n"
                               b"\tCRON_SECRET =\t@SECRET@\t# shared\n", URL),
    "escapes-and-multiline-elsewhere": (
        b'GREETING="say \\"hi\\"\\n"\nKEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\n'
        b'API_BASE_URL="https://tickets.acme.test/tickets"\nCRON_SECRET="@SECRET@"\n',
        URL + "/tickets"),
}


@pytest.mark.parametrize("name", GOOD)
def test_good_env_files(cli, name):
    data, url = GOOD[name]
    env = write_env(cli, data)
    result = import_env(cli, env)
    assert result.status == 0, result.stderr
    etc = cli.config_path.parent
    assert cli.config_path.read_bytes() == CONFIG.replace(
        OLD_LINE, f'base_url = "{url}"').encode()
    assert (etc / "config.toml.bak").read_bytes() == CONFIG.encode()
    secret_file = etc / "cron-secret"
    assert secret_file.read_bytes() == cli.secret.encode() + b"\n"
    st = secret_file.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o600, 0, 0)
    assert sorted(os.listdir(etc)) == ["config.toml", "config.toml.bak", "cron-secret"]
    # It ended with check, on exactly what it wrote.
    assert f"config {cli.config_path}: ok" in result.stdout
    assert f"secret {secret_file}: ok ({len(cli.secret)} characters)" in result.stdout
    assert "pm2 delete ticketing-cron && pm2 save" in result.stdout
    # The secret is named by length and SHA-256 prefix only (Cli.run checked it leaked nowhere).
    assert hashlib.sha256(cli.secret.encode()).hexdigest()[:12] in result.stdout


def test_other_variables_are_listed_not_imported(cli):
    env = write_env(cli, b"API_BASE_URL=https://tickets.acme.test\nCRON_SECRET=@SECRET@\n"
                         b"NODE_ENV=production\nLOG_LEVEL=debug\n"
                         b"DATABASE_URL=postgres://u:pw@db/x\n")
    result = import_env(cli, env)
    assert result.status == 0
    out = result.stdout
    assert "NODE_ENV (line 3): not imported; ticketing-cron has no modes" in out
    assert "LOG_LEVEL (line 4): not imported; every run writes one record to the journal; " \
           "`ticketing-cron -v` adds debug detail and `journalctl -u ticketing-cron -p err`" in out
    assert "DATABASE_URL (line 5): not imported; ticketing-cron has no equivalent" in out
    assert "pw@db" not in out + result.stderr, "another variable's value was printed"


BAD = {
    "missing-url": (b"CRON_SECRET=@SECRET@\nNODE_ENV=production\n",
                    "API_BASE_URL: missing; it must hold the app's address"),
    "missing-secret": (b"API_BASE_URL=https://tickets.acme.test\nLOG_LEVEL=info\n",
                       "CRON_SECRET: missing"),
    "missing-both": (b"NODE_ENV=production\n", "2 problems"),
    # The advice drops the development port: :3000 is rarely the one serving TLS.
    "http-remote": (b"API_BASE_URL=http://tickets.acme.test:3000\nCRON_SECRET=@SECRET@\n",
                    "in clear text; use the https:// address, such as "
                    "https://tickets.acme.test; nothing was written"),
    "http-remote-ip": (b"CRON_SECRET=@SECRET@\nAPI_BASE_URL=http://192.0.2.7\n",
                       "line 2: API_BASE_URL: http:// is only allowed to a loopback host "
                       "(localhost, 127.0.0.1, ::1), so that the secret never crosses a network "
                       "in clear text; use the https:// address, such as https://192.0.2.7"),
    "malformed-line": (b"API_BASE_URL=https://tickets.acme.test\n# ok\nCRON_SECRET @SECRET@\n",
                       "line 3: CRON_SECRET: expected '=' after the name"),
    "unclosed-quote": (b"API_BASE_URL=https://tickets.acme.test\nCRON_SECRET=\"@SECRET@\n",
                       'line 2: CRON_SECRET: the opening " is never closed'),
    "junk-after-quote": (b"CRON_SECRET='@SECRET@' x\nAPI_BASE_URL=https://tickets.acme.test\n",
                         "line 1: CRON_SECRET: unexpected text after the closing quote"),
    "secret-with-space": (b"API_BASE_URL=https://tickets.acme.test\nCRON_SECRET='@SECRET@ x'\n",
                          "line 2: CRON_SECRET: holds whitespace"),
    "secret-empty": (b"API_BASE_URL=https://tickets.acme.test\nCRON_SECRET=\n",
                     "line 2: CRON_SECRET: is empty"),
    "secret-escaped": (b'API_BASE_URL=https://tickets.acme.test\nCRON_SECRET="@SECRET@\\\\x"\n',
                       "line 2: CRON_SECRET: holds backslash escapes in double quotes"),
    "not-utf8": (b"API_BASE_URL=https://tickets.acme.test\r\nCRON_SECRET=@SECRET@\xff\r\n",
                 "line 2: not UTF-8 text"),
    "placeholder": (b"API_BASE_URL=https://your-app.example.com\nCRON_SECRET=@SECRET@\n",
                    "is the example placeholder"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_env_files_write_nothing(cli, name):
    data, expected = BAD[name]
    env = write_env(cli, data)
    before = snapshot(cli.tmp.parent)
    result = import_env(cli, env)
    assert result.status == EXIT["config"], result.stderr
    assert expected in result.stderr, result.stderr
    assert "nothing was written" in result.stderr or "line" in result.stderr
    assert snapshot(cli.tmp.parent) == before, "a refused import wrote something"
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unreadable_paths(cli, tmp_path):
    fifo = tmp_path / "fifo.env"
    os.mkfifo(fifo)
    big = tmp_path / "big.env"
    big.write_bytes(b"#" * (64 * 1024 + 1))
    cases = [(tmp_path / "missing.env", "no such file"), (tmp_path, "not a regular file"),
             (fifo, "not a regular file"), (big, "larger than 64 KiB")]
    before = snapshot(tmp_path)
    for path, expected in cases:
        result = import_env(cli, path)
        assert result.status == EXIT["config"] and expected in result.stderr, result.stderr
        assert result.stderr.startswith(f"ticketing-cron: err: .env {path}: ")
    assert snapshot(tmp_path) == before


def test_a_missing_or_broken_config_is_refused_before_writing(cli):
    env = write_env(cli, GOOD["seed"][0])
    cli.config_path.unlink()
    result = import_env(cli, env)
    assert result.status == EXIT["config"] and "no such file" in result.stderr
    cli.config_path.write_text("[api\nbase_url = 1\n")
    before = snapshot(cli.tmp)
    result = import_env(cli, env)
    assert result.status == EXIT["config"] and "not a valid TOML file" in result.stderr
    assert snapshot(cli.tmp) == before


def test_dry_run_writes_nothing(cli):
    env = write_env(cli, GOOD["windows-crlf-bom"][0])
    (cli.tmp / "cron-secret").write_bytes(b"older-secret\n")
    before = snapshot(cli.tmp.parent)
    result = import_env(cli, env, "--dry-run")
    assert result.status == 0, result.stderr
    assert snapshot(cli.tmp.parent) == before
    assert f"replacing it with {URL} (was https://tickets.example.com)" in result.stdout
    assert "replacing the existing secret (12 characters, sha256 " in result.stdout
    assert "older-secret" not in result.stdout
    digest = hashlib.sha256(env.read_bytes()).hexdigest()
    assert result.stdout.endswith(
        f"dry run: nothing was written; to import exactly this content: ticketing-cron "
        f"import-env --expect-sha256 {digest} {env}\n")


def test_the_import_takes_exactly_what_the_dry_run_showed(cli):
    """The .env's owner may change it between the review and the import: with the
    digest the dry run printed, a changed file is refused, an unchanged one imported."""
    env = write_env(cli, GOOD["seed"][0])
    dry = import_env(cli, env, "--dry-run")
    digest = dry.stdout.split("--expect-sha256 ")[1].split()[0]
    env.write_bytes(env.read_bytes().replace(b"tickets.acme.test", b"evil.acme.test"))
    before = snapshot(cli.tmp)
    result = import_env(cli, env, "--expect-sha256", digest)
    assert result.status == EXIT["config"]
    assert f"changed since it was reviewed (sha256 {hashlib.sha256(env.read_bytes()).hexdigest()}" \
        in result.stderr
    assert "evil" not in result.stderr
    assert snapshot(cli.tmp) == before
    env.write_bytes(GOOD["seed"][0].replace(b"@SECRET@", cli.secret.encode()))
    result = import_env(cli, env, "--expect-sha256", digest)
    assert result.status == 0, result.stderr
    assert f'base_url = "{URL}"' in cli.config_path.read_text()


def test_a_symbolic_link_is_not_followed(cli, tmp_path):
    """Pointed at a file only root may read, a link made root show that file's names
    and values' fingerprints; now nothing of it is read."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    target = private / "other-app.env"
    target.write_bytes(b"API_BASE_URL=https://secret-host.acme.test\nCRON_SECRET=" +
                       b"x" * 40 + b"\nDB_PASSWORD=hunter2hunter2\n")
    target.chmod(0o600)
    link = cli.tmp.parent / "link.env"
    link.symlink_to(target)
    linked_dir = cli.tmp.parent / "linked-dir"
    linked_dir.symlink_to(private)
    before = snapshot(cli.tmp)
    for path in (link, linked_dir / "other-app.env"):
        for extra in ((), ("--dry-run",)):
            result = import_env(cli, path, *extra)
            assert result.status == EXIT["config"], result.stdout
            assert f".env {path}: the path goes through a symbolic link (to {target})" \
                in result.stderr
            assert "secret-host" not in result.stdout + result.stderr
            assert "DB_PASSWORD" not in result.stdout + result.stderr
            assert result.stdout == ""
    assert snapshot(cli.tmp) == before


def test_a_file_others_can_change_or_with_other_names_is_refused(cli, tmp_path):
    env = write_env(cli, GOOD["seed"][0])
    for mode in (0o620, 0o602, 0o666):
        env.chmod(mode)
        result = import_env(cli, env, "--dry-run")
        assert result.status == EXIT["config"]
        assert f"writable by others than its owner (mode {mode:04o})" in result.stderr
    env.chmod(0o600)
    second = tmp_path / "second-name.env"
    os.link(env, second)
    result = import_env(cli, env, "--dry-run")
    assert result.status == EXIT["config"] and "has other names (hard links)" in result.stderr
    second.unlink()
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    moved = open_dir / "app.env"
    os.rename(env, moved)
    result = import_env(cli, moved, "--dry-run")
    assert result.status == EXIT["config"]
    assert "its directory is writable by every user (mode 0777)" in result.stderr
    open_dir.chmod(0o1777)  # sticky, as /tmp: only the file's owner may replace it
    assert import_env(cli, moved, "--dry-run").status == 0


def test_unchanged_values_leave_the_files_alone(cli):
    env = write_env(cli, GOOD["seed"][0])
    assert import_env(cli, env).status == 0
    (cli.tmp / "config.toml.bak").unlink()
    before = snapshot(cli.tmp)
    result = import_env(cli, env)
    assert result.status == 0
    assert f"api.base_url in {cli.config_path}: unchanged ({URL})" in result.stdout
    assert "cron-secret: unchanged (" in result.stdout
    assert snapshot(cli.tmp)["config.toml"] == before["config.toml"]
    assert not (cli.tmp / "config.toml.bak").exists()


def test_a_different_secret_is_replaced_after_saying_so(cli):
    old = "tc-old-" + secrets.token_hex(8)
    (cli.tmp / "cron-secret").write_bytes(old.encode() + b"\n")
    env = write_env(cli, GOOD["seed"][0])
    result = import_env(cli, env)
    assert result.status == 0
    assert f"cron-secret: replacing the existing secret ({len(old)} characters" in result.stdout
    assert old not in result.stdout + result.stderr
    assert (cli.tmp / "cron-secret").read_bytes() == cli.secret.encode() + b"\n"


def test_the_config_keeps_its_mode_and_owner(cli):
    os.chown(cli.config_path, 0, 4)
    os.chmod(cli.config_path, 0o640)
    env = write_env(cli, GOOD["seed"][0])
    assert import_env(cli, env).status == 0
    for name in ("config.toml", "config.toml.bak"):
        st = (cli.tmp / name).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 0, 4), name


def test_a_full_disk_leaves_the_old_files(cli):
    """A file size limit makes the writes fail (EFBIG) like a full disk (ENOSPC)."""
    (cli.tmp / "cron-secret").write_bytes(b"older-secret\n")
    env = write_env(cli, GOOD["seed"][0])
    before = snapshot(cli.tmp)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
    proc = subprocess.run(cli.argv("import-env", str(env), verbose=False), env=cli.env(),
                          capture_output=True, text=True, preexec_fn=limit, timeout=60)
    result = cli.result(proc.returncode, proc.stdout, proc.stderr)
    assert result.status == EXIT["config"], result.stderr
    assert "File too large; nothing was replaced" in result.stderr, result.stderr
    assert snapshot(cli.tmp) == before, "a failed write left a partial or temporary file"


def test_the_import_ends_with_check_and_its_status(cli):
    cli.config_path.write_text(CONFIG.replace("alert_after = 3", "alert_after = 0"))
    env = write_env(cli, GOOD["seed"][0])
    result = import_env(cli, env)
    assert result.status == EXIT["config"]
    assert "alerts.alert_after: must be a whole number" in result.stderr
    assert (cli.tmp / "cron-secret").exists(), "the import itself was done"
    assert "next: fix what check reports" in result.stdout


def test_a_directory_others_can_write_is_refused(cli):
    os.chmod(cli.tmp, 0o777)
    env = write_env(cli, GOOD["seed"][0])
    before = snapshot(cli.tmp)
    result = import_env(cli, env)
    assert result.status == EXIT["config"]
    assert "mode 0777; the secret goes only into a directory that only root can change" \
        in result.stderr
    assert snapshot(cli.tmp) == before


def test_encrypt_needs_the_service_config_directory(cli):
    env = write_env(cli, GOOD["seed"][0])
    before = snapshot(cli.tmp)
    result = import_env(cli, env, "--encrypt")
    assert result.status == EXIT["config"]
    assert "--encrypt installs the credential and the drop-in for ticketing-cron.service" \
        in result.stderr
    assert snapshot(cli.tmp) == before


def test_import_env_costs_the_every_minute_run_nothing():
    """`run` must not import the import-env modules."""
    code = ("import sys, ticketing_cron.cli, ticketing_cron.run.runner; "
            "print(sorted(m for m in sys.modules if m.startswith('ticketing_cron')))")
    out = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO)}, check=True).stdout
    assert "'ticketing_cron.run.runner'" in out, out
    for module in ("migrate", "config.credential"):
        assert f"'ticketing_cron.{module}" not in out, out


def test_only_root_may_write_but_anyone_may_look(cli):
    """As another user: --dry-run works, the import itself is refused, nothing written."""
    top = tempfile.mkdtemp(prefix="tc-import-env-", dir="/var/tmp")
    try:
        os.chmod(top, 0o755)
        etc = os.path.join(top, "etc")
        shutil.copytree(cli.tmp, etc)
        os.chmod(etc, 0o755)
        other = Cli(Path(etc), cli.secret)
        env = Path(top) / "old-app.env"
        env.write_bytes(GOOD["seed"][0].replace(b"@SECRET@", cli.secret.encode()))
        env.chmod(0o644)
        # nobody may not enter the checkout or a throwaway venv (mktemp -d is 0700):
        # run a world-readable copy of the package on Debian's python3.
        shutil.copytree(REPO / "ticketing_cron", os.path.join(top, "lib", "ticketing_cron"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        os.chmod(os.path.join(top, "lib"), 0o755)
        nobody_env = dict(other.env(), PYTHONPATH=os.path.join(top, "lib"))

        before = snapshot(top)

        def nobody_argv(*args):
            return ["/usr/bin/python3", *other.argv(*args, verbose=False)[1:]]

        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
        for extra, status in ((("--dry-run",), 0), ((), EXIT["config"])):
            proc = subprocess.run(nobody_argv("import-env", str(env), *extra),
                                  env=nobody_env, capture_output=True, text=True,
                                  preexec_fn=as_nobody, timeout=60)
            result = other.result(proc.returncode, proc.stdout, proc.stderr)
            assert result.status == status, result.stderr
        assert "import-env writes root-owned files: run it as root" in result.stderr
        assert snapshot(top) == before
        env.chmod(0o600)
        proc = subprocess.run(nobody_argv("import-env", str(env), "--dry-run"),
                              env=nobody_env, capture_output=True, text=True,
                              preexec_fn=as_nobody, timeout=60)
        result = other.result(proc.returncode, proc.stdout, proc.stderr)
        assert result.status == EXIT["config"]
        assert result.stderr == f"ticketing-cron: err: .env {env}: permission denied; " \
                                "run as root\n"
    finally:
        shutil.rmtree(top)
