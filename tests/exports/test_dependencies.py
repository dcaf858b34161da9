"""The export's place in the dependencies: core ← companies ← calls ← exports, one way.

Read from the source, imports inside functions included: columns ← writers ← xlsx, views and
the command; nothing outside exports/ imports it (the URLconf includes it by name)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_export_modules_import_each_other_one_way():
    paths = [path for path in (ROOT / "exports").rglob("*.py") if "migrations" not in path.parts]
    imports = {module_name(path): imported_modules(path) for path in paths}

    circles = [(a, b) for a in imports for b in imports[a] if a in imports.get(b, ())]
    assert circles == []
    assert "exports.xlsx" in imports["exports.views"]  # the scan sees imports in functions
    assert "exports.writers" in imports["exports.xlsx"]
    assert not {"exports.writers", "exports.xlsx"} & imports["exports.columns"]


def test_no_other_app_imports_the_export():
    importers = [
        module_name(path)
        for app in ("core", "companies", "calls", "config")
        for path in (ROOT / app).rglob("*.py")
        if any(name.split(".")[0] == "exports" for name in imported_modules(path))
    ]
    assert importers == []
