"""Every scenario for every contender, in one run: ``python -m benchmarks``.

The servers run in their own processes (the stub for the whole run, one sandbox
per round for the end-to-end scenario, a fresh one per run of the 1,000-customer
scenario), and every measurement runs in a fresh client process
(:mod:`benchmarks.client`), so the CPU time it reports is the client's alone.
Rounds interleave the contenders, in a rotating order, so that noise from other
work on the machine hits them all alike. The table shows the median over the
rounds, the min-max, and the ratios of the medians.

Progress goes to stderr; the markdown table (and its notes) to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from . import servers
from .measure import new_org
from .scenarios import CONTENDERS, NAMES, RATIOS, SCENARIOS, Metric, Scenario, quick

CLIENT_TIMEOUT = 600.0
HISTORY_TIMEOUT = 600.0
DASH = "\u2013"  # an en dash, for ranges
HISTORY_MODULE = "benchmarks.history_walk"
HISTORY_FILE = os.path.join(servers.ROOT, "benchmarks", "history_walk.py")

Results = dict[tuple[str, str], list[dict[str, Any]]]
"""(scenario, contender) → one result per round."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="runs per cell")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 round")
    parser.add_argument(
        "--only", default="", help="comma-separated scenario keys (default: all)"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=",".join(CONTENDERS) + " (default; rec: rxlivechat recording a cassette)",
    )
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument(
        "--no-history", action="store_true", help="skip the history walk"
    )
    args = parser.parse_args(argv)
    contenders = [c for c in args.contenders.split(",") if c]
    unknown = set(contenders) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {sorted(unknown)}")
    only = {key for key in args.only.split(",") if key}
    scenarios = [s for s in SCENARIOS if not only or s.key in only]
    rounds = args.rounds
    if args.quick:
        scenarios = [quick(s) for s in scenarios]
        rounds = 1

    machine = machine_info()
    started = time.perf_counter()
    results = run_rounds(scenarios, contenders, rounds)
    history = None
    if not args.no_history and (not only or "history" in only):
        history = run_history(rounds)
    elapsed = time.perf_counter() - started

    print(render(scenarios, contenders, results, history, rounds))
    print()
    print(render_notes(scenarios, contenders, machine, rounds, elapsed, history))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "machine": machine,
                    "rounds": rounds,
                    "results": {f"{s}/{c}": r for (s, c), r in results.items()},
                    "history": history,
                },
                out,
                indent=1,
            )
    failed = any("error" in r for runs in results.values() for r in runs)
    return 1 if failed else 0


# Running ---------------------------------------------------------------------------


def run_rounds(
    scenarios: list[Scenario], contenders: list[str], rounds: int
) -> Results:
    results: Results = {}
    needs_sandbox = any(s.server == "sandbox" for s in scenarios)
    with servers.stub() as stub:
        for round_no in range(rounds):
            # Rotate who goes first, so no contender always runs on a cold machine.
            shift = round_no % len(contenders)
            order = contenders[shift:] + contenders[:shift]
            with _maybe_sandbox(needs_sandbox) as sandbox:
                for scenario in scenarios:
                    for contender in order:
                        if contender not in scenario.sizes:
                            continue
                        if scenario.server == "stub":
                            result = run_client(contender, scenario, stub)
                        elif scenario.server == "sandbox":
                            assert sandbox is not None
                            result = run_client(contender, scenario, sandbox)
                        else:
                            with servers.sandbox() as fresh:
                                result = run_client(contender, scenario, fresh)
                        results.setdefault((scenario.key, contender), []).append(result)
                        _progress(round_no, rounds, scenario, contender, result)
    return results


@contextlib.contextmanager
def _maybe_sandbox(wanted: bool) -> Iterator[servers.Server | None]:
    if not wanted:
        yield None
        return
    with servers.sandbox() as sandbox:
        yield sandbox


