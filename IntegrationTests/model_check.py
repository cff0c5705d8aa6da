"""CodePipeline requests and answers checked against botocore's service model, as the service
checks them: the fake refuses a request the model forbids with the ValidationException AWS would
send, and parses every answer it gives with botocore's own parser before sending it.

The model's constraints: required members, no unknown members, the type of each value, string
lengths (code points, as botocore counts), patterns (whole-value matches), enums, integer
ranges, and the entry counts of lists and maps."""
import json
import re

import botocore.parsers
import botocore.session

MODEL = botocore.session.get_session().get_service_model("codepipeline")
PARSER = botocore.parsers.JSONParser()


def violation(operation, request):
    """The first way `request` breaks `operation`'s input shape, or None."""
    return _check(MODEL.operation_model(operation).input_shape, request, "")


def parse_answer(operation, payload):
    """`payload` (an object, as the fake is about to send it) parsed by botocore as the
    operation's output; raises if botocore cannot, so the fake never sends what no SDK reads."""
    shape = MODEL.operation_model(operation).output_shape
    body = json.dumps(payload).encode()
    parsed = PARSER.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    if shape is not None:
        for name in shape.required_members:
            assert name in parsed, "%s answer lacks %s" % (operation, name)
    return parsed


def _check(shape, value, path):
    kind = shape.type_name
    where = path or "the request"
    if kind == "structure":
        if not isinstance(value, dict):
            return "%s must be an object" % where
        for name in shape.required_members:
            if name not in value:
                return "Value null at '%s' failed to satisfy constraint: Member must not be null" % _join(path, name)
        for name, member in value.items():
            if name not in shape.members:
                return "Unknown member '%s' at %s" % (name, where)
            problem = _check(shape.members[name], member, _join(path, name))
            if problem:
                return problem
        return None
    if kind == "string":
        if not isinstance(value, str):
            return "%s must be a string" % where
        problem = _bounds(shape, len(value), where, "length")
        if problem:
            return problem
        pattern = shape.metadata.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            return "Value at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s" % (
                where, pattern)
        if shape.enum and value not in shape.enum:
            return "Value at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]" % (
                where, ", ".join(shape.enum))
        return None
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return "%s must be an integer" % where
        return _bounds(shape, value, where, "value")
    if kind == "boolean":
        return None if isinstance(value, bool) else "%s must be a boolean" % where
    if kind == "timestamp":
        return None if isinstance(value, (int, float, str)) else "%s must be a timestamp" % where
    if kind == "list":
        if not isinstance(value, list):
            return "%s must be a list" % where
        problem = _bounds(shape, len(value), where, "length")
        for index, item in enumerate(value):
            problem = problem or _check(shape.member, item, "%s.%d" % (where, index + 1))
        return problem
    if kind == "map":
        if not isinstance(value, dict):
            return "%s must be a map" % where
        problem = _bounds(shape, len(value), where, "length")
        for key, item in value.items():
            problem = problem or _check(shape.key, key, "%s.key" % where) or _check(shape.value, item, "%s.%s" % (
                where, key))
        return problem
    return "%s has a type the fake does not check (%s)" % (where, kind)


def _bounds(shape, measure, where, what):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and measure < low:
        return "Value at '%s' failed to satisfy constraint: Member must have %s greater than or equal to %d" % (
            where, what, low)
    if high is not None and measure > high:
        return "Value at '%s' failed to satisfy constraint: Member must have %s less than or equal to %d" % (
            where, what, high)
    return None


def _join(path, name):
    return "%s.%s" % (path, name) if path else name
