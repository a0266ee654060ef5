"""The shape of the tree: every library module has its own test file, named after it
(``demucs_study/a/b.py`` -> ``tests/test_a_b.py``; ``demucs_study/x.py`` -> ``tests/test_x.py``), and the
library has no import cycle between its modules."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "demucs_study"


def modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))


def expected_test_file(module: Path) -> Path:
    parts = module.relative_to(LIB).with_suffix("").parts
    return ROOT / "tests" / f"test_{'_'.join(parts)}.py"


def test_every_module_has_its_own_test_file():
    missing = [str(m.relative_to(ROOT)) for m in modules() if not expected_test_file(m).is_file()]
    assert missing == []


def _imports(module: Path) -> set[str]:
    """Modules of the package imported by ``module`` (relative and absolute imports, at any depth)."""
    name = ".".join(("demucs_study", *module.relative_to(LIB).with_suffix("").parts))
    package = name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("demucs_study"):
                out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("demucs_study"))
    known = {".".join(("demucs_study", *m.relative_to(LIB).with_suffix("").parts)) for m in modules()}
    return {t for t in out if t in known and t != name}


def test_no_import_cycles():
    graph = {".".join(("demucs_study", *m.relative_to(LIB).with_suffix("").parts)): _imports(m) for m in modules()}
    cycles = []

    def visit(node, stack):
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, stack + [nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    assert cycles == []
