"""The type stub must describe exactly what the native module exports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from cloudlink import _native

STUB = Path(__file__).resolve().parents[2] / "src" / "cloudlink" / "_native.pyi"


def _stub_classes() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    classes: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AnnAssign):
                    target = item.name if isinstance(item, ast.FunctionDef) else item.target
                    members.add(target if isinstance(target, str) else ast.unparse(target))
            classes[node.name] = members
    return classes


def test_every_native_class_and_member_is_in_the_stub() -> None:
    stub = _stub_classes()
    for name, cls in inspect.getmembers(_native, inspect.isclass):
        if issubclass(cls, BaseException):
            continue
        assert name in stub, f"{name} is missing from _native.pyi"
        public = {m for m in vars(cls) if not m.startswith("_")}
        missing = public - stub[name]
        assert not missing, f"{name} members missing from _native.pyi: {sorted(missing)}"


def test_every_stub_class_exists_natively() -> None:
    for name in _stub_classes():
        assert hasattr(_native, name), f"_native.pyi declares {name}, which the module lacks"
