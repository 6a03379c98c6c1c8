"""Reading a config file: YAML with duplicate keys refused, size-bounded, errors as
one line."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from toynn_cli.config.check import ConfigError
from toynn_cli.core.shown import show

MAX_CONFIG_BYTES = 16 * 2**20
#: ``--config -``: the config comes on standard input
STDIN = Path("-")


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping key given twice (PyYAML would silently keep the last one)."""


class Loader(yaml.SafeLoader):
    """PyYAML's SafeLoader (plain values only), refusing a key given twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise DuplicateKey(
                        problem=f"key {key_node.value!r} appears twice; expected each key once",
                        problem_mark=key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def shown(path: Path) -> str:
    """A config's name in messages: its path, or ``stdin`` for ``--config -``."""
    return "stdin" if path == STDIN else str(path)


def read_yaml_and_hash(path: Path) -> tuple[dict[str, Any], str]:
    """Read a config file (``-``: standard input) into a mapping, or raise ConfigError
    with one line; and the sha256 (hex) of the bytes read: the file's hash as it was
    parsed, not as it may be a moment later."""
    where = shown(path)
    try:
        if path == STDIN:
            raw_bytes = sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1)
        else:
            with open(path, "rb") as handle:  # bounded: /dev/zero is not a config
                raw_bytes = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw_bytes) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{where}: is larger than {MAX_CONFIG_BYTES // 2**20} MB; expected a YAML config file"
            )
        text = raw_bytes.decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such config file; expected a YAML config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: is a directory; expected a YAML config file") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"{where}: cannot read: {reason}; expected a readable YAML file"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where}: byte {exc.object[exc.start]:#04x} at offset {exc.start} is not UTF-8; "
            f"expected a UTF-8 text file"
        ) from None
    try:
        raw = yaml.load(text, Loader=Loader)  # a SafeLoader subclass: plain values only
    except DuplicateKey as exc:
        raise ConfigError(f"{where}:{_mark(exc)} {exc.problem}") from None
    except yaml.constructor.ConstructorError as exc:
        tag = re.search(r"tag '([^']*)'", str(exc.problem))
        if tag is None:  # e.g. "found unhashable key"
            raise ConfigError(
                f"{where}:{_mark(exc)} YAML error: {exc.problem}; expected plain values"
            ) from None
        tag_name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        raise ConfigError(
            f"{where}:{_mark(exc)} tag {tag_name!r} is not allowed; expected plain values "
            f"(numbers, strings, lists, mappings)"
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(
            f"{where}: line {line}: character #x{code:04x} is not allowed in YAML; "
            f"expected printable text"
        ) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        if context and problem.startswith("but "):  # "expected a single document ..., but ..."
            problem = f"{context}, {problem}"
        raise ConfigError(f"{where}:{_mark(exc)} YAML syntax error: {problem}") from None
    except RecursionError:
        raise ConfigError(
            f"{where}: YAML nested too deeply; expected a mapping of config keys"
        ) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # e.g. !!int abc
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{where}: a tagged YAML value cannot be built ({reason}); expected plain values"
        ) from None
    if raw is None:
        raise ConfigError(f"{where}: is empty; expected a mapping of config keys")
    if not isinstance(raw, dict):
        kind = YAML_KINDS.get(type(raw), type(raw).__name__)
        raise ConfigError(
            f"{where}: top level is {kind} ({show(raw, 30)}); expected a mapping of config keys"
        )
    return raw, hashlib.sha256(raw_bytes).hexdigest()


#: what a YAML document's top level is, in YAML's words
YAML_KINDS = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
}


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
