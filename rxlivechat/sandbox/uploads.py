"""Uploaded files, kept within a total byte budget: the oldest go first.

Pure bookkeeping, no I/O. :class:`Uploads` writes into the store's ``files``
map (URL → :class:`~.store.StoredFile`, which the handlers read to check
``file`` events) and keeps an index by key for serving. When a new file would
take the total over the budget, the oldest files are forgotten: their URLs
answer 404, and ``file`` events naming them are refused.
"""

from __future__ import annotations

from .store import StoredFile

__all__ = ["OVERHEAD", "Uploads"]


class Uploads:
    """The files uploaded with ``upload_file``, within ``budget`` bytes in all.

    Args:
        files: the store's URL → file map (shared with the handlers).
        budget: the most bytes of file data kept at once.
    """

    def __init__(self, files: dict[str, StoredFile], budget: int) -> None:
        self.budget = budget
        """The most bytes kept at once (file data plus :data:`OVERHEAD` per file)."""
        self.size = 0
        """Bytes charged for the files kept now."""
        self._files = files
        self._urls_by_key: dict[str, str] = {}

    def add(self, url: str, stored: StoredFile) -> list[str]:
        """Keep a file at ``url``; returns the URLs evicted to make room.

        Raises:
            ValueError: the file alone is larger than the budget.
        """
        cost = _cost(stored)
        if cost > self.budget:
            raise ValueError("the file is larger than the upload budget")
        evicted: list[str] = []
        while self._files and self.size + cost > self.budget:
            oldest = next(iter(self._files))  # dicts keep insertion order
            gone = self._files.pop(oldest)
            self._urls_by_key.pop(gone.key, None)
            self.size = max(0, self.size - _cost(gone))
            evicted.append(oldest)
        self._files[url] = stored
        self._urls_by_key[stored.key] = url
        self.size += cost
        return evicted

    def find(self, key: str, name: str) -> StoredFile | None:
        """The file with this key and name, if it is still kept."""
        stored = self._files.get(self._urls_by_key.get(key, ""))
        if stored is None or stored.key != key or stored.name != name:
            return None
        return stored


OVERHEAD = 1024
"""Bytes charged per file on top of its data (so empty files are not free)."""


def _cost(stored: StoredFile) -> int:
    return len(stored.data) + OVERHEAD
