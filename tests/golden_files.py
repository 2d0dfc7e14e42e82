"""Golden files: what the program generates, compared with files kept in tests/golden/.

A golden test renders a case into a dict {relative path: text, or "-> target" for a
symbolic link} and calls ``compare(case_dir / "expected", rendered)``. With
TC_REGEN_GOLDEN=1 in the environment the expected files are rewritten from the
rendering instead (then review them with ``git diff tests/golden``):

    TC_REGEN_GOLDEN=1 /usr/bin/python3 -m pytest -p no:cacheprovider \\
        tests/integration/test_golden_generator.py tests/integration/test_generator_scale.py \\
        tests/integration/test_golden_alerts.py tests/unit/status/test_golden_status.py
"""

import os
import shutil
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("TC_REGEN_GOLDEN") == "1"


def cases(kind):
    """The case directories of tests/golden/KIND, sorted by name."""
    return sorted(p for p in (GOLDEN / kind).iterdir() if p.is_dir())


# A link is kept as a file NAME.symlink holding its target: a dangling link in the
# tree would break copies of it (the package build copies the tests).
LINK_SUFFIX = ".symlink"


def read_tree(root):
    """{relative path: text, or '-> target' for a link} of every file under ``root``
    ({} when it does not exist); NAME.symlink files are read as links."""
    found = {}
    if not os.path.isdir(root):
        return found
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if key.endswith(LINK_SUFFIX):
                found[key[:-len(LINK_SUFFIX)]] = "-> " + text.rstrip("\n")
            else:
                found[key] = text
    return found


def write_tree(root, tree):
    """Replace ``root`` by the files and links of ``tree`` (nothing when it is empty)."""
    shutil.rmtree(root, ignore_errors=True)
    for key, value in tree.items():
        link = value.startswith("-> ")
        path = Path(root) / (key + LINK_SUFFIX if link else key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value[3:] + "\n" if link else value, encoding="utf-8")


def compare(expected_dir, rendered):
    """Assert that ``rendered`` equals the golden tree at ``expected_dir`` (or, with
    TC_REGEN_GOLDEN=1, write it there)."""
    if REGENERATE:
        write_tree(expected_dir, rendered)
        return
    expected = read_tree(expected_dir)
    assert sorted(rendered) == sorted(expected), (
        f"{expected_dir}: files differ; if the change is meant, regenerate with "
        f"TC_REGEN_GOLDEN=1 (see tests/golden_files.py)")
    for key in sorted(expected):
        assert rendered[key] == expected[key], f"{expected_dir}/{key} differs"
