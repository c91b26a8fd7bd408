"""Every ```python block of README.md runs on its own, as written.

Each block is executed in a fresh namespace, so a block that leans on a
name defined in an earlier one (``f``, ``np``) fails here as it would for a
reader who pastes it alone. The numbers the blocks print are not checked:
they belong to the library's defaults, which change.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.M | re.S)
NEEDS = {"dask": "distributed", "sklearn": "sklearn"}


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS,
                         ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs_alone(code, capsys):
    for word, module in NEEDS.items():
        if f"from {word}" in code or f"import {word}" in code:
            pytest.importorskip(module)
    namespace = {"__name__": "__readme__"}
    exec(compile(code, "README.md", "exec"), namespace)
    names = set(re.findall(r"^(\w+)\s*=", code, flags=re.M))
    assert names <= set(namespace)          # every assignment happened


def test_install_lines_name_the_checkout():
    """The package is not on PyPI: every install line installs the checkout."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.rst"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"pip install \S*ges_minimize\[", text), page
