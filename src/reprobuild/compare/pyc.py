"""Compiled Python (``.pyc``): the 16-byte header field by field, then the code objects.

The header (PEP 552) is the magic number, a flags word, and then either the source's mtime and
size (flags 0: a timestamp-based pyc) or a hash of the source (flags bit 0). A differing source
mtime is a ``timestamp``; the magic number, flags, hash and source size are ``content``.

When the magic number is the running Python's, the bodies are unmarshalled and the code objects
compared recursively, field by field, each differing code object one ``content`` leaf named
``x.pyc › qualname``. A differing ``co_filename`` is the build path compiled into the bytecode:
it is reported once, with a hint. Bodies written by another Python are compared as bytes.
"""

from __future__ import annotations

import dis
import importlib.util
import marshal
import re
import struct
from dataclasses import dataclass
from types import CodeType

from reprobuild.compare import Context, Item
from reprobuild.compare.binary import byte_difference
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import (
    FieldChange,
    cut_note,
    field_leaves,
    format_time,
    group,
    join_comments,
    leaf,
    short,
    sub,
    unified,
)

__all__ = ["PYC", "PycComparator"]

_HEADER = struct.Struct("<4sIII")
#: Code object fields compared, besides ``co_consts`` and ``co_filename`` (some are 3.11+).
_FIELDS = (
    "co_name",
    "co_qualname",
    "co_argcount",
    "co_posonlyargcount",
    "co_kwonlyargcount",
    "co_nlocals",
    "co_stacksize",
    "co_flags",
    "co_firstlineno",
    "co_names",
    "co_varnames",
    "co_freevars",
    "co_cellvars",
    "co_code",
    "co_linetable",
    "co_exceptiontable",
)
_BYTES_FIELDS = frozenset({"co_code", "co_linetable", "co_exceptiontable"})
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
BUILD_PATH_HINT = (
    "the build path is compiled into the bytecode; compile with a fixed path "
    "(py_compile's dfile, compileall -d or -s/-p, or compile from a fixed folder)"
)


def _magic_text(magic: bytes) -> str:
    return f"{int.from_bytes(magic[:2], 'little')} ({magic.hex()})"


def _header_changes(head_a: bytes, head_b: bytes) -> list[FieldChange]:
    magic_a, flags_a, word_a, size_a = _HEADER.unpack(head_a)
    magic_b, flags_b, word_b, size_b = _HEADER.unpack(head_b)
    changes = []
    if magic_a != magic_b:
        changes.append(
            FieldChange(
                category=Category.CONTENT,
                field="magic number",
                a=_magic_text(magic_a),
                b=_magic_text(magic_b),
            )
        )
    if flags_a != flags_b:
        changes.append(
            FieldChange(category=Category.CONTENT, field="flags", a=str(flags_a), b=str(flags_b))
        )
        if head_a[8:] != head_b[8:]:
            changes.append(
                FieldChange(
                    category=Category.CONTENT,
                    field="validation",
                    a=head_a[8:].hex(),
                    b=head_b[8:].hex(),
                )
            )
        return changes
    if flags_a & 1:  # hash-based
        if head_a[8:] != head_b[8:]:
            changes.append(
                FieldChange(
                    category=Category.CONTENT,
                    field="source hash",
                    a=head_a[8:].hex(),
                    b=head_b[8:].hex(),
                )
            )
        return changes
    if word_a != word_b:
        changes.append(
            FieldChange(
                category=Category.TIMESTAMP,
                field="source mtime",
                a=format_time(word_a),
                b=format_time(word_b),
            )
        )
    if size_a != size_b:
        changes.append(
            FieldChange(
                category=Category.CONTENT, field="source size", a=str(size_a), b=str(size_b)
            )
        )
    return changes


def _same_constant(x: object, y: object) -> bool:
    return type(x) is type(y) and (x == y or repr(x) == repr(y))


