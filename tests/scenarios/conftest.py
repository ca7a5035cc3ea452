"""The scenarios' fixtures: a real redis-server for the workers' scenario."""

from ..redis_server import redis_server, redis_url  # noqa: F401
