"""Where the package's systemd units are installed, as the build learned it.

debian/rules replaces the placeholder below, in the installed copy of this module, with
what `pkg-config --variable=systemdsystemunitdir systemd` reports on the build machine
(the directory dh_installsystemd and debian/ticketing-cron.install put the units in).
In a checkout (tests, development) the placeholder is still there and pkg-config is asked.
"""

import functools
import subprocess

SYSTEM_UNIT_DIR = "@systemdsystemunitdir@"
PLACEHOLDER = "@" + "systemdsystemunitdir@"  # split, or the build would replace it too


@functools.lru_cache(maxsize=None)
def system_unit_dir():
    """The directory of the package's units (e.g. /lib/systemd/system on Debian 12).

    Returns:
        The absolute path the build recorded, else pkg-config's answer.
    Raises:
        OSError: in a checkout without pkg-config or systemd's systemd.pc.
    """
    if SYSTEM_UNIT_DIR != PLACEHOLDER:
        return SYSTEM_UNIT_DIR
    found = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                           capture_output=True, text=True, timeout=30, check=False)
    directory = found.stdout.strip()
    if found.returncode != 0 or not directory.startswith("/"):
        raise OSError("pkg-config --variable=systemdsystemunitdir systemd: "
                      f"{(found.stderr or found.stdout).strip() or 'no answer'}")
    return directory
