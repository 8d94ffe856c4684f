import os

import pytest

from motif.function import Function, LoadError


def test_a_file_is_loaded_with_its_neighbours_importable(tmp_path):
    (tmp_path / "helper_for_file.py").write_text("GREETING = 'hi'\n")
    path = tmp_path / "fn_file.py"
    path.write_text("from helper_for_file import GREETING\nasync def handle(r):\n    return GREETING\ndef init():\n    pass\n")
    f = Function.load(str(path))
    assert f.handle.is_async and f.init is not None and not f.init.is_async and f.shutdown is None


def test_a_module_name_is_imported_from_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "fn_module.py").write_text("class Handler:\n    def __call__(self, r):\n        return r\nhandle = Handler()\n")
    monkeypatch.chdir(tmp_path)
    f = Function.load("fn_module")
    assert f.handle.fn.__class__.__name__ == "Handler" and not f.handle.is_async


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "has no function `handle`"),
        ("def handle(r):\n    pass\ninit = 3\n", "is not a function"),
        ("raise ImportError('missing dependency')\n", "ImportError: missing dependency"),
    ],
)
def test_a_module_that_cannot_serve_says_why(tmp_path, source, message):
    path = tmp_path / f"broken_{abs(hash(source))}.py"
    path.write_text(source)
    with pytest.raises(LoadError, match=message):
        Function.load(str(path))


def test_a_missing_file_is_a_load_error():
    with pytest.raises(LoadError, match="is not a file"):
        Function.load(os.path.join("no", "such", "file.py"))