def _disassembly(code: CodeType) -> list[str]:
    try:
        text = dis.Bytecode(code).dis()
    except (ValueError, IndexError, KeyError, TypeError):
        return []
    return _ADDRESS.sub("", text).rstrip("\n").split("\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class _CodeWalk:
    """Compares code objects of two ``.pyc`` files named ``name_a`` and ``name_b``."""

    name_a: str
    name_b: str
    max_lines: int
    labels: tuple[str, str]
    filenames: tuple[str, str]  # the top-level pair, reported once

    def walk(self, a: CodeType, b: CodeType, found: list[Difference]) -> None:
        where = getattr(a, "co_qualname", a.co_name)
        fields = [f for f in _FIELDS if getattr(a, f, None) != getattr(b, f, None)]
        notes = []
        for f in fields:
            value_a, value_b = getattr(a, f), getattr(b, f)
            if f in _BYTES_FIELDS:
                notes.append(f"{f} differs ({len(value_a)} vs {len(value_b)} bytes)")
            else:
                notes.append(f"{f}: {short(value_a)} vs {short(value_b)}")
        if a.co_filename != b.co_filename and (a.co_filename, b.co_filename) != self.filenames:
            notes.append(f"co_filename: {short(a.co_filename)} vs {short(b.co_filename)}")
        consts_a = [c for c in a.co_consts if not isinstance(c, CodeType)]
        consts_b = [c for c in b.co_consts if not isinstance(c, CodeType)]
        if len(consts_a) != len(consts_b):
            notes.append(f"co_consts: {len(consts_a)} vs {len(consts_b)} constants")
        else:
            changed = [
                i
                for i, (x, y) in enumerate(zip(consts_a, consts_b, strict=True))
                if not _same_constant(x, y)
            ]
            if changed:
                first = changed[0]
                notes.append(
                    f"co_consts: {len(changed)} differ, first {short(consts_a[first], 60)} vs "
                    f"{short(consts_b[first], 60)}"
                )
        if notes:
            diff, cut = None, 0
            if "co_code" in fields or "co_names" in fields or any("co_consts" in n for n in notes):
                text, cut = unified(
                    _disassembly(a),
                    _disassembly(b),
                    name_a=sub(self.name_a, where),
                    name_b=sub(self.name_b, where),
                    max_lines=self.max_lines,
                    labels=self.labels,
                )
                diff = text or None
            found.append(
                leaf(
                    sub(self.name_a, where),
                    sub(self.name_b, where),
                    Category.CONTENT,
                    comment=join_comments("; ".join(notes), cut_note(cut)),
                    unified_diff=diff,
                )
            )
        nested_a = [c for c in a.co_consts if isinstance(c, CodeType)]
        nested_b = [c for c in b.co_consts if isinstance(c, CodeType)]
        for x, y in zip(nested_a, nested_b, strict=False):
            self.walk(x, y, found)
        if len(nested_a) != len(nested_b) and not notes:
            found.append(
                leaf(
                    sub(self.name_a, where),
                    sub(self.name_b, where),
                    Category.CONTENT,
                    comment=f"{len(nested_a)} vs {len(nested_b)} nested code objects",
                )
            )


def _code_difference(
    a: Item, b: Item, max_lines: int, labels: tuple[str, str] = ("", "")
) -> list[Difference]:
    code_a = marshal.loads(a.content[_HEADER.size :])
    code_b = marshal.loads(b.content[_HEADER.size :])
    if not isinstance(code_a, CodeType) or not isinstance(code_b, CodeType):
        raise ValueError("the .pyc body is not a code object")
    found: list[Difference] = []
    if code_a.co_filename != code_b.co_filename:
        found.append(
            leaf(
                sub(a.name, "co_filename"),
                sub(b.name, "co_filename"),
                Category.CONTENT,
                comment=f"{short(code_a.co_filename)} vs {short(code_b.co_filename)}: "
                + BUILD_PATH_HINT,
            )
        )
    _CodeWalk(
        name_a=a.name,
        name_b=b.name,
        max_lines=max_lines,
        labels=labels,
        filenames=(code_a.co_filename, code_b.co_filename),
    ).walk(code_a, code_b, found)
    if not found:
        found.append(
            leaf(
                sub(a.name, "(marshal data)"),
                sub(b.name, "(marshal data)"),
                Category.CONTENT,
                comment="the code objects are equal; only their marshal serialization differs "
                "(reference flags or the order of set constants)",
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class PycComparator:
    """``*.pyc`` files: header, then code objects (or bytes, for another Python's)."""

    name: str = "pyc"

    def accepts(self, a: Item, b: Item) -> bool:
        return all(
            item.basename.endswith((".pyc", ".pyo")) and len(item.data) >= _HEADER.size
            for item in (a, b)
        )

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        data_a, data_b = a.content, b.content
        head_a, head_b = data_a[: _HEADER.size], data_b[: _HEADER.size]
        children = field_leaves(a.name, b.name, _header_changes(head_a, head_b))
        body_a, body_b = data_a[_HEADER.size :], data_b[_HEADER.size :]
        if body_a != body_b:
            same_python = head_a[:4] == head_b[:4] == importlib.util.MAGIC_NUMBER
            if same_python:
                children += _code_difference(
                    a, b, context.options.max_diff_lines, context.options.labels
                )
            else:
                found = byte_difference(
                    sub(a.name, "(body)"),
                    sub(b.name, "(body)"),
                    body_a,
                    body_b,
                    comment="compiled by another Python than this one: compared as bytes",
                    labels=context.options.labels,
                )
                if found is not None:
                    children.append(found)
        return group(a.name, b.name, children)


PYC = PycComparator()
