"""A tiny document model rendered twice: report.md (relative image links) and a self-contained report.html
(images embedded as base64 data URIs, so the HTML file can be mailed or moved on its own)."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.artifact import Artifact
from analysis.conclusions import REAL_DATA
from analysis.tables import FLOOR_ROW, NOISE_ROW, fmt, to_markdown


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Text:
    text: str  # may use **bold**, `code` and [label](relative/link)


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    frame: pd.DataFrame
    index: bool = False


@dataclass
class Image:
    artifact: Artifact


Block = Heading | Text | Bullets | Table | Image


def anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# -- Markdown --------------------------------------------------------------------------------------------------
def to_md(blocks: list[Block], root: Path) -> str:
    parts = []
    for b in blocks:
        if isinstance(b, Heading):
            parts.append("#" * b.level + " " + b.text)
        elif isinstance(b, Text):
            parts.append(b.text)
        elif isinstance(b, Bullets):
            parts.append("\n".join(f"- {item}" for item in b.items))
        elif isinstance(b, Table):
            parts.append(to_markdown(b.frame, index=b.index))
        elif isinstance(b, Image):
            rel = b.artifact.path.relative_to(root).as_posix()
            parts.append(f"![{b.artifact.title}]({rel})\n\n*{b.artifact.title}.* {b.artifact.caption}")
    return "\n\n".join(parts) + "\n"


# -- HTML ------------------------------------------------------------------------------------------------------
def inline(text: str) -> str:
    """Escape, then the bits of Markdown the report uses: **bold**, *italic*, `code`, [label](link)."""
    out = html.escape(text, quote=True)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*(\S[^*]*?\S)\*(?![\w*])", r"<em>\1</em>", out)
    out = re.sub(r"`(.+?)`", r"<code>\1</code>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', out)


def html_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A table inside a box that scrolls sideways, so a wide table never runs off the page; the uniform-noise
    and real-data reference rows are styled apart from the model rows they frame."""
    if index:
        frame = frame.reset_index()
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(("<tr class=\"ref\">" if len(row) and row[0] in REFERENCE_ROWS else "<tr>")
                   + "".join(_cell(fmt(v)) for v in row) + "</tr>" for row in frame.itertuples(index=False))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


REFERENCE_ROWS = (NOISE_ROW, FLOOR_ROW, REAL_DATA)
WRAP_AFTER = 40  # characters: shorter cells (numbers, "mean ± std (n)") never wrap, the box scrolls instead


def _cell(text: str) -> str:
    return f'<td class="wrap">{html.escape(text)}</td>' if len(text) > WRAP_AFTER else f"<td>{html.escape(text)}</td>"


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; } h2 { border-bottom: 1px solid #eee; margin-top: 2em; }
table { border-collapse: collapse; font-size: 13px; margin: .6em 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 16em; }
th { background: #f4f4f4; } tr:nth-child(even) td { background: #fafafa; }
tr.ref td { background: #eef3f8; color: #445; font-style: italic; }
.scroll { overflow-x: auto; } figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 14px; color: #444; max-width: 900px; } code { background: #f4f4f4; padding: 0 3px; }
nav ul { columns: 2; font-size: 14px; }
"""


def to_html(blocks: list[Block], title: str) -> str:
    toc = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
             f"<style>{STYLE}</style></head><body>"]
    for i, b in enumerate(blocks):
        if isinstance(b, Heading):
            parts.append(f'<h{b.level} id="{anchor(b.text)}">{html.escape(b.text)}</h{b.level}>')
            if i == 0 and toc:
                items = "".join(f'<li><a href="#{anchor(h.text)}">{html.escape(h.text)}</a></li>' for h in toc)
                parts.append(f"<nav><ul>{items}</ul></nav>")
        elif isinstance(b, Text):
            parts.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{inline(item)}</li>" for item in b.items) + "</ul>")
        elif isinstance(b, Table):
            parts.append(html_table(b.frame, b.index))
        elif isinstance(b, Image):
            a = b.artifact
            parts.append(f'<figure id="{anchor(a.path.stem)}"><img src="{data_uri(a.path)}" alt="{html.escape(a.title)}">'
                         f"<figcaption><strong>{html.escape(a.title)}.</strong> {inline(a.caption)}</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
