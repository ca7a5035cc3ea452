"""The former name of :mod:`rxlivechat.methods.v1` (kept for its imports)."""

from .v1 import CustomerUpdate, Score, V1Methods

__all__ = ["CustomerUpdate", "Score", "V1Methods"]
