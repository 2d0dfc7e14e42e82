"""One version everywhere: the package's __version__ is what --version, the User-Agent
and the Python metadata say, and debian/changelog, the manual pages, NEWS.Debian,
the Kubernetes images and the file names in the README and guides agree with it."""

import re
import tomllib
from pathlib import Path

from ticketing_cron import __version__

TOP = Path(__file__).resolve().parents[2]


def changelog_versions(text):
    return re.findall(r"^ticketing-cron \(([^)]+)\) ", text, re.M)


def test_the_changelog_and_the_package_agree():
    versions = changelog_versions((TOP / "debian" / "changelog").read_text())
    assert versions[0] == __version__
    assert len(versions) == len(set(versions)), "a version has two changelog entries"


def test_the_python_metadata_takes_the_packages_version():
    project = tomllib.loads((TOP / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == \
        {"attr": "ticketing_cron.__version__"}


def test_news_speaks_of_released_versions_only():
    released = set(changelog_versions((TOP / "debian" / "changelog").read_text()))
    news = changelog_versions((TOP / "debian" / "NEWS").read_text())
    assert news and set(news) <= released


def test_the_manual_pages_say_the_version():
    for page in ("ticketing-cron.8", "ticketing-cron.toml.5"):
        header = (TOP / "debian" / page).read_text().splitlines()[0]
        assert re.search(r'"ticketing\\?-cron ' + re.escape(__version__) + '"', header), page


def test_the_images_and_the_docs_name_this_version():
    for manifest in (TOP / "deploy" / "kubernetes").glob("*.yaml"):
        for tag in re.findall(r"image: ticketing-cron:(\S+)", manifest.read_text()):
            assert tag == __version__, manifest.name
    docs = [TOP / "README.md", TOP / "HACKING.md", *sorted((TOP / "docs").glob("*.md"))]
    named = set(re.findall(r"ticketing-cron_([0-9][^_]*)_all\.deb",
                           "".join(page.read_text() for page in docs)))
    assert named == {__version__}


def test_version_and_user_agent(capsys):
    import pytest

    from ticketing_cron.cli import main
    from ticketing_cron.http.client import USER_AGENT

    assert USER_AGENT == f"ticketing-cron/{__version__}"
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"ticketing-cron {__version__}\n"
