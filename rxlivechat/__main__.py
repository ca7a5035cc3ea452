"""The command line: ``python -m rxlivechat demo | sandbox | tail | worker``.

Installed as the ``rxlivechat`` script too.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
from collections.abc import Sequence

from .cli.loop import loop_options, run

__all__ = ["main", "parser"]

_EPILOG = """\
examples:
  rxlivechat demo                          a customer and a scripted agent chat
  rxlivechat sandbox --port 8080           a LiveChat-compatible server to test against
  rxlivechat tail --seconds 5              the event stream as JSON lines (sandbox)
  rxlivechat tail --organization-id ID --client-id CLIENT   ... of a real organization
  rxlivechat worker --redis redis://127.0.0.1:6379/0 --organization-id ID --add alice
                                           share customers with other workers

documentation: the docs/ folder of the source (mkdocs), built by `make docs`
"""


def parser() -> argparse.ArgumentParser:
    """The argument parser of the command line (one subcommand per job)."""
    from . import __version__

    root = argparse.ArgumentParser(
        prog="rxlivechat",
        description="A reactive customer SDK for LiveChat's Customer Chat API v3.6, "
        "with a local sandbox server.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    loop = loop_options()  # --no-uvloop, on every command

    demo = commands.add_parser(
        "demo",
        parents=[loop],
        help="a customer and a scripted agent chat on the embedded sandbox",
        description="Start the embedded sandbox on 127.0.0.1, connect a customer, "
        "chat with a scripted agent while printing the live event stream (an RxPY "
        "pipeline), rate and close the chat, then walk its history. Needs no "
        "account and no network; exits 0.",
    )
    demo.add_argument(
        "--messages",
        type=int,
        default=3,
        metavar="N",
        help="how many question/answer turns (1 to 3; default: %(default)s)",
    )

    sandbox = commands.add_parser(
        "sandbox",
        parents=[loop],
        help="run the sandbox server standalone",
        description="Serve a LiveChat-compatible Customer Chat API v3.6 (RTM "
        "WebSocket, Web API, customer token endpoint) and an agent console (a web "
        "page where you play the agent) on 127.0.0.1 until Ctrl-C. Prints the URLs, "
        "the organization id and a fresh customer access token, one 'key: value' per "
        "line, then snippets for Python and the JS SDK, then serves.",
    )
    sandbox.add_argument(
        "--port",
        type=int,
        default=0,
        help="the port to listen on (default: a free one, printed at start)",
    )
    sandbox.add_argument(
        "--tls",
        action="store_true",
        help="serve https/wss with a throwaway certificate (its CA file is printed)",
    )
    sandbox.add_argument(
        "--seed",
        default=None,
        help="seed the ids, for reproducible runs (tokens stay secret)",
    )
    sandbox.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let pages of this origin (e.g. http://localhost:3000, a widget under "
        "development) call the sandbox from a browser; repeatable",
    )

    tail = commands.add_parser(
        "tail",
        parents=[loop],
        help="print a customer's event stream as JSON lines",
        description="Connect as a customer and print every event of the SDK's stream "
        'as one JSON line, {"event": name, "payload": ...}, until Ctrl-C. Without '
        "--organization-id, an embedded sandbox is started and a scripted agent says "
        "hello, so there is something to see.",
    )
    tail.add_argument(
        "--organization-id",
        metavar="ID",
        help="the LiveChat organization (default: an embedded sandbox)",
    )
    tail.add_argument(
        "--client-id",
        default="rxlivechat-tail",
        help="the app's client id (default: %(default)s)",
    )
    tail.add_argument(
        "--api-url",
        default="https://api.livechatinc.com",
        metavar="URL",
        help="the Customer Chat API (default: %(default)s)",
    )
    tail.add_argument(
        "--accounts-url",
        default=None,
        metavar="URL",
        help="the Accounts API, for the customer token (default: LiveChat's, "
        "https://accounts.livechat.com; required with another --api-url)",
    )
    tail.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    record = commands.add_parser(
        "record",
        parents=[loop],
        help="record a customer's session to a cassette (docs/howto/record-replay.md)",
        description="Connect as tail does, print the event stream, and record every "
        "frame and HTTP exchange to FILE (secrets redacted) until Ctrl-C. The "
        "connection options follow --: --organization-id, --client-id, --api-url, "
        "--accounts-url, --seconds; without --organization-id, an embedded sandbox.",
    )
    record.add_argument("--out", required=True, metavar="FILE", help="the cassette")
    record.add_argument(
        "connection",
        nargs=argparse.REMAINDER,
        metavar="-- OPTIONS",
        help="the connection options",
    )
    check = commands.add_parser(
        "check-cassette",
        parents=[loop],
        help="replay a cassette's requests against the sandbox; print what differs",
        description="Send a cassette's requests to an embedded sandbox (or the "
        "server given) and print where its answers differ from the recorded ones, "
        "shape and values, ids and times aside. Exit status 0: none differ; 1: some "
        "do; 2: the cassette cannot be read.",
    )
    check.add_argument("file", metavar="FILE", help="the cassette")
    check.add_argument("--api-url", default=None, metavar="URL")
    check.add_argument("--accounts-url", default=None, metavar="URL")
    check.add_argument("--organization-id", default=None, metavar="ID")
    check.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds to wait for each answer (default: %(default)s)",
    )
    worker = commands.add_parser(
        "worker",
        parents=[loop],
        help="run the customers of a set shared with other workers on Redis",
        description="Share a set of customer keys with the other workers started "
        "with the same Redis URL and organization: the keys hash into partitions, "
        "each partition is run by exactly one worker under a fenced lease renewed "
        "every third of --lease-time; a dead worker's partitions are taken over "
        "when its leases expire. Prints every event as a JSON line with its "
        "customer key, until Ctrl-C or SIGTERM; logs on standard error.",
    )
    worker.add_argument("--redis", required=True, metavar="URL", help="redis://...")
    worker.add_argument("--organization-id", required=True, metavar="ID")
    worker.add_argument("--client-id", default="rxlivechat-worker")
    worker.add_argument(
        "--api-url", default="https://api.livechatinc.com", metavar="URL"
    )
    worker.add_argument(
        "--accounts-url", default="https://accounts.livechat.com", metavar="URL"
    )
    worker.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="KEY",
        help="add this customer key to the shared set first; repeatable",
    )
    worker.add_argument(
        "--lease-time",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long a lease lasts unless renewed (default: %(default)s)",
    )
    worker.add_argument(
        "--max-concurrent-logins",
        type=int,
        default=50,
        metavar="N",
        help="customers logging in at once (default: %(default)s)",
    )
    worker.add_argument(
        "--worker-id", default=None, help="default: pid and a random tag"
    )
    worker.add_argument(
        "--partitions",
        type=int,
        default=1024,
        metavar="P",
        help="partitions of the deployment, fixed at its first start "
        "(default: %(default)s)",
    )
    worker.add_argument(
        "--login-rate",
        type=float,
        default=200.0,
        metavar="PER_SECOND",
        help="logins per second of all the workers together (default: %(default)s)",
    )
    worker.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="what goes to standard error (default: %(default)s)",
    )
    worker.add_argument(
        "--status",
        action="store_true",
        help="print the assignment (workers, partitions, customers, epochs) and exit",
    )
    worker.add_argument(
        "--seconds", type=float, default=None, help="stop after this many seconds"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (130 after Ctrl-C)."""
    args = parser().parse_args(argv)
    _utf8_output()
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "demo":
            from .cli.demo import run_demo

            return run(run_demo(replies=args.messages), use_uvloop=args.uvloop)
        if args.command == "sandbox":
            from .sandbox.cli import serve_forever

            try:
                run(
                    serve_forever(
                        port=args.port,
                        tls=args.tls,
                        seed=args.seed,
                        allowed_origins=args.allow_origin,
                    ),
                    use_uvloop=args.uvloop,
                )
            except OSError as exc:  # the port is taken, or not ours to bind
                return _cannot_listen(args.port, exc)
            return 0
        if args.command == "worker":
            from .cli.worker import run_worker

            return run(
                run_worker(
                    redis_url=args.redis,
                    organization_id=args.organization_id,
                    add=args.add,
                    seconds=args.seconds,
                    client_id=args.client_id,
                    api_url=args.api_url,
                    accounts_url=args.accounts_url,
                    lease_time=args.lease_time,
                    max_concurrent_logins=args.max_concurrent_logins,
                    worker_id=args.worker_id,
                    partitions=args.partitions,
                    login_rate=args.login_rate,
                    log_level=args.log_level,
                    status=args.status,
                ),
                use_uvloop=args.uvloop,
            )
        if args.command == "record":
            from .cli.record import run_record

            return run(run_record(args.out, args.connection), use_uvloop=args.uvloop)
        if args.command == "check-cassette":
            from .cli.check_cassette import run_check_cassette

            return run(
                run_check_cassette(
                    args.file,
                    api_url=args.api_url,
                    accounts_url=args.accounts_url,
                    organization_id=args.organization_id,
                    timeout=args.timeout,
                ),
                use_uvloop=args.uvloop,
            )
        from .cli.tail import run_tail

        return run(
            run_tail(
                organization_id=args.organization_id,
                client_id=args.client_id,
                api_url=args.api_url,
                accounts_url=args.accounts_url,
                seconds=args.seconds,
            ),
            use_uvloop=args.uvloop,
        )
    return 130


def _utf8_output() -> None:
    """Write UTF-8, whatever the locale: the JSON lines and the demo's ``│``.

    Windows gives a redirected stdout its ANSI code page (cp1252...), which cannot
    encode most of Unicode; JSON is UTF-8 by definition.
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # not when replaced by a StringIO...
            stream.reconfigure(encoding="utf-8")


def _cannot_listen(port: int, exc: OSError) -> int:
    """One line on stderr, with the way out; status 2."""
    if exc.errno == errno.EADDRINUSE:
        why = f"port {port} is already in use"
    else:
        why = f"cannot listen on port {port}: {exc.strerror or exc}"
    sys.stderr.write(f"rxlivechat sandbox: {why} (--port 0 picks a free port)\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
