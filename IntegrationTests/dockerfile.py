"""A reader for deploy/Dockerfile: its stages and instructions, for the deploy tests and for
scripts/image-check, which replays the runtime stage without a Docker engine."""
import json
import re
from pathlib import Path


def stages(path):
    """[(from-argument, [(INSTRUCTION, argument)])]: continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in Path(path).read_text().splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            if current.strip():
                logical.append(current.strip())
            current = ""
    result = []
    for line in logical:
        instruction, _, argument = line.partition(" ")
        if instruction.upper() == "FROM":
            result.append((argument, []))
        elif result:
            result[-1][1].append((instruction.upper(), argument.strip()))
    return result


def apt_packages(run_argument):
    """The packages an `apt-get install` in a RUN argument names."""
    found = re.search(r"apt-get install ([^&]*)", run_argument)
    return {word for word in found.group(1).split() if not word.startswith("-")} if found else set()


def exec_form(argument):
    """The JSON array of an exec-form ENTRYPOINT, CMD, VOLUME or HEALTHCHECK ... CMD."""
    if argument.startswith("--") or " CMD " in " " + argument:
        argument = argument[argument.index("CMD ") + 4:]
    return json.loads(argument)


def environment(instructions):
    """The ENV instructions' variables."""
    return dict(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", " ".join(a for i, a in instructions if i == "ENV")))
