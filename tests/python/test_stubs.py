"""The type stubs (crowdrt.pyi, beside the module) describe the module as it is: every public name of the module
is in the stub, every public method and property of its classes too, with the same parameter names in the same
order (keyword-only marker included) as the compiled signatures; and every public callable has a docstring."""
import ast
import inspect
import os
import re
import unittest

from common import crowdrt

# Dunder methods a user calls through syntax; the stub must describe them too.
SYNTAX_METHODS = {"__init__", "__call__", "__enter__", "__exit__", "__iter__", "__next__"}


def stub_path():
    return os.path.join(os.path.dirname(crowdrt.__file__), "crowdrt.pyi")


def split_top_level(text):
    """'a: int, b: Dict[str, int] = {}' -> ['a: int', 'b: Dict[str, int] = {}'] (commas inside brackets kept)."""
    parts, depth, current = [], 0, ""
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += c
    if current.strip():
        parts.append(current.strip())
    return parts


def compiled_parameters(name, fn):
    """Parameter names of a pybind11 function from its signature line, 'self' left out."""
    doc = fn.__doc__ or ""
    m = re.search(rf"^(?:\d+\. )?{re.escape(name)}\((.*)\) -> ", doc, re.MULTILINE)
    if not m:
        raise AssertionError(f"{name}: no signature in its docstring: {doc[:200]!r}")
    names = [p.split(":")[0].split("=")[0].strip() for p in split_top_level(m.group(1))]
    return [n for n in names if n != "self"]


def stub_parameters(node):
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        names.append("*")
    names += [p.arg for p in a.kwonlyargs]
    return [n for n in names if n != "self"]


def is_property(node):
    return any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)


def documented(obj):
    """A pybind11 docstring is the signature, then the text given in the binding."""
    doc = (obj.__doc__ or "").strip()
    if isinstance(obj, property):
        return bool(doc)
    lines = [l for l in doc.splitlines() if l.strip()]
    return len(lines) >= 2


class StubTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(stub_path()) as f:
            cls.tree = ast.parse(f.read(), stub_path())
        cls.top = {}
        for node in cls.tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                cls.top[node.name] = node
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                cls.top[node.target.id] = node
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        cls.top[t.id] = node

    def public_names(self):
        return sorted(n for n in dir(crowdrt) if not n.startswith("_")) + ["__version__"]

    def test_the_stub_is_shipped_beside_the_module(self):
        self.assertTrue(os.path.isfile(stub_path()), stub_path())

    def test_every_public_name_is_in_the_stub(self):
        missing = [n for n in self.public_names() if n not in self.top]
        self.assertEqual(missing, [], "names of the module missing from crowdrt.pyi")
        extra = [n for n in self.top if not n.startswith("_") and not hasattr(crowdrt, n)]
        self.assertEqual(extra, [], "names in crowdrt.pyi the module does not have")

    def check_function(self, where, name, fn, node):
        self.assertIsInstance(node, ast.FunctionDef, f"{where}{name}: not a function in the stub")
        self.assertFalse(is_property(node), f"{where}{name}: a method, but a property in the stub")
        self.assertEqual(stub_parameters(node), compiled_parameters(name, fn), f"{where}{name}: parameters differ")

    def test_functions_have_the_compiled_parameter_names(self):
        for name in self.public_names():
            obj = getattr(crowdrt, name)
            if inspect.isbuiltin(obj):
                self.check_function("", name, obj, self.top[name])

    def test_classes_have_every_method_and_property(self):
        for name in self.public_names():
            cls = getattr(crowdrt, name)
            if not inspect.isclass(cls) or issubclass(cls, BaseException):
                continue
            stub = {n.name: n for n in self.top[name].body if isinstance(n, ast.FunctionDef)}
            for member, value in vars(cls).items():
                if member.startswith("_") and member not in SYNTAX_METHODS:
                    continue
                with self.subTest(member=f"{name}.{member}"):
                    self.assertIn(member, stub, f"{name}.{member} is missing from crowdrt.pyi")
                    if isinstance(value, property):
                        self.assertTrue(is_property(stub[member]), f"{name}.{member}: a property, not in the stub")
                    else:
                        self.check_function(f"{name}.", member, value, stub[member])
            extra = [m for m in stub if m not in vars(cls)]
            self.assertEqual(extra, [], f"{name}: methods in crowdrt.pyi the class does not have")

    def test_public_callables_have_docstrings(self):
        undocumented = []
        for name in self.public_names():
            obj = getattr(crowdrt, name)
            if inspect.isbuiltin(obj) and not documented(obj):
                undocumented.append(name)
            if inspect.isclass(obj):
                if not (obj.__doc__ or "").strip():
                    undocumented.append(name)
                for member, value in vars(obj).items():
                    if (not member.startswith("_") or member in SYNTAX_METHODS) and not documented(value):
                        undocumented.append(f"{name}.{member}")
        self.assertEqual(undocumented, [])


if __name__ == "__main__":
    unittest.main()
