"""The sandbox's transports (aiohttp.web): each moves bytes, the actions decide.

Rules:

1. Every protocol decision lives in :mod:`..actions` (pure); these modules only
   move bytes, keep timers (login, ping, token expiry) and apply faults.
2. Frames are built from the shared types (:mod:`rxlivechat.protocol.frames`)
   and encoded by :mod:`rxlivechat.protocol.codec`; nothing writes JSON by hand.
3. Every task they start is tracked and ended by ``Sandbox.close``.
4. Nothing an outsider sends can pin a resource for long (:mod:`..security`
   for who may connect): idle and half-open HTTP connections are closed after
   ``http_idle_timeout``, a body that stalls after ``http_body_timeout``, a
   socket whose peer stops reading after ``send_timeout``; bodies, frames, the
   request log and the uploads all have size limits.
5. They know the sandbox only as a :class:`~.host.Host` (a narrow protocol).
"""
