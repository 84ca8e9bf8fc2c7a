"""What every figure and image grid hands to the report: a file, a title and a caption."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure


@dataclass
class Artifact:
    path: Path
    title: str
    caption: str
    section: str = "figures"  # "figures", "images", or "lead" (the report's opening, shown once at the top)


def save(fig: Figure, path: Path) -> Path:
    """Write a Figure (built without pyplot: no global state, no GUI backend, nothing left open)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", facecolor="white")
    return path
