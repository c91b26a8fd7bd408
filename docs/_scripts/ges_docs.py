"""A small Sphinx extension for the ges_minimize documentation.

- ``.. ges-example:: name.py``: one entry of the gallery. Shows how to run
  ``examples/name.py``, the figure ``_static/gallery/<name>.png`` when one
  has been committed, and the source in a collapsible block. The examples
  are never run at build time.
- The benchmark report ``docs/benchmarks.md`` is written by
  ``python -m benchmarks``. When it (or the Markdown parser) is missing, its
  toctree entry in ``index.rst`` and the links to it are replaced by plain
  text and a note, so that the rest of the site still builds without
  warnings.
- Two docstring slips that docutils rejects are repaired before numpydoc
  reads a docstring (see ``_repair_docstring``).
"""

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

logger = logging.getLogger(__name__)

BENCHMARK_DOC = "benchmarks"


def _repo(app):
    return Path(app.config.ges_repo_root)


class ExampleDirective(Directive):
    """``.. ges-example:: file.py``, with ``:figure: name.png`` (default: the
    script's name with ``.png``) or ``:figure: none`` for a script that draws
    nothing."""

    required_arguments = 1
    has_content = False
    option_spec = {"figure": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        name = self.arguments[0]
        path = _repo(env.app) / "examples" / name
        if not path.exists():
            logger.info(f"ges-example: examples/{name} is not in this tree")
            return [nodes.paragraph(text=f"(examples/{name} is not part of "
                                         "this version of the package.)")]
        env.note_dependency(str(path))
        command = f"python examples/{name}"
        result = [nodes.literal_block(command, command, language="bash")]
        figure = self.options.get("figure", Path(name).stem + ".png")
        figure_path = Path(env.srcdir) / "_static" / "gallery" / figure
        if figure != "none" and figure_path.exists():
            env.note_dependency(str(figure_path))
            image = nodes.image(uri=f"/_static/gallery/{figure}",
                                alt=f"The figure saved by {name}")
            result.append(nodes.figure("", image))
        source = path.read_text(encoding="utf-8")
        return result + [
            nodes.raw("", f"<details><summary>Source of <code>{name}</code>"
                          "</summary>", format="html"),
            nodes.literal_block(source, source, language="python"),
            nodes.raw("", "</details>", format="html"),
        ]


def _report_missing(app):
    """Why the benchmark report cannot be part of this build, or None."""
    report = Path(app.srcdir) / f"{BENCHMARK_DOC}.md"
    if not report.exists():
        return "it has not been generated (run ``python -m benchmarks``)"
    if "myst_parser" not in app.config.extensions:
        return "myst-parser is not installed"
    return None


def _drop_missing_report(app, docname, source):
    """Replace the toctree entry and links of a missing benchmark report."""
    why = _report_missing(app)
    if why is None:
        return
    text = re.sub(rf":doc:`([^`<]*?)\s*<(?:\.\./)?{BENCHMARK_DOC}>`", r"\1",
                  source[0])
    text = re.sub(rf":doc:`(?:\.\./)?{BENCHMARK_DOC}`", "the benchmark report",
                  text)
    if docname == app.config.root_doc:
        logger.info(f"benchmark report left out of the site: {why}")
        text = re.sub(rf"^[ \t]+{BENCHMARK_DOC}[ \t]*\n", "", text, flags=re.M)
        text += ("\n.. note::\n\n   The benchmark report is not part of this "
                 f"build: {why}.\n")
    source[0] = text


# -- docstring hygiene ---------------------------------------------------------
# Two slips that docutils turns into build errors although the docstrings read
# fine as plain text; they are repaired before numpydoc parses the docstring,
# and reported at "info" level so that they can also be fixed at the source.
SECTION_HEADERS = {"Parameters", "Returns", "Yields", "Receives", "Raises",
                   "Warns", "Warnings", "Other Parameters", "Attributes",
                   "Methods", "See Also", "Notes", "References", "Examples"}
# ``name_`` in a type spec, e.g. "ndarray of shape (n_features_in_,)", which
# reST reads as a reference to a target called "n_features_in".
FITTED_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[\s,)\]])")
FIELD = re.compile(r"^(\s*\w+\s:\s)(.*)$")


def _repair_docstring(app, what, name, obj, options, lines):
    """Blank line before a section header; literal fitted-attribute names."""
    out = []
    for i, line in enumerate(lines):
        header = (line.strip() in SECTION_HEADERS and i + 1 < len(lines)
                  and set(lines[i + 1].strip()) == {"-"})
        if header and out and out[-1].strip():
            logger.info(f"{name}: no blank line before section {line.strip()!r}")
            out.append("")
        field = FIELD.match(line)
        if field and FITTED_NAME.search(field.group(2)):
            line = field.group(1) + FITTED_NAME.sub(r"``\1``", field.group(2))
        out.append(line)
    lines[:] = out


def setup(app):
    app.add_config_value("ges_repo_root", "", "env")
    app.add_directive("ges-example", ExampleDirective)
    app.connect("source-read", _drop_missing_report)
    app.connect("autodoc-process-docstring", _repair_docstring, priority=400)
    return {"version": "1", "parallel_read_safe": True,
            "parallel_write_safe": True}
