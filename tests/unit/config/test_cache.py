"""The timers' cache of config.toml's parse: used only while the file is unchanged and
the cache is this user's own; anything hostile or stale is ignored for the file."""

import json
import os

import pytest

from ticketing_cron.base.errors import ConfigError
from ticketing_cron.config import cache
from ticketing_cron.config.load import load_config

GOOD = 'base_url = "https://tickets.acme.test"'
EVIL = "https://attacker.evil.test"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A config file and a cache directory (0700, this user's); a file changed just
    now counts as settled."""
    monkeypatch.setattr(cache, "SETTLE_S", 0)
    config = tmp_path / "config.toml"
    config.write_text(f"[api]\n{GOOD}\n")
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    return config, cache_dir


def load(config, cache_dir):
    return load_config(str(config), cache_dir=str(cache_dir))


def plant(config, cache_dir, base_url=EVIL, **changes):
    """A cache entry for the config as it is now, but saying base_url is ``base_url``:
    what a run gets if it trusts the entry."""
    entry = {**cache.envelope(str(config), cache.identity(str(config))),
             "data": {"api": {"base_url": base_url}}, **changes}
    path = cache_dir / cache.CACHE_FILE
    path.write_text(json.dumps(entry))
    path.chmod(0o600)
    return path


def test_a_kept_parse_is_used_while_the_file_is_unchanged(setup):
    config, cache_dir = setup
    first = load(config, cache_dir)
    assert first.api.base_url == "https://tickets.acme.test"
    entry = json.loads((cache_dir / cache.CACHE_FILE).read_text())
    assert entry["data"] == {"api": {"base_url": "https://tickets.acme.test"}}
    assert oct((cache_dir / cache.CACHE_FILE).stat().st_mode & 0o777) == "0o600"
    # The entry, not the file, is what the next run reads (planted with the identity).
    plant(config, cache_dir, base_url="https://kept.acme.test")
    assert load(config, cache_dir).api.base_url == "https://kept.acme.test"
    assert load(config, cache_dir) == load_config(str(config))._replace(
        api=first.api._replace(base_url="https://kept.acme.test"))


def test_a_file_edited_in_place_with_its_times_put_back_is_read_again(setup):
    config, cache_dir = setup
    load(config, cache_dir)
    before = config.stat()
    config.write_text(f"[api]\n{GOOD.replace('tickets', 'service')}\n")  # same size
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert config.stat().st_size == before.st_size
    assert load(config, cache_dir).api.base_url == "https://service.acme.test"


def test_a_replaced_file_is_read_again(setup):
    config, cache_dir = setup
    load(config, cache_dir)
    new = config.with_name("new.toml")
    new.write_text('[api]\nbase_url = "https://other.acme.test"\n')
    new.rename(config)
    assert load(config, cache_dir).api.base_url == "https://other.acme.test"
    assert load(config, cache_dir).api.base_url == "https://other.acme.test"


def test_a_stale_entry_is_ignored(setup):
    config, cache_dir = setup
    stale = cache.identity(str(config))
    stale[3] -= 10**9  # the file's modification time of an older version
    plant(config, cache_dir, identity=stale)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


@pytest.mark.parametrize("changes", [{"path": "/etc/ticketing-cron/other.toml"},
                                     {"version": "0.0.1"}, {"format": 0}, {"extra": 1}])
def test_an_entry_for_another_file_version_or_format_is_ignored(setup, changes):
    config, cache_dir = setup
    plant(config, cache_dir, **changes)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


def someone_else(path, monkeypatch):
    """Make ``path`` another user's: chown it as root, else be another user."""
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    else:
        monkeypatch.setattr(cache.os, "geteuid", lambda: os.getuid() + 1)


def test_an_entry_owned_by_another_user_is_ignored(setup, monkeypatch):
    config, cache_dir = setup
    someone_else(plant(config, cache_dir), monkeypatch)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


def test_a_directory_owned_by_another_user_is_ignored_and_not_written(setup, monkeypatch):
    config, cache_dir = setup
    plant(config, cache_dir)
    someone_else(cache_dir, monkeypatch)
    (cache_dir / cache.CACHE_FILE).unlink()
    plant(config, cache_dir)
    if os.geteuid() == 0:
        os.chown(cache_dir / cache.CACHE_FILE, 0, 0)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"
    assert json.loads((cache_dir / cache.CACHE_FILE).read_text())["data"]["api"][
        "base_url"] == EVIL  # not replaced either


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_an_entry_others_may_write_is_ignored(setup, mode):
    config, cache_dir = setup
    plant(config, cache_dir).chmod(mode)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o1777])
