"""The module graph as the sources draw it, checked against what Package.swift declares.

    python3 scripts/module-graph.py           fail (exit 1) on any of the problems below (the lint step)
    python3 scripts/module-graph.py --graph   print each target's imports (the graph from the code)
    python3 scripts/module-graph.py --root DIR --dump FILE   check another tree, with a saved
                                              `swift package dump-package` (the tests do this)

Problems:
- a target imports a module it does not declare in Package.swift, or declares one it never imports;
- the map in Package.swift's header comment (`///   Module   Dependency, ...`) lists other
  dependencies than a module imports, or leaves a non-test module out;
- a C module (a system library or its shim) is a direct dependency of more than one Swift target,
  or a Swift target's C dependencies span two libraries: each library has one wrapper, and no
  wrapper sees another library's headers;
- a Swift file imports a C module without `internal import` (C never in a public signature).

Swift targets are read for `import X` (any access level, `@testable` too); C targets for the system
headers that name a system-library target. Modules of the toolchain (Foundation, Glibc, Testing, ...)
are not dependencies.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

TOOLCHAIN = {"Foundation", "FoundationEssentials", "Glibc", "Dispatch", "Synchronization", "Testing", "XCTest",
             "PackageDescription", "_Concurrency"}
IMPORT = re.compile(r"^\s*(?:@\w+\s+)*(?:(public|package|internal|fileprivate|private)\s+)?import\s+"
                    r"(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)", re.M)
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


class Package:
    def __init__(self, root, description):
        self.root = root
        self.targets = {target["name"]: target for target in description["targets"]}
        self.headers = self._system_headers()

    def path(self, target):
        if target.get("path"):
            return self.root / target["path"]
        return self.root / ("Tests" if target["type"] == "test" else "Sources") / target["name"]

    def is_c(self, name):
        target = self.targets.get(name)
        if target is None:
            return False
        return target["type"] == "system" or not any(self.path(target).rglob("*.swift"))

    def declared(self, name):
        return {next(iter(dependency.values()))[0] for dependency in self.targets[name]["dependencies"]}

    def _system_headers(self):
        """Header path → the system-library target whose shim header includes it (`curl/curl.h` → CCurl)."""
        headers = {}
        for name, target in self.targets.items():
            if target["type"] == "system":
                for shim in self.path(target).glob("*.h"):
                    for header in INCLUDE.findall(shim.read_text()):
                        headers[header] = name
        return headers

    def imports(self, name):
        """(module, access level or None) for every import in the target's sources."""
        path = self.path(self.targets[name])
        found = set()
        for source in path.rglob("*.swift"):
            for access, module in IMPORT.findall(source.read_text()):
                found.add((module, access or None))
        for source in list(path.rglob("*.c")) + list(path.rglob("*.h")):
            for header in INCLUDE.findall(source.read_text()):
                if header in self.headers:
                    found.add((self.headers[header], None))
        return {(module, access) for module, access in found if module not in TOOLCHAIN and module != name}

    def c_closure(self, name):
        """The C targets a target reaches through C targets alone."""
        seen, stack = set(), [dep for dep in self.declared(name) if self.is_c(dep)]
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(d for d in self.declared(dep) if self.is_c(d))
        return seen

    def library(self, name):
        """The system library a C target belongs to: itself, or the one its shim wraps (None for libc)."""
        if self.targets[name]["type"] == "system":
            return name
        libraries = {dep for dep in self.c_closure(name) if self.targets[dep]["type"] == "system"}
        return next(iter(libraries), None)


def drawn_map(root):
    """Module → dependencies, as Package.swift's header comment draws them (continuation lines
    start with spaces where the module name stands)."""
    drawn, current = {}, None
    for line in (root / "Package.swift").read_text().splitlines():
        entry = re.match(r"^///   (\w+)\s{2,}(.+)$", line)
        more = re.match(r"^///\s{6,}(\w.+)$", line)
        if entry:
            current = entry.group(1)
            drawn[current] = entry.group(2)
        elif more and current:
            drawn[current] += " " + more.group(1)
        else:
            current = None
    return {name: set() if text.strip() == "(nothing)" else {dep.strip() for dep in text.split(",") if dep.strip()}
            for name, text in drawn.items()}


def problems(package, graph=None, drawn=None):
    found = []
    if drawn is not None:
        for name, target in package.targets.items():
            if target["type"] in ("system", "test") or target.get("path", "") or name == "TestSupport":
                continue
            used = {module for module, _ in package.imports(name)}
            if name not in drawn:
                found.append("Package.swift's map leaves out %s" % name)
            elif drawn[name] != used:
                found.append("Package.swift's map draws %s -> %s, but it imports %s" % (
                    name, ", ".join(sorted(drawn[name])), ", ".join(sorted(used)) or "nothing"))
        for name in sorted(set(drawn) - set(package.targets)):
            found.append("Package.swift's map names %s, which is no target" % name)
    swift_users = {}
    for name, target in package.targets.items():
        if target["type"] == "system":
            continue
        imported = package.imports(name)
        used = {module for module, _ in imported}
        wanted = package.declared(name)
        if graph is not None:
            graph.append("%-22s -> %s" % (name, ", ".join(sorted(used)) or "(nothing)"))
        for module in sorted(used - wanted):
            found.append("%s imports %s but does not declare it in Package.swift" % (name, module))
        for module in sorted(wanted - used):
            found.append("%s declares %s in Package.swift but never imports it" % (name, module))
        if package.is_c(name):
            continue
        for module, access in sorted(imported, key=lambda pair: pair[0]):
            if package.is_c(module) and access != "internal":
                found.append("%s imports the C module %s without `internal import`" % (name, module))
        for dep in package.declared(name):
            if package.is_c(dep):
                swift_users.setdefault(dep, set()).add(name)
        libraries = {package.library(dep) for dep in package.c_closure(name)} - {None}
        if len(libraries) > 1:
            found.append("%s sees the headers of %s: one wrapper per C library" % (name, " and ".join(sorted(libraries))))
    for module, users in sorted(swift_users.items()):
        if len(users) > 1:
            found.append("the C module %s is imported by %s: one wrapper per C library" % (module, ", ".join(sorted(users))))
    return found


def main(argv):
    root = Path(__file__).resolve().parents[1]
    dump = None
    if "--root" in argv:
        root = Path(argv[argv.index("--root") + 1]).resolve()
    if "--dump" in argv:
        dump = json.loads(Path(argv[argv.index("--dump") + 1]).read_text())
    if dump is None:
        dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                         capture_output=True, text=True).stdout)
    package = Package(root, dump)
    graph = [] if "--graph" in argv else None
    package_swift = root / "Package.swift"
    found = problems(package, graph, drawn_map(root) if package_swift.exists() else None)
    for line in graph or []:
        print(line)
    for problem in found:
        print("module graph: " + problem, file=sys.stderr)
    if not found and graph is None:
        print("module graph: every declared dependency is imported, every import declared, one wrapper per C "
              "library (%d targets)" % sum(target["type"] != "system" for target in package.targets.values()))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
