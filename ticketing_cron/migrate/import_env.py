"""`ticketing-cron import-env`: move the old Node.js app's .env into ticketing-cron.

API_BASE_URL becomes api.base_url in the config (nothing else in it changes) and
CRON_SECRET the secret file (or, with --encrypt, a systemd-creds credential and the
drop-in that loads it). Everything is read and validated before anything is written;
each file is replaced atomically; the secret is never printed, only its length and
the start of its SHA-256.
"""

import os
import stat

from ticketing_cron.base import atomic
from ticketing_cron.config.urls import validate_base_url
from ticketing_cron.migrate.config_edit import set_base_url, tomllib
from ticketing_cron.config.credential import (DROPIN_PATHS, DROPIN_TEXT, SERVICE_CONFIG_DIR,
                                              check_through_service,
                                             encrypt_secret, run)
from ticketing_cron.migrate.envfile import content_digest, parse_envfile, read_env_bytes
from ticketing_cron.base.errors import ConfigError, CronError, unreadable
from ticketing_cron.config.secret import MAX_SECRET_BYTES, fingerprint, secret_problem

REPLACED_BY = {
    "LOG_LEVEL": "every run writes one record to the journal; `ticketing-cron -v` adds "
                 "debug detail and `journalctl -u ticketing-cron -p err` shows failures only",
    "NODE_ENV": "ticketing-cron has no modes; nothing replaces it",
}


def import_env(env_path, config_path, encrypt, dry_run, out, err, expect_sha256=None):
    """Import the .env at env_path; see the module docstring.

    Args:
        env_path: the old app's .env file.
        config_path: the config file whose api.base_url is set.
        encrypt: store the secret with systemd-creds and install the drop-in.
        dry_run: print what would change, write nothing.
        out, err: text streams.
        expect_sha256: the .env's content digest that a dry run printed: the import
            is refused if the file changed since (its owner may change it).
    Returns:
        The exit status: 0, or check's status after the import.
    Raises:
        ConfigError for any problem found before writing, or a failed write.
    """
    data = read_env_bytes(env_path)
    digest = content_digest(data)
    if expect_sha256 is not None and expect_sha256.lower() != digest:
        raise ConfigError(f".env {env_path}: changed since it was reviewed (sha256 {digest}, "
                          f"not the expected {expect_sha256[:64]}); nothing was written: "
                          f"run --dry-run again and review it")
    entries = parse_envfile(data, f".env {env_path}")
    url, secret = imported_values(entries, f".env {env_path}")
    config_dir = os.path.dirname(os.path.abspath(config_path))
    secret_path = os.path.join(config_dir, "cron-secret")
    cred_path = secret_path + ".cred"
    if encrypt and config_dir != SERVICE_CONFIG_DIR:
        raise ConfigError(f"--encrypt installs the credential and the drop-in for "
                        f"ticketing-cron.service, which reads {SERVICE_CONFIG_DIR}; it cannot "
                        f"be combined with --config outside it")
    installed = [p for p in DROPIN_PATHS if os.path.exists(p)]
    if not encrypt and config_dir == SERVICE_CONFIG_DIR and installed:
        raise ConfigError(f"the service reads the encrypted {cred_path} ({installed[0]} "
                        f"is installed), so a plain {secret_path} would not be used: import "
                        f"with --encrypt, or remove the drop-in first; nothing was written")
    old_bytes, config_stat = read_config(config_path)
    new_bytes = plan_config(old_bytes, config_path, url, entries, out)
    old_secret = read_old_secret(secret_path)
    plan_secret(secret, old_secret, secret_path, cred_path, encrypt, entries, out)
    if config_dir != SERVICE_CONFIG_DIR:
        out.write(f"note: ticketing-cron.service reads {SERVICE_CONFIG_DIR}; this config and "
                  f"secret are for runs with --config {config_path}\n")
    for name, entry in entries.items():
        if name not in ("API_BASE_URL", "CRON_SECRET"):
            why = REPLACED_BY.get(name, "ticketing-cron has no equivalent")
            out.write(f"{name} (line {entry.line}): not imported; {why}\n")
    if dry_run:
        out.write(f"dry run: nothing was written; to import exactly this content: "
                  f"ticketing-cron import-env --expect-sha256 {digest}"
                  f"{' --encrypt' if encrypt else ''} {env_path}\n")
        return 0
    check_may_write(config_dir)
    write_all(config_path, config_stat, old_bytes, new_bytes, secret, secret_path,
              cred_path, encrypt)
    if encrypt:
        finish_encrypted(old_secret is not None, secret_path, cred_path, out)
    out.flush()
    status = final_check(config_path, config_dir, cred_path, encrypt, out, err)
    out.write(next_steps(status, os.path.abspath(env_path)))
    return status


