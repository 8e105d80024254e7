"""Kafka's JSON message schemas as Python objects, for gen_codecs.py.

Models what Kafka's own generator (clients/src/main/java/.../message/*Spec.java) reads: messages with
"validVersions" and "flexibleVersions", fields with "versions", "nullableVersions", "flexibleVersions",
"tag", "taggedVersions", "default" and nested "fields". Version ranges of nested fields are clipped to
their parent's. Schema features the generated C++ does not implement raise SchemaError instead of being
ignored. Python 3 standard library only.
"""

import json
import re

MAX_VERSION = 0x7FFF
SCALARS = {  # schema type -> (C++ type, Writer/Reader method suffix, default literal)
    "int8": ("int8_t", "Int8", "0"), "int16": ("int16_t", "Int16", "0"),
    "int32": ("int32_t", "Int32", "0"), "int64": ("int64_t", "Int64", "0"),
    "uint16": ("uint16_t", "Uint16", "0"), "uint32": ("uint32_t", "Uint32", "0"),
    "float64": ("double", "Float64", "0.0"), "bool": ("bool", "Bool", "false"),
    "uuid": ("Uuid", "Uuid", None),
}
CPP_KEYWORDS = {"default", "delete", "new", "class", "template", "operator", "private", "public", "register",
                "namespace", "union", "struct", "switch", "case", "int", "long", "short", "char", "this"}


class SchemaError(Exception):
    pass


def strip_comments(text):
    """Removes // line comments that are outside JSON strings."""
    out, i, in_str = [], 0, False
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Versions:
    """A version range from a schema: "3+", "0-5", "7" or "none"."""

    def __init__(self, text):
        text = str(text).strip()
        if text == "none":
            self.lo, self.hi = 1, 0
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), MAX_VERSION
        elif "-" in text:
            lo, hi = text.split("-")
            self.lo, self.hi = int(lo), int(hi)
        else:
            self.lo = self.hi = int(text)

    def empty(self):
        return self.lo > self.hi

    def contains(self, v):
        return self.lo <= v <= self.hi

    def intersect(self, other):
        r = Versions("none")
        r.lo, r.hi = max(self.lo, other.lo), min(self.hi, other.hi)
        return r

    def cond(self, var, within):
        """C++ boolean expression for `var` in this range, given var is known to lie in `within`."""
        if self.empty() or self.hi < within.lo or self.lo > within.hi:
            return "false"
        parts = []
        if self.lo > within.lo:
            parts.append(f"{var} >= {self.lo}")
        if self.hi < within.hi:
            parts.append(f"{var} <= {self.hi}")
        return " && ".join(parts) if parts else "true"

    def __str__(self):
        if self.empty():
            return "none"
        return f"{self.lo}+" if self.hi == MAX_VERSION else f"{self.lo}-{self.hi}"


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    return s + "_" if s in CPP_KEYWORDS else s