def run_client(
    contender: str, scenario: Scenario, server: servers.Server
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.client",
        contender,
        scenario.key,
        f"--n={scenario.sizes[contender]}",
        f"--api-url={server.api_url}",
        f"--accounts-url={server.accounts_url}",
        f"--organization-id={server.organization_id}",
        # The stub addresses bursts by organization; the sandbox knows one only.
        f"--org={server.organization_id or new_org()}",
    ]
    try:
        proc = subprocess.run(
            command,
            cwd=servers.ROOT,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CLIENT_TIMEOUT:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"error": f"exit status {proc.returncode}, no result"}
    if "error" in result:
        sys.stderr.write(proc.stderr[-3000:])
    return result


def _progress(
    round_no: int,
    rounds: int,
    scenario: Scenario,
    contender: str,
    result: dict[str, Any],
) -> None:
    if "error" in result:
        shown = f"ERROR {result['error']}"
    else:
        shown = ", ".join(
            f"{m.label}: {_number(result[m.field] * m.scale)} {m.unit}"
            for m in scenario.metrics
        )
    sys.stderr.write(
        f"[round {round_no + 1}/{rounds}] {scenario.key:8} {contender:3} {shown}\n"
    )
    sys.stderr.flush()


def run_history(runs: int) -> dict[str, Any]:
    """Scenario 5, measured by ``benchmarks/history_walk.py`` (issue 5), if present.

    The walk has its own runner (a seeded sandbox, its own rounds); this runs it
    once and lifts its markdown table into ours (rxlivechat = its
    ``rxlivechat Observable`` client, raw floor = its ``raw aiohttp + msgspec``).
    Output it cannot read is shown verbatim under the table.
    """
    if not os.path.exists(HISTORY_FILE):
        return {"missing": True, "rows": [], "output": ""}
    sys.stderr.write(f"running {HISTORY_MODULE} --runs {runs} ...\n")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", HISTORY_MODULE, "--runs", str(runs)],
            cwd=servers.ROOT,
            capture_output=True,
            text=True,
            timeout=HISTORY_TIMEOUT,
            check=False,
        )
        output = proc.stdout
        if proc.returncode != 0:
            output += f"\n(exit status {proc.returncode})\n{proc.stderr[-2000:]}"
    except subprocess.TimeoutExpired:
        output = f"timed out after {HISTORY_TIMEOUT:.0f} s"
    rows = _markdown_rows(output)
    wanted = {"raw aiohttp + msgspec": "raw", "rxlivechat Observable": "rx"}
    found = [
        r | {"contender": wanted[r["client"]]}
        for r in rows
        if r.get("client") in wanted
    ]
    return {"missing": False, "rows": found, "output": output.strip()}


