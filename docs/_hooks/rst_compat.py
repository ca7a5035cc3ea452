"""A griffe extension: the package's few reStructuredText habits, as Markdown.

The docstrings are Google style, but some use reStructuredText markup that
mkdocstrings (Markdown) would print literally. Before they are parsed:

- ``.. code-block:: lang`` and ``Paragraph::`` literal blocks become fenced code;
- roles (``:class:`~a.b.C```, ``:meth:`x <a.b.x>```, ``:func:``...) become code spans,
  linked to the reference entry when the name resolves (an *optional* autoref: a
  role naming something outside the reference stays plain text and cannot break
  the strict build).

Loaded by ``mkdocs.yml`` (mkdocstrings' ``extensions`` option); not part of the
package.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import griffe

_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. code-block::\s*(?P<lang>\S*)\s*$")
_LITERAL = re.compile(r"^(?P<indent>\s*)(?P<text>.*\S)?::\s*$")
_DOCTEST_FLAG = re.compile(r"\s*# doctest:.*$")
_ROLE = re.compile(r":(?:class|meth|func|attr|data|mod|exc|obj):`(?P<body>[^`]+)`")


Resolve = Callable[[str], "str | None"]
"""Maps a role's target (as written) to its full dotted path, or ``None``."""


def _role(match: re.Match[str], resolve: Resolve | None = None) -> str:
    body = match.group("body")
    explicit = re.match(r"^(?P<title>.+?)\s*<(?P<target>[^>]+)>$", body)
    if explicit:
        title, target = explicit.group("title"), explicit.group("target")
    else:
        target = body.removeprefix("~")
        title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
    path = resolve(target) if resolve else None
    if path is None:
        return f"`{title}`"
    return f'<autoref identifier="{path}" optional><code>{title}</code></autoref>'


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def convert(text: str, resolve: Resolve | None = None) -> str:
    """``text`` with code-block directives, literal blocks and roles in Markdown."""
    role = partial(_role, resolve=resolve)
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    fenced = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            out.append(line)
            i += 1
            continue
        if line.lstrip().startswith(">>>"):
            # A doctest session (in Google "Example:" sections it would otherwise
            # read as a Markdown block quote): a pycon block, up to a blank line.
            indent = line[: _indent_of(line)]
            j = i
            block = []
            while j < len(lines) and lines[j].strip():
                block.append(_DOCTEST_FLAG.sub("", lines[j][len(indent) :]))
                j += 1
            if out and out[-1].strip() and not out[-1].rstrip().endswith(":"):
                out.append("")  # a paragraph before: end it (not a section title)
            out.append(f"{indent}```pycon")
            out.extend(f"{indent}{b}" for b in block)
            out.append(f"{indent}```")
            i = j
            continue
        directive = _DIRECTIVE.match(line)
        literal = None if directive else _LITERAL.match(line)
        if literal and line.strip().startswith(".."):
            literal = None
        if directive or literal:
            match = directive or literal
            assert match is not None
            indent = match.group("indent")
            lang = directive.group("lang") if directive else ""
            if literal:
                text_before = literal.group("text")
                if text_before:
                    out.append(f"{indent}{_ROLE.sub(role, text_before)}:")
            j = i + 1
            block: list[str] = []
            while j < len(lines) and (
                not lines[j].strip() or _indent_of(lines[j]) > len(indent)
            ):
                block.append(lines[j])
                j += 1
            while block and not block[-1].strip():
                block.pop()
                j -= 1
            body = [b for b in block if b.strip()]
            if not body:  # not followed by a block: leave the line alone
                if directive:
                    out.append(line)
                i += 1
                continue
            cut = min(_indent_of(b) for b in body)
            while block and not block[0].strip():
                block.pop(0)
            out.append("")
            out.append(f"{indent}```{lang}")
            out.extend(f"{indent}{b[cut:]}" if b.strip() else "" for b in block)
            out.append(f"{indent}```")
            i = j
            continue
        out.append(_ROLE.sub(role, line))
        i += 1
    return "\n".join(out)


class RstCompat(griffe.Extension):
    """Rewrites each docstring with :func:`convert` when it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert the object's docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value, partial(_resolve, obj))


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """``target``'s full path, seen from ``obj`` (its scope, then its parents')."""
    if target.startswith("rxlivechat."):
        return target
    first, _, rest = target.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            path = scope.resolve(first)
        except griffe.NameResolutionError:
            scope = scope.parent
            continue
        return f"{path}.{rest}" if rest else path
    return None
