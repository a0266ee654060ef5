"""The shape of the tree: every library module has its own test file, named after it
(``demucs_study/a/b.py`` -> ``tests/test_a_b.py``; ``demucs_study/x.py`` -> ``tests/test_x.py``); a module of a
nested package (``demucs_study/a/b/c.py``) may instead be tested by a file of its package
(``tests/test_a_b*.py``) that imports it. The library has no import cycle between its modules, and a
package's ``__init__.py`` holds only its docstring, except the two packages that are an API
(``models``: the registry; ``evaluation.fast``: museval's ``evaluate``)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "demucs_study"


def modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))


def expected_test_file(module: Path) -> Path:
    parts = module.relative_to(LIB).with_suffix("").parts
    return ROOT / "tests" / f"test_{'_'.join(parts)}.py"


def package_test_files(module: Path) -> list[Path]:
    """Test files of the nested package of ``module`` that import it (empty for a top-level package)."""
    parts = module.relative_to(LIB).with_suffix("").parts
    if len(parts) < 3:
        return []
    package, name = parts[:-1], parts[-1]
    dotted = ".".join(("demucs_study", *package))
    found = []
    for test in sorted((ROOT / "tests").glob(f"test_{'_'.join(package)}*.py")):
        text = test.read_text()
        if f"{dotted}.{name}" in text or (f"from {dotted} import" in text and name in text):
            found.append(test)
    return found


def test_every_module_has_its_own_test_file():
    missing = [str(m.relative_to(ROOT)) for m in modules()
               if not expected_test_file(m).is_file() and not package_test_files(m)]
    assert missing == []


API_PACKAGES = ("models", "evaluation/fast")


def test_package_files_hold_only_their_docstring():
    offending = []
    for init in sorted(LIB.rglob("__init__.py")):
        package = str(init.parent.relative_to(LIB))
        if package in API_PACKAGES or init.parent == LIB:
            continue
        body = ast.parse(init.read_text()).body
        if any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) and
               not (isinstance(node, ast.ImportFrom) and node.module == "__future__") for node in body):
            offending.append(package)
    assert offending == []


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