def imported_values(entries, what):
    """The validated (base_url, secret) from the .env's entries.

    Raises:
        ConfigError listing every problem (never a value).
    """
    problems = []
    url = secret = None
    entry = entries.get("API_BASE_URL")
    if entry is None:
        problems.append(f"{what}: API_BASE_URL: missing; it must hold the app's address, "
                        f"such as API_BASE_URL=https://tickets.yourcompany.com")
    else:
        name = f"{what}: line {entry.line}: API_BASE_URL"
        if not entry.value.strip():
            problems.append(f"{name}: empty; it must hold the app's https:// address")
        else:
            url = validate_base_url(entry.value, name, problems)
    entry = entries.get("CRON_SECRET")
    if entry is None:
        problems.append(f"{what}: CRON_SECRET: missing; it must hold the app's CRON_SECRET")
    else:
        name = f"{what}: line {entry.line}: CRON_SECRET"
        problem = secret_problem(entry.value.encode("utf-8"))
        if problem:
            problems.append(f"{name}: {problem}")
        elif entry.escaped:
            problems.append(f"{name}: holds backslash escapes in double quotes, which "
                            f"Node's dotenv (the old app) leaves as they are and other readers "
                            f"decode; write it in single quotes exactly as the app has it")
        elif not entry.quote and "#" in entry.value:
            problems.append(f"{name}: holds '#' unquoted, which Node's dotenv reads as the "
                            f"start of a comment and older readers do not; write it in single "
                            f"quotes exactly as the app has it")
        else:
            secret = entry.value
    if problems:
        listed = " ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
        message = problems[0] if len(problems) == 1 else f"{len(problems)} problems: {listed}"
        raise ConfigError(message + "; nothing was written", details=problems)
    return url, secret


def read_config(path):
    """The config's bytes and stat.

    Raises:
        ConfigError if it cannot be read.
    """
    try:
        with open(path, "rb") as f:
            return f.read(), os.fstat(f.fileno())
    except OSError as e:
        raise unreadable(f"config {path}", e, "install the package first, or pass "
                         "--config PATH", "run as root") from None


def plan_config(old_bytes, path, url, entries, out):
    """Print what happens to base_url; return the new config bytes (None: unchanged)."""
    line = entries["API_BASE_URL"].line
    try:
        text = old_bytes.decode("utf-8")
        api = tomllib.loads(text).get("api")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: not a valid TOML file ({e}); fix it first, "
                        f"then import again") from None
    current = api.get("base_url") if isinstance(api, dict) else None
    if isinstance(current, str) and current.rstrip("/") == url:
        out.write(f"API_BASE_URL (line {line}) -> api.base_url in {path}: unchanged ({url})\n")
        return None
    new_text = set_base_url(text, url, path)
    was = f"was {current}" if isinstance(current, str) else "not set before"
    out.write(f"API_BASE_URL (line {line}) -> api.base_url in {path}: replacing it with "
              f"{url} ({was}); the old file is kept as {path}.bak\n")
    return new_text.encode("utf-8")


