"""A TCP proxy on 127.0.0.1 that can stall: a network path that stops carrying bytes.

While stalled it neither reads nor writes, on any connection, and keeps them
open: the client sees no error, only silence (a partition, a dead switch), until
its own timeouts fire. New connections are accepted and stall too.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

__all__ = ["StallingProxy"]


class StallingProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_port``; :meth:`stall` stops it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stall(self) -> None:
        """Carry nothing from now on (connections stay open)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Carry bytes again."""
        self._flowing.set()

    async def __aenter__(self) -> StallingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        self._closing = True
        self._flowing.set()  # stalled accepts see the close and end
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await asyncio.sleep(0)  # the accepts woken above end
        await self._server.wait_closed()

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await self._flowing.wait()
        if self._closing:
            writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.close()
            return
        loop = asyncio.get_running_loop()
        pipes = {
            loop.create_task(self._pipe(reader, upstream_writer)),
            loop.create_task(self._pipe(upstream_reader, writer)),
        }
        self._pipes |= pipes
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes -= pipes
            for end in (writer, upstream_writer):
                end.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                await self._flowing.wait()
                data = await reader.read(65536)
                if not data:
                    return
                await self._flowing.wait()  # read before the stall: held back
                writer.write(data)
                await writer.drain()