def _markdown_rows(text: str) -> list[dict[str, str]]:
    """The rows of the first markdown table in ``text``, keyed by header."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    if len(lines) < 3:
        return []
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == len(header):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


# Reporting --------------------------------------------------------------------------


def render(
    scenarios: list[Scenario],
    contenders: list[str],
    results: Results,
    history: dict[str, Any] | None,
    rounds: int,
) -> str:
    columns = [NAMES[c] for c in contenders]
    pairs = [(a, b) for a, b in RATIOS if a in contenders and b in contenders]
    ratio_columns = [f"{NAMES[a]} ÷ {NAMES[b]}" for a, b in pairs]
    header = ["scenario", "metric", *columns, *ratio_columns, "target (rxlivechat)"]
    rows = [header, ["---"] * len(header)]
    for scenario in scenarios:
        for metric in scenario.metrics:
            medians: dict[str, float] = {}
            cells: list[str] = []
            for contender in contenders:
                cell, median = _cell(scenario, metric, contender, results)
                cells.append(cell)
                if median is not None:
                    medians[contender] = median
            ratios = [_ratio(medians, ours, other) for ours, other in pairs]
            targets = scenario.targets.get(metric.field, ())
            target = " · ".join(f"{t.text} {_verdict(t.met(medians))}" for t in targets)
            arrow = "↑" if metric.higher_is_better else "↓"
            label = f"{metric.label}, {metric.unit} {arrow}"
            rows.append([scenario.title, label, *cells, *ratios, target])
    if history is not None:
        rows.extend(_history_rows(history, contenders, pairs, len(header)))
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _cell(
    scenario: Scenario, metric: Metric, contender: str, results: Results
) -> tuple[str, float | None]:
    if contender in scenario.unsupported:
        return "n/a", None
    runs = results.get((scenario.key, contender), [])
    values = [r[metric.field] * metric.scale for r in runs if "error" not in r]
    errors = len(runs) - len(values)
    if not values:
        return ("failed" if errors else DASH), None
    median = statistics.median(values)
    text = _number(median)
    if len(values) > 1:
        text += f" ({_number(min(values))}{DASH}{_number(max(values))})"
    if errors:
        text += f" [{errors} failed]"
    return text, median


def _history_rows(
    history: dict[str, Any],
    contenders: list[str],
    pairs: list[tuple[str, str]],
    width: int,
) -> list[list[str]]:
    title = "5. full history walk of a 10,000-event chat (sandbox, {} events/page)"
    if history["missing"]:
        note = "not measured: `benchmarks/history_walk.py` (issue 5) is missing"
        return [[title.format("?"), note, *[""] * (width - 2)]]
    if not history["rows"]:
        return [[title.format("?"), "see the output below", *[""] * (width - 2)]]
    table: list[list[str]] = []
    metrics = (
        ("events/s (median)", "events, /s ↑"),
        ("client CPU µs/event (median)", "client CPU per event, µs ↓"),
    )
    for page in dict.fromkeys(r["events/page"] for r in history["rows"]):
        rows = {r["contender"]: r for r in history["rows"] if r["events/page"] == page}
        for column, label in metrics:
            medians = {
                c: float(r[column].replace(",", ""))
                for c, r in rows.items()
                if column in r
            }
            cells = [_number(medians[c]) if c in medians else "n/a" for c in contenders]
            ratios = [_ratio(medians, ours, other) for ours, other in pairs]
            table.append([title.format(page), label, *cells, *ratios, ""])
    return table


def _ratio(medians: dict[str, float], ours: str, other: str) -> str:
    if ours not in medians or not medians.get(other):
        return ""
    return f"{medians[ours] / medians[other]:.2f}x"


def _verdict(met: bool | None) -> str:
    return {True: "**met**", False: "**missed**", None: "?"}[met]


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_notes(
    scenarios: list[Scenario],
    contenders: list[str],
    machine: dict[str, str],
    rounds: int,
    elapsed: float,
    history: dict[str, Any] | None,
) -> str:
    lines = [
        f"Median of {rounds} round(s) (min{DASH}max); ratios are of the medians. "
        "↑ higher is better, ↓ lower is better. Client CPU is the client "
        "process's own (`time.process_time()`); servers run in other processes.",
        "",
        "Sizes (n per run): "
        + "; ".join(
            f"{s.key}: "
            + ", ".join(
                f"{NAMES[c]} {s.sizes[c]:,}" for c in contenders if c in s.sizes
            )
            for s in scenarios
        ),
    ]
    reasons = {
        (NAMES[c], reason)
        for s in scenarios
        for c, reason in s.unsupported.items()
        if c in contenders
    }
    lines += [f"n/a for {name}: {reason}." for name, reason in sorted(reasons)]
    lines.append(
        "Machine: "
        + ", ".join(f"{key} {value}" for key, value in machine.items())
        + f"; whole run {elapsed:.0f} s."
    )
    if history and history.get("output") and not history.get("rows"):
        lines += ["", "Output of benchmarks/history_walk.py:", "", "```"]
        lines += [history["output"], "```"]
    return "\n".join(lines)


def machine_info() -> dict[str, str]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("aiohttp", "msgspec", "reactivex", "rxlivechat", "lc-sdk-python"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "absent"
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=servers.ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "CPU": model,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "Python": platform.python_version(),
        **versions,
        "commit": commit or "?",
    }


if __name__ == "__main__":
    sys.exit(main())
