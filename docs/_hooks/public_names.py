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

    def on_class_instance(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        """A declared action's Struct documents its method's arguments, not its own.

        Its docstring is the SDK method's (``rxlivechat/methods/declare.py``), whose
        arguments may rename fields (``chat_id`` for ``id``): nothing to warn about.
        """
        if cls.path.startswith("rxlivechat.protocol.methods.") and cls.docstring:
            cls.docstring.parser_options = {
                **cls.docstring.parser_options,
                "warn_unknown_params": False,
                "warn_missing_types": False,
            }
