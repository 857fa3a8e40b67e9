"""What README.md tells a new user to type, read out of it (so CI and the README cannot drift).

``python3 tests/readme.py quickstart N`` prints the N-th command line of the
Quickstart block (1: install and first run, 2: the test suite);
``python3 tests/readme.py snippet`` prints the first Python block after it.
Plain Python, no third-party import: ``.ci/run`` calls it before anything is
installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks_after(heading: str, text: str) -> list[tuple[str, list[str]]]:
    """``(language, lines)`` of each fenced block after ``heading``, in order."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise SystemExit(f"README.md has no '{heading}' heading") from None
    blocks: list[tuple[str, list[str]]] = []
    fence: str | None = None
    for line in lines[start + 1:]:
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                blocks.append((fence, []))
            else:
                fence = None
        elif fence is not None:
            blocks[-1][1].append(line)
    return blocks


def quickstart(text: str | None = None) -> list[str]:
    """The Quickstart block's command lines (exactly two, or SystemExit)."""
    text = README.read_text() if text is None else text
    blocks = _blocks_after("## Quickstart", text)
    if not blocks:
        raise SystemExit("README.md's Quickstart has no code block")
    cmds = [line for line in blocks[0][1] if line.strip()]
    if len(cmds) != 2:
        raise SystemExit(f"README.md's Quickstart block has {len(cmds)} lines, not 2")
    return cmds


def snippet(text: str | None = None) -> str:
    """The first ``python`` block after the Quickstart heading."""
    text = README.read_text() if text is None else text
    for lang, body in _blocks_after("## Quickstart", text):
        if lang == "python":
            return "\n".join(body) + "\n"
    raise SystemExit("README.md's Quickstart has no python block")


if __name__ == "__main__":
    what = sys.argv[1:2]
    if what == ["quickstart"] and len(sys.argv) == 3:
        print(quickstart()[int(sys.argv[2]) - 1])
    elif what == ["snippet"]:
        print(snippet(), end="")
    else:
        raise SystemExit("usage: readme.py quickstart N | snippet")