def test_a_directory_others_may_write_is_ignored(setup, mode):
    config, cache_dir = setup
    plant(config, cache_dir)
    cache_dir.chmod(mode)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


def test_a_symbolic_link_is_not_followed(setup, tmp_path):
    config, cache_dir = setup
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    target = plant(config, elsewhere)
    (cache_dir / cache.CACHE_FILE).symlink_to(target)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


def test_a_hard_link_is_ignored(setup, tmp_path):
    config, cache_dir = setup
    planted = plant(config, cache_dir)
    os.link(planted, tmp_path / "second-name")
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


def test_a_fifo_does_not_block(setup):
    config, cache_dir = setup
    os.mkfifo(cache_dir / cache.CACHE_FILE, 0o600)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage", b"[1, 2]", b'{"data": 3}',
                                     b"[" * 100_000, b'{"format": 1, "data": {}}',
                                     b" " * (cache.MAX_BYTES + 1)],
                         ids=["empty", "binary", "list", "data", "deep", "no-envelope",
                              "huge"])
def test_garbage_is_ignored(setup, content):
    config, cache_dir = setup
    path = cache_dir / cache.CACHE_FILE
    path.write_bytes(content)
    path.chmod(0o600)
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"


def test_a_truncated_entry_is_ignored_and_replaced(setup):
    config, cache_dir = setup
    planted = plant(config, cache_dir)
    planted.write_bytes(planted.read_bytes()[:-20])
    assert load(config, cache_dir).api.base_url == "https://tickets.acme.test"
    assert json.loads(planted.read_text())["data"]["api"]["base_url"] == \
        "https://tickets.acme.test"


def test_a_cached_config_is_validated_again(setup):
    config, cache_dir = setup
    plant(config, cache_dir, base_url="ftp://tickets.acme.test")
    with pytest.raises(ConfigError, match="base_url"):
        load(config, cache_dir)


def test_a_bad_config_is_never_kept(setup):
    config, cache_dir = setup
    config.write_text('[api]\nbase_url = "ftp://x"\n')
    with pytest.raises(ConfigError):
        load(config, cache_dir)
    assert not (cache_dir / cache.CACHE_FILE).exists()


def test_a_missing_config_is_the_usual_error(setup):
    config, cache_dir = setup
    config.unlink()
    with pytest.raises(ConfigError, match="config.toml"):
        load(config, cache_dir)


def test_a_file_changed_within_the_settling_time_is_not_kept(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f"[api]\n{GOOD}\n")
    key = cache.identity(str(config))
    changed = max(key[3], key[4]) / 1e9
    cache.store(str(tmp_path), str(config), key, {"api": {}}, now=changed + 1)
    assert not (tmp_path / cache.CACHE_FILE).exists()
    cache.store(str(tmp_path), str(config), key, {"api": {}}, now=changed + 3)
    assert cache.lookup(str(tmp_path), str(config), key) == {"api": {}}


def test_what_json_cannot_hold_is_not_kept(tmp_path):
    import datetime

    config = tmp_path / "config.toml"
    config.write_text("")
    key = cache.identity(str(config))
    cache.store(str(tmp_path), str(config), key, {"when": datetime.date(2026, 1, 1)},
                now=max(key[3], key[4]) / 1e9 + 3)
    assert os.listdir(tmp_path) == ["config.toml"]


def test_a_directory_reached_through_systemds_link_is_used(setup, tmp_path):
    """A DynamicUser= unit's $CACHE_DIRECTORY is /var/cache/NAME -> private/NAME."""
    config, cache_dir = setup
    link = tmp_path / "link"
    link.symlink_to(cache_dir)
    assert load(config, link).api.base_url == "https://tickets.acme.test"
    assert (cache_dir / cache.CACHE_FILE).exists()
    plant(config, cache_dir, base_url="https://kept.acme.test")
    assert load(config, link).api.base_url == "https://kept.acme.test"