def read_old_secret(path):
    """The plain secret file's current content (one trailing newline stripped), or None."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SECRET_BYTES + 2)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise unreadable(f"secret {path}", e, "", "run as root") from None
    return raw[:-1] if raw.endswith(b"\n") else raw


def plan_secret(secret, old_secret, secret_path, cred_path, encrypt, entries, out):
    """Print what happens to the secret (never the secret)."""
    line = entries["CRON_SECRET"].line
    new = fingerprint(secret)
    if encrypt:
        target, replacing = cred_path, os.path.exists(cred_path)
        detail = "replacing the existing encrypted secret with" if replacing else "new:"
        out.write(f"CRON_SECRET (line {line}) -> {cred_path} (systemd-creds, host key): "
                  f"{detail} {new}\n")
        return target
    if old_secret is None:
        out.write(f"CRON_SECRET (line {line}) -> {secret_path}: new: {new}\n")
    elif old_secret == secret.encode():
        out.write(f"CRON_SECRET (line {line}) -> {secret_path}: unchanged ({new})\n")
    else:
        old = fingerprint(old_secret.decode("ascii", "replace"))
        out.write(f"CRON_SECRET (line {line}) -> {secret_path}: replacing the existing secret "
                  f"({old}) with {new}\n")
    return secret_path


def check_may_write(directory):
    """Refuse to write unless root, into a directory only root can change.

    Raises:
        ConfigError.
    """
    if os.geteuid() != 0:
        raise ConfigError("import-env writes root-owned files: run it as root "
                        "(or see what it would do with --dry-run)")
    try:
        st = os.stat(directory)
    except OSError as e:
        raise unreadable(f"directory {directory}", e, "", "") from None
    if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"{directory}: owned by uid {st.st_uid} with mode "
                        f"{stat.S_IMODE(st.st_mode):04o}; the secret goes only into a "
                        f"directory that only root can change")


def write_all(config_path, config_stat, old_bytes, new_bytes, secret, secret_path, cred_path,
              encrypt):
    """Stage every file completely, then rename them into place.

    Raises:
        ConfigError when a file cannot be written; nothing is then replaced.
    """
    staged = []
    try:
        if new_bytes is not None:
            owner = (config_stat.st_mode, config_stat.st_uid, config_stat.st_gid)
            staged.append(atomic.stage(config_path + ".bak", old_bytes, *owner))
            staged.append(atomic.stage(config_path, new_bytes, *owner))
        if encrypt:
            staged.append(atomic.stage(cred_path, encrypt_secret(secret), 0o600))
            for dropin in DROPIN_PATHS:  # sla-check's service and every other job's
                os.makedirs(os.path.dirname(dropin), mode=0o755, exist_ok=True)
                staged.append(atomic.stage(dropin, DROPIN_TEXT.encode(), 0o644))
        else:
            staged.append(atomic.stage(secret_path, secret.encode() + b"\n", 0o600))
        for file in staged:
            file.commit()
    except OSError as e:
        raise ConfigError(f"cannot write {e.filename or 'a file'}: {e.strerror}; "
                        f"nothing was replaced") from None
    finally:
        for file in staged:
            file.discard()


def finish_encrypted(had_plain, secret_path, cred_path, out):
    """After the credential and the drop-in are in place: shred the plain secret, if
    there was one, and reload systemd.

    Raises:
        ConfigError saying what is left to do by hand.
    """
    try:
        if had_plain:
            run(["shred", "-u", secret_path], "shred the plain secret")
            out.write(f"removed the plain {secret_path} (shred -u): the service now reads "
                      f"{cred_path}\n")
        run(["systemctl", "daemon-reload"], "reload systemd")
    except CronError as e:
        raise ConfigError(f"{cred_path} and {' and '.join(DROPIN_PATHS)} are installed, "
                          f"but: {e.message}; finish by hand (ticketing-cron(8))") from None
    out.write(f"installed {' and '.join(DROPIN_PATHS)} and ran systemctl daemon-reload\n")


def final_check(config_path, config_dir, cred_path, encrypt, out, err):
    """Run `ticketing-cron check` on the result; returns its exit status.

    The plain secret is checked where it was written; the encrypted one as the service
    gets it, through LoadCredentialEncrypted= in a transient unit.
    """
    out.write("\n$ ticketing-cron check\n")
    out.flush()
    if not encrypt:
        from ticketing_cron.check import check
        return check(config_path, out, err, environ={"CREDENTIALS_DIRECTORY": config_dir})
    return check_through_service(config_path, cred_path, out, err)


def next_steps(status, env_path):
    """What the administrator does after the import."""
    if status != 0:
        return ("\nnext: fix what check reports, then run `ticketing-cron check` again; the "
                "old app keeps running meanwhile\n")
    return f"""
next steps:
  1. wait for the next minute and look: journalctl -u ticketing-cron -n 5
     (a good tick reads "sla-check ok: ..."; systemctl list-timers ticketing-cron.timer)
  2. only after that first good tick, stop the old app: pm2 delete ticketing-cron && pm2 save
  3. once you will not roll back, remove the old .env, which holds the secret in
     clear: shred -u {env_path}
"""
