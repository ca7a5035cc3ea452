"""The constraints on what a customer sends, as field types.

``validate`` (the client) and the sandbox's decoder both enforce them, so no
method re-checks them by hand.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1)]
"""An id, a name or a key: a non-empty string."""


GroupId = Annotated[int, msgspec.Meta(ge=0)]
"""A group's id (or a greeting's): an ``int`` >= 0."""


HTTP_URL = r"^(?i:https?)://[^/?#\s]"
"""The pattern of an absolute ``http``/``https`` URL (a host after the scheme)."""


HttpUrl = Annotated[str, msgspec.Meta(pattern=HTTP_URL)]
"""An absolute ``http``/``https`` URL."""


SortOrder = Literal["asc", "desc"]
"""A page's order: ``"desc"`` (newest first, the server's default) or ``"asc"``."""


FormType = Literal["prechat", "postchat", "ticket"]
"""The forms ``get_form`` can fetch."""


WireSortOrder = Annotated[str, msgspec.Meta(pattern="^(asc|desc)$")]
"""A :data:`SortOrder` on the wire: a ``str``, so a request with another value
can be built (and sent raw, as the sandbox's tests do), but not validated."""


WireFormType = Annotated[str, msgspec.Meta(pattern="^(prechat|postchat|ticket)$")]
"""A :data:`FormType` on the wire."""


PropertiesIn = Annotated[
    dict[Id, Annotated[dict[Id, Any], msgspec.Meta(min_length=1)]],
    msgspec.Meta(min_length=1),
]
"""Properties to set: ``{"namespace": {"name": value}}``, nothing empty."""


PropertyNamesIn = Annotated[
    dict[Id, Annotated[list[Id], msgspec.Meta(min_length=1)]],
    msgspec.Meta(min_length=1),
]
"""Properties to delete: ``{"namespace": ["name", ...]}``, nothing empty."""


SessionFieldsIn = list[
    Annotated[dict[Id, str], msgspec.Meta(min_length=1, max_length=1)]
]
"""Session fields to set: single-key maps ``[{"key": "value"}]``.

At most 100 (``LIMITS.session_fields``), which the server refuses with its own
error (``customer_session_fields_limit_reached``), not as a malformed request.
"""
