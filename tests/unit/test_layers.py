"""The package's layers: each module imports only from its own layer or those below.

Every import is counted, function-level ones included (they are how the run stays
cheap, not a way around the layers). Cycles between modules are refused too.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ticketing_cron"
# Lowest first. A module may import from its own layer and the layers before it.
LAYERS = ["base", "config", "http", "schedules", "run", "alerts", "status", "check",
          "migrate", "cli"]
MAX_LINES = 300


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module):
    """The layer of 'ticketing_cron.x.y': x ('ticketing_cron' itself and __main__ are
    the version at the bottom and the entry point at the top)."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    if parts[1] == "__main__":
        return len(LAYERS)
    return LAYERS.index(parts[1])


def imports_of(path):
    """The package modules a file imports (resolving `from pkg import module`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ticketing_cron"))
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("ticketing_cron"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                sub = PACKAGE.parent / Path(*candidate.split("."))
                found.add(candidate if sub.with_suffix(".py").exists() or sub.is_dir()
                          else node.module)
    return found


def graph():
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_belongs_to_a_layer():
    for module in graph():
        layer_of(module)  # raises ValueError for a module outside the layers


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [f"{module} imports {target}" for module, targets in graph().items()
              for target in targets if layer_of(target) > layer_of(module)]
    assert upward == []


def find_cycles(edges):
    """Each cycle of a module graph once, as 'a -> b -> a'."""
    state, cycles = {}, []

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if target == module or target not in edges:
                continue
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_the_import_graph_has_no_cycle():
    assert find_cycles(graph()) == []


def test_no_module_is_longer_than_the_limit():
    long = [f"{p.relative_to(PACKAGE)}: {n} lines" for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []


def test_the_checks_see_an_upward_import_and_a_cycle(tmp_path):
    """The walker itself: a function-level upward import is found."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from ticketing_cron.status import units\n")
    assert imports_of(source) == {"ticketing_cron.status.units"}
    assert layer_of("ticketing_cron.status.units") > layer_of("ticketing_cron.base.log")
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b -> c -> a"]
