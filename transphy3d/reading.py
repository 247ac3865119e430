"""Reading text files the user hands the tool (configs, recorded scenes, manifests, run records,
JSON of scenes and model folders) as untrusted input: the size is checked before the bytes are
read, the bytes are decoded as strict UTF-8 before any parser sees them, YAML and JSON are parsed
with their nesting depth and YAML's alias expansion bounded, and every failure is one UserError
naming the file and what is wrong (an ``UnreadableFileError``: a UserError, and a ValueError for
callers that count bad data)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from transphy3d.errors import UnreadableFileError

MAX_TEXT_BYTES = 64 << 20  # a config, spec or record file larger than this is not one
MAX_DEPTH = 64  # nesting of mappings and lists: the deepest real document has about 8
MAX_NODES = 200_000  # values after expanding YAML aliases: a bound on "billion laughs" documents


def read_text(path: str | Path, what: str = "text file", limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of ``path``, refusing a missing, unreadable, oversized or non-UTF-8 file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = _size(handle)
            if size > limit:
                raise UnreadableFileError(f"{size} bytes; a {what} is at most {limit} bytes", path=str(path))
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise UnreadableFileError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise UnreadableFileError(f"is a directory, not a {what}", path=str(path)) from None
    except OSError as error:
        raise UnreadableFileError(f"cannot read: {error.strerror or error}", path=str(path)) from None
    if len(data) > limit:
        raise UnreadableFileError(f"more than {limit} bytes; a {what} is at most {limit} bytes", path=str(path))
    return decode_utf8(data, str(path), what)


def _size(handle: Any) -> int:
    return os.fstat(handle.fileno()).st_size


def decode_utf8(data: bytes, source: str, what: str = "text file") -> str:
    """``data`` decoded as strict UTF-8; a one-line error with the offset of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise UnreadableFileError(f"not a UTF-8 {what} (byte 0x{bad} at offset {error.start})", path=source) from None


def check_depth(value: Any, source: str, limit: int = MAX_DEPTH) -> Any:
    """``value`` (parsed JSON or YAML) when no list or mapping in it is nested deeper than ``limit``."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            raise UnreadableFileError(f"nested deeper than {limit} levels", path=source)
        stack.extend((child, depth + 1) for child in children)
    return value


def parse_json(text: str, source: str) -> Any:
    """JSON of ``text`` (strict: no NaN or Infinity) with the nesting depth bounded."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise UnreadableFileError(f"nested deeper than {MAX_DEPTH} levels", path=source) from None
    except ValueError as error:
        raise UnreadableFileError(f"not JSON ({' '.join(str(error).split())[:160]})", path=source) from None
    return check_depth(value, source)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """The parsed JSON file ``path`` (size, encoding and depth checked first)."""
    return parse_json(read_text(path, what), str(path))


def read_json_object(path: str | Path, what: str = "JSON file") -> dict[str, Any]:
    """Like ``read_json`` for a file that must hold one JSON object."""
    value = read_json(path, what)
    if not isinstance(value, dict):
        raise UnreadableFileError(f"not a JSON object (a {type(value).__name__})", path=str(path))
    return value


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys, nesting deeper than ``MAX_DEPTH`` and
    aliases that expand to more than ``MAX_NODES`` values (each node's expanded size is counted
    once, as it is composed, so the check costs one pass over the text)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
            if self._sizes[id(node)] > MAX_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_NODES} values", node.start_mark
                )
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_mapping(loader: BoundedLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, not {type(key).__name__}", key_node.start_mark
            ) from None
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


BoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    """YAML of ``text`` (safe tags only, no duplicate keys, depth and alias expansion bounded);
    a syntax error names ``source`` with its line and column."""
    try:
        return yaml.load(text, Loader=BoundedLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(error, "problem", None) or str(error)
        raise UnreadableFileError(f"YAML syntax error: {' '.join(str(problem).split())}", path=where) from None
    except RecursionError:
        raise UnreadableFileError(f"nested deeper than {MAX_DEPTH} levels", path=source) from None


def read_yaml(path: str | Path, what: str = "YAML file") -> Any:
    """The parsed YAML file ``path`` (size and encoding checked first)."""
    return parse_yaml(read_text(path, what), str(path))
