"""The protocol facts the project cites live in the project: ``docs/protocol.md``.

Code, tests and docs cite a section as ``docs/protocol.md §1.3``, or a bare
``§1.3`` after that. Every citation must name a heading of the page, and nothing
may cite the old protocol digest, which lived outside the repository. A ``§`` right
after an RFC's name (``RFC 6455 §5.2``) is the RFC's, as is every bare ``§`` of a
file that names an RFC and never the protocol page.
"""

from __future__ import annotations

import re
from pathlib import Path

from .digest import ACTIONS, PUSH_NAMES

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "protocol.md"
SCANNED = ["rxlivechat", "docs", "tests", "benchmarks", "notebooks"]
SUFFIXES = {".py", ".pyi", ".md", ".ipynb", ".yml", ".toml"}

_HEADING = re.compile(r"^#{2,4} §(\d+(?:\.\d+)*) \S", re.M)
_CITATION = re.compile(r"(?P<rfc>RFC \d+ )?§(?P<section>\d+(?:\.\d+)*)")
# Citations of the old digest: by section, or by its file name.
_OUTSIDE = re.compile(r"digest(?:'s)?\s+§|protocol-v3\.6\.md", re.I)


def sources() -> list[Path]:
    """The text files that may cite the protocol."""
    files = [ROOT / "README.md"]
    for folder in SCANNED:
        files += (
            path
            for path in sorted((ROOT / folder).rglob("*"))
            if path.suffix in SUFFIXES and ".ipynb_checkpoints" not in path.parts
        )
    return files


def headings() -> list[str]:
    """The section numbers of the protocol page, in its order."""
    return _HEADING.findall(PAGE.read_text())


def citations() -> dict[str, list[str]]:
    """Section number → the ``file:line`` places that cite it."""
    cited: dict[str, list[str]] = {}
    for path in sources():
        text = path.read_text(errors="replace")
        rfc_only = "RFC " in text and "protocol.md" not in text
        for n, line in enumerate(text.splitlines(), 1):
            for match in _CITATION.finditer(line):
                if match["rfc"] or rfc_only:
                    continue
                place = f"{path.relative_to(ROOT)}:{n}"
                cited.setdefault(match["section"], []).append(place)
    return cited


def section(number: str) -> str:
    """The text of one section of the page, up to the next heading of any level."""
    text = PAGE.read_text()
    start = re.search(rf"^#+ §{re.escape(number)} .*$", text, re.M)
    assert start, f"no §{number}"
    end = re.compile(r"^#+ ", re.M).search(text, start.end())
    return text[start.end() : end.start() if end else len(text)]


def first_column(table: str) -> list[str]:
    """The code names in the first column of a Markdown table."""
    return re.findall(r"^\| `(\w+)` \|", table, re.M)


def test_every_cited_section_is_a_heading_of_the_page() -> None:
    cited = citations()
    # The project cites the protocol all over; an empty scan would prove nothing.
    assert {"1.3", "1.4", "2.0", "3.1", "5", "10"} <= cited.keys()
    missing = {
        f"§{number}": places
        for number, places in sorted(cited.items())
        if number not in headings()
    }
    assert not missing, f"cited, but not a heading of docs/protocol.md: {missing}"


def test_the_page_numbers_its_sections_once_and_in_order() -> None:
    numbers = headings()
    assert len(numbers) == len(set(numbers))
    keys = [tuple(int(part) for part in number.split(".")) for number in numbers]
    assert keys == sorted(keys)
    # Every subsection sits under its section.
    assert all(n.split(".")[0] in numbers for n in numbers)


def test_nothing_cites_the_digest_outside_the_repository() -> None:
    stale = []
    for path in sources():
        text = path.read_text(errors="replace")
        # Joined, so that a citation broken over two lines counts too.
        joined = " ".join(text.split())
        for match in _OUTSIDE.finditer(joined):
            context = joined[max(match.start() - 40, 0) : match.end() + 10]
            stale.append(f"{path.relative_to(ROOT)}: ...{context}...")
    assert not stale, "cite docs/protocol.md §X instead:\n" + "\n".join(stale)


def test_the_action_and_push_tables_list_what_the_tests_check() -> None:
    assert first_column(section("2.0")) == ACTIONS
    assert first_column(section("3")) == PUSH_NAMES
