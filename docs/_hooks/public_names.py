"""A griffe extension: the reference shows what users write, not internals.

An attribute assigned from private state (``frames = self._streams.frames``)
shows its type and docstring, not the expression.

Loaded by ``mkdocs.yml`` (mkdocstrings' ``extensions`` option); not part of the
package.
"""

from __future__ import annotations

from typing import Any

import griffe


class PublicNames(griffe.Extension):
    """Drops attribute values that read private state."""

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        """No value that reads private state (``self._x``)."""
        if attr.value is not None and "._" in str(attr.value):
            attr.value = None
