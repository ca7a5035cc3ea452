"""One measurement in a fresh process: ``python -m benchmarks.client``.

Runs one scenario for one contender against an already running server and
prints one JSON line: the measurements, or ``{"error": ...}``. The runner
(:mod:`benchmarks.run`) starts one of these per measurement, so each contender
starts cold, its CPU time is its own, and nothing leaks between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import sys
import traceback

from .scenarios import CONTENDERS
from .servers import Server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=CONTENDERS)
    parser.add_argument("scenario")
    parser.add_argument("--n", type=int, required=True, help="size of the run")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--accounts-url", required=True)
    parser.add_argument("--organization-id", default="", help="the sandbox's")
    parser.add_argument("--org", default="", help="a fresh id, for the stub")
    args = parser.parse_args()
    server = Server(args.api_url, args.accounts_url, args.organization_id, 0)
    module = importlib.import_module(f"benchmarks.contenders.{args.contender}")
    try:
        function = getattr(module, args.scenario)
        result = function(server, args.org, args.n)
        if inspect.iscoroutine(result):
            # A contender may name its loop (uvloop); asyncio's by default.
            factory = getattr(module, "LOOP_FACTORY", None)
            with asyncio.Runner(loop_factory=factory) as runner:
                result = runner.run(result)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
