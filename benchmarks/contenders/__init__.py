"""One module per contender, with one function per scenario it can run.

A scenario function takes the server, a fresh organization id (the stub addresses
push bursts by it) and a size ``n``; it returns the measurements as a dict (see
:meth:`benchmarks.measure.Span.result`). Sync functions run as they are, async
ones on a new event loop: asyncio's, or the module's ``LOOP_FACTORY`` (uvloop's).
"""
