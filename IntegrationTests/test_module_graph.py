"""scripts/module-graph.py, the lint step's module check, on small made-up trees: it must fail on an
undeclared import, an unused dependency, a C module two wrappers share, and a public C import."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check(tmp_path, targets, sources):
    for path, text in sources.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"targets": [
        {"name": name, "type": kind, "dependencies": [{"byName": [dep, None]} for dep in deps]}
        for name, kind, deps in targets]}))
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "module-graph.py"), "--root", str(tmp_path),
                           "--dump", str(dump)], capture_output=True, text=True)


LIBRARIES = {"Sources/CA/shim.h": "#include <a.h>\n", "Sources/CB/shim.h": "#include <b.h>\n"}


def test_a_tree_that_matches_its_declarations_passes(tmp_path):
    run = check(tmp_path, [("CA", "system", []), ("Wrapper", "regular", ["CA"]), ("App", "executable", ["Wrapper"])],
                {**LIBRARIES, "Sources/Wrapper/W.swift": "internal import CA\n",
                 "Sources/App/main.swift": "import Wrapper\nimport Foundation\n"})
    assert run.returncode == 0, run.stderr


def test_an_undeclared_import_and_an_unused_dependency_fail(tmp_path):
    run = check(tmp_path, [("Low", "regular", []), ("Other", "regular", []), ("App", "executable", ["Other"])],
                {"Sources/Low/L.swift": "public struct L {}\n", "Sources/Other/O.swift": "public struct O {}\n",
                 "Sources/App/main.swift": "@testable import Low\n"})
    assert run.returncode == 1
    assert "App imports Low but does not declare it" in run.stderr
    assert "App declares Other in Package.swift but never imports it" in run.stderr


def test_a_c_library_has_one_wrapper_that_sees_no_other_library(tmp_path):
    run = check(tmp_path, [("CA", "system", []), ("CB", "system", []), ("Shims", "regular", ["CA", "CB"]),
                           ("One", "regular", ["Shims"]), ("Two", "regular", ["Shims"])],
                {**LIBRARIES, "Sources/Shims/include/Shims.h": "#include <a.h>\n#include <b.h>\n",
                 "Sources/Shims/shims.c": "#include \"Shims.h\"\n", "Sources/One/O.swift": "internal import Shims\n",
                 "Sources/Two/T.swift": "import Shims\n"})
    assert run.returncode == 1
    assert "One sees the headers of CA and CB" in run.stderr
    assert "the C module Shims is imported by One, Two" in run.stderr
    assert "Two imports the C module Shims without `internal import`" in run.stderr


def test_the_map_in_package_swift_must_match_the_imports(tmp_path):
    targets = [("Low", "regular", []), ("App", "executable", ["Low"])]
    sources = {"Sources/Low/L.swift": "public struct L {}\n", "Sources/App/main.swift": "import Low\n"}
    (tmp_path / "Package.swift").write_text("/// The map:\n///\n///   App   Low\n///   Low   (nothing)\n")
    assert check(tmp_path, targets, sources).returncode == 0
    (tmp_path / "Package.swift").write_text("///   App   Low, Elsewhere\n")
    run = check(tmp_path, targets, sources)
    assert run.returncode == 1
    assert "Package.swift's map draws App -> Elsewhere, Low, but it imports Low" in run.stderr
    assert "Package.swift's map leaves out Low" in run.stderr
    assert "Package.swift's map names Elsewhere" not in run.stderr  # a dependency, not a listed module
