"""The scenarios' fixtures beyond tests/conftest.py: a real redis-server."""

from ..redis_server import redis_server, redis_url  # noqa: F401