def cpp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Field:
    def __init__(self, spec, msg, parent_versions):
        self.name = spec["name"]
        self.cpp = snake(self.name)
        self.about = spec.get("about", "")
        self.versions = Versions(spec["versions"]).intersect(parent_versions)
        self.nullable = Versions(spec.get("nullableVersions", "none")).intersect(self.versions)
        self.flex_override = Versions(spec["flexibleVersions"]) if "flexibleVersions" in spec else None
        self.tag = spec.get("tag")
        self.tagged = Versions(spec.get("taggedVersions", "none")).intersect(parent_versions)
        self.default = spec.get("default")
        t = spec["type"]
        self.is_array = t.startswith("[]")
        self.base = t[2:] if self.is_array else t
        self.struct = None
        if self.base not in SCALARS and self.base not in ("string", "bytes", "records"):
            if "fields" in spec:
                self.struct = Struct(self.base, spec["fields"], msg, self.versions)
                msg.register(self.struct)
            else:
                self.struct = msg.common_struct(self.base, f"{msg.name}.{self.name}")
        elif "fields" in spec:
            raise SchemaError(f"{msg.name}.{self.name}: fields on a non-struct type")
        self.check(msg)

    def check(self, msg):
        where = f"{msg.name}.{self.name}"
        if self.tag is not None and (self.tagged.lo, self.tagged.hi) != (self.versions.lo, self.versions.hi):
            raise SchemaError(f"{where}: taggedVersions must equal versions (not supported otherwise)")
        if self.tag is None and not self.tagged.empty():
            raise SchemaError(f"{where}: taggedVersions without a tag")
        if not self.nullable.empty() and not self.is_array and self.base not in ("string", "bytes", "records"):
            raise SchemaError(f"{where}: nullable {self.base} is not supported")
        if self.base == "records" and (self.is_array or self.tag is not None):
            raise SchemaError(f"{where}: records must be a plain, untagged field")
        if self.flex_override is not None and (self.is_array or self.base not in ("string", "bytes")):
            raise SchemaError(f"{where}: flexibleVersions override only on strings and bytes")
        if self.default == "null" and self.nullable.empty():
            raise SchemaError(f"{where}: default null on a non-nullable field")

    def nullable_type(self):
        return not self.nullable.empty()

    def elem_type(self):
        if self.struct:
            return self.struct.name
        if self.base in SCALARS:
            return SCALARS[self.base][0]
        return "std::string"

    def cpp_type(self):
        if self.is_array:
            t = f"std::vector<{self.elem_type()}>"
            return f"std::optional<{t}>" if self.nullable_type() else t
        if self.base == "records":
            return "RecordsRef"
        if self.base in ("string", "bytes"):
            return "std::optional<std::string>" if self.nullable_type() else "std::string"
        return self.elem_type()

    def default_expr(self):
        """C++ expression of the field's default value (its initializer and the tagged-field comparison)."""
        d = self.default
        if self.is_array:
            if d == "null":
                return "std::nullopt"
            return f"{self.cpp_type()}()" if not self.nullable_type() else f"std::vector<{self.elem_type()}>()"
        if self.struct or self.base in ("uuid", "records"):
            return f"{self.cpp_type()}()"
        if self.base in ("string", "bytes"):
            if d == "null":
                return "std::nullopt"
            return "std::string()" if not d else f"std::string({cpp_string(d)})"
        if d is None:
            return SCALARS[self.base][2]
        if self.base == "bool":
            return "true" if str(d).lower() == "true" else "false"
        if self.base == "float64":
            return repr(float(d))
        value = int(str(d), 0)
        if value == -2**31 and self.base == "int32":
            return "(-2147483647 - 1)"  # INT32_MIN: 2147483648 alone is not an int literal
        return str(value) if -2**31 < value < 2**31 else f"{value}LL"

    def nondefault_expr(self, val):
        """C++ expression: `val` differs from the default (a tagged field is written only then)."""
        d = self.default_expr()
        if self.is_array:
            if d == "std::nullopt":
                return f"{val}.has_value()"
            return f"!({val}.has_value() && {val}->empty())" if self.nullable_type() else f"!{val}.empty()"
        if self.struct or self.base in ("uuid", "records"):
            return f"!({val} == decltype({val})())"
        return f"{val} != {d}"


class Struct:
    def __init__(self, name, fields, msg, versions):
        self.name = name
        self.versions = versions
        self.fields = [Field(f, msg, versions) for f in fields]
        tags = [f.tag for f in self.fields if f.tag is not None]
        if len(tags) != len(set(tags)):
            raise SchemaError(f"{msg.name}.{name}: duplicate tag")


class Message:
    def __init__(self, spec):
        self.name = spec["name"]
        self.kind = spec["type"]  # request, response or header
        self.api_key = spec.get("apiKey")
        self.valid = Versions(spec["validVersions"])
        self.flexible = Versions(spec.get("flexibleVersions", "none"))
        self.common = {c["name"]: c for c in spec.get("commonStructs", [])}
        self.common_built = {}
        self.nested = []  # innermost first, so each is defined before use
        self.root = Struct(self.name, spec["fields"], self, self.valid)

    def common_struct(self, name, where):
        """A struct of "commonStructs": built once, over all valid versions, as it may be used in many places."""
        if name not in self.common_built:
            if name not in self.common:
                raise SchemaError(f"{where}: unknown type {name}")
            self.common_built[name] = Struct(name, self.common[name]["fields"], self, self.valid)
            self.register(self.common_built[name])
        return self.common_built[name]

    def register(self, struct):
        if any(s.name == struct.name for s in self.nested) or struct.name == self.name:
            raise SchemaError(f"{self.name}: struct {struct.name} defined twice")
        self.nested.append(struct)

    def qualified(self, struct):
        return self.name if struct is self.root else f"{self.name}::{struct.name}"


def load(path):
    """Reads one schema file (JSON with // line comments) into a Message."""
    with open(path, encoding="utf-8") as f:
        spec = json.loads(strip_comments(f.read()))
    if spec.get("type") not in ("request", "response", "header"):
        raise SchemaError(f"{path}: unsupported message type {spec.get('type')}")
    return Message(spec)
