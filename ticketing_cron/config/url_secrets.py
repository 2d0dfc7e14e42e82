"""The two URLs that are credentials, kept out of the world-readable config.toml.

config.toml is mode 0644 (the run's dynamic user and a non-root `status` read it),
but a job's Healthchecks ping URL lets whoever knows it report success for a dead
host, and the alert webhook lets them post fake alerts. So each may live in a file
that only root reads, beside the config (as cron-secret does), and the file wins
over the config's value:

    webhook-url      alerts.webhook_url: read by the alert handlers, which run as root
    ping-urls/NAME   jobs.NAME.ping_url: the run's dynamic user cannot read it; the
                     units load the directory with LoadCredential=ping-urls:DIR, which
                     gives the run $CREDENTIALS_DIRECTORY/ping-urls_NAME
"""

import os
import stat

WEBHOOK_FILE = "webhook-url"
PING_DIR = "ping-urls"
# The credential name prefix systemd gives each file of the loaded directory.
PING_CREDENTIAL = PING_DIR + "_"
MAX_URL_BYTES = 4096


def beside(config_path, *names):
    """A path beside the config file."""
    return os.path.join(os.path.dirname(config_path) or ".", *names)


def webhook_url_file(config_path):
    """Where the webhook URL is kept (str): webhook-url beside the config."""
    return beside(config_path, WEBHOOK_FILE)


def ping_url_file(config_path, job_name, environ=os.environ):
    """Where a job's ping URL is kept (str): the credential the unit loaded when it
    has a $CREDENTIALS_DIRECTORY, else ping-urls/NAME beside the config."""
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        return os.path.join(credentials, PING_CREDENTIAL + job_name)
    return beside(config_path, PING_DIR, job_name)


def read_url_file(path, problems, warnings=None):
    """The URL held in ``path``, or None when there is no such file.

    Never follows a symbolic link and never puts the file's content in a message.

    Args:
        path: the file.
        problems: gets a line when the file exists but cannot be used.
        warnings: gets a line when other users may read or write the file.
    Returns:
        The URL (str, surrounding white space removed), or None.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as e:
        problems.append(f"{path}: cannot be read ({e.strerror}); it must be a regular "
                        f"file that root can read, not a symbolic link")
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            problems.append(f"{path}: not a regular file")
            return None
        if warnings is not None and st.st_mode & 0o077 and st.st_uid == 0:
            warnings.append(f"{path}: mode {stat.S_IMODE(st.st_mode):04o} lets others read "
                            f"a credential; run: chmod 600 {path}")
        data = os.read(fd, MAX_URL_BYTES + 1)
    finally:
        os.close(fd)
    text = data.decode("utf-8", "replace").strip()
    if len(data) > MAX_URL_BYTES or not text or not text.isprintable():
        problems.append(f"{path}: must hold one URL on one line, at most "
                        f"{MAX_URL_BYTES} bytes")
        return None
    return text


def ping_url_of(job, config_path, environ=os.environ):
    """A job's ping URL: from its file when there is one, else the config's value.

    Returns:
        (url or None, problems): the problems when the file cannot be used or does not
        hold a valid ping URL (then url is the config's value).
    """
    problems = []
    path = ping_url_file(config_path, job.name, environ)
    text = read_url_file(path, problems)
    if text is None:
        return job.ping_url, problems
    # Only now: a run without a ping imports nothing of it (a test checks).
    from ticketing_cron.config.ping_url import validate_ping_url

    url = validate_ping_url(text, path, problems)
    return (url or job.ping_url), problems


def webhook_url_of(settings, config_path, warnings=None):
    """The alert webhook URL: from webhook-url beside the config when there is one,
    else alerts.webhook_url.

    Returns:
        (url or None, problems).
    """
    from ticketing_cron.config.urls import validate_base_url

    problems = []
    path = webhook_url_file(config_path)
    text = read_url_file(path, problems, warnings)
    if text is None:
        return settings.webhook_url, problems
    url = validate_base_url(text, path, problems)
    return (url or settings.webhook_url), problems


def exposed_in_config(config):
    """Warnings for credentials written in a config file that every local user reads.

    Args:
        config: the validated Config (its values are the file's own).
    Returns:
        A list of warning lines (empty when the file is not world-readable).
    """
    try:
        mode = os.stat(config.path).st_mode
    except OSError:
        return []
    if not mode & stat.S_IROTH:
        return []
    found = [(f"jobs.{job.name}.ping_url", beside(config.path, PING_DIR, job.name))
             for job in config.jobs.values() if job.ping_url]
    if config.alerts.webhook_url:
        found.append(("alerts.webhook_url", webhook_url_file(config.path)))
    return [f"{key} is a credential, but {config.path} is readable by every local user: "
            f"move the URL into {path} (owned by root, mode 0600) and delete the key"
            for key, path in found]


def secret_url_problems(config, warnings, environ=os.environ):
    """check's look at the credential files: every job's ping URL file and the webhook's.

    Returns:
        The problems (a file that exists but cannot be used); ``warnings`` gets the
        files others may read and the credentials left in a world-readable config.
    """
    problems = []
    for job in config.jobs.values():
        problems.extend(ping_url_of(job, config.path, environ)[1])
    problems.extend(webhook_url_of(config.alerts, config.path, warnings)[1])
    warnings.extend(exposed_in_config(config))
    return problems
