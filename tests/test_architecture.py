"""The apps depend on each other one way only: core ← companies ← calls ← {exports, quality},
privacy above calls and quality; and no two modules of the project import each other, even from
inside a function (docs/ARCHITECTURE.md)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["core", "companies", "calls", "exports", "quality", "privacy"]
# What each app may import from the project's other apps (config holds the settings and URLs).
ALLOWED = {
    "core": set(),
    "companies": {"core"},
    "calls": {"core", "companies"},
    "exports": {"core", "companies", "calls"},
    "quality": {"core", "companies", "calls"},
    # Personal data is found wherever the other apps keep it (review comments included).
    "privacy": {"core", "companies", "calls", "quality"},
}


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules a file imports, wherever the import statement sits."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from companies import importing` imports the module companies.importing.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def test_each_app_imports_only_the_apps_below_it():
    wrong = []
    for module, imported in import_graph().items():
        app = module.split(".")[0]
        for target in imported:
            target_app = target.split(".")[0]
            if target_app != app and target_app not in ALLOWED[app]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_two_modules_import_each_other_even_indirectly():
    graph = import_graph()
    cycles = []

    def visit(module, path, on_path, done):
        for target in sorted(graph.get(module, ())):
            if target in on_path:
                cycles.append(" → ".join([*path[path.index(target) :], target]))
            elif target not in done:
                on_path.add(target)
                visit(target, [*path, target], on_path, done)
                on_path.discard(target)
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module], {module}, done)
    assert not cycles, "\n".join(cycles)


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from calls.models import CallRecord\n")
    assert imports_of(source, project_modules()) == {"calls.models"}


def test_the_code_cites_no_document_outside_the_repository():
    """Comments point to docs/ARCHITECTURE.md; a clone has no design folder beside it."""
    outside = ("DESIGN.md", "DESIGN section", "../shared", "CONVENTIONS.md", "TOOLCHAIN.md")
    cited = []
    for path in ROOT.rglob("*"):
        if {".venv", ".git", "node_modules", "__pycache__"} & set(path.parts) or not path.is_file():
            continue
        if path.suffix not in {".py", ".html", ".js", ".md", ".toml", ".txt", ".cfg", ".sh"}:
            continue
        if path == Path(__file__):
            continue
        text = path.read_text(errors="ignore")
        cited += [f"{path.relative_to(ROOT)}: {name}" for name in outside if name in text]
    assert not cited, "\n".join(cited)
