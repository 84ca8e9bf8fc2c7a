"""`python -m gvc list` and `--help`: every config group and its options, read from the config folders.

Torch-free and Hydra-free, so that `list` and `--help` answer at once: gvc/__main__.py dispatches them before it
imports anything heavy. The launchers Hydra's plugins bring are named here (PLUGIN_LAUNCHERS); a test checks the
list against Hydra's own discovery.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout (or editable install) holding conf/ and sweeps/
CONF = ROOT / "conf"
# Launchers that Hydra's plugins bring (their configs are dataclasses, with no YAML to read a line from).
PLUGIN_LAUNCHERS = {
    "basic": "trials one after another, in this process (the default)",
    "joblib": "parallel trials on one machine (hydra.launcher.n_jobs=2 trainer.threads=1)",
    "submitit_local": "trials as local submitit jobs: the SLURM code path, testable anywhere",
    "submitit_slurm": "Hydra's plain SLURM launcher; prefer slurm_cpu / slurm_gpu, which record lost trials",
}
# What `list` shows, in this order: (heading, config group). Other groups found in conf/ follow.
SECTIONS = [("models", "model"), ("objectives", "loss"), ("data sets", "data"), ("optimizers", "optimizer"),
            ("trainers", "trainer"), ("evaluation", "eval"), ("experiments", "experiment"),
            ("named sweeps (-m +sweeps=NAME)", "sweeps"), ("launchers (hydra/launcher=NAME)", "hydra/launcher"),
            ("loggers", "logger")]
WRAP_FALLBACK = 100  # columns when the output is not a terminal (or $COLUMNS is unset)

USAGE = """\
usage: python -m gvc [OVERRIDES]          train one configuration
       python -m gvc -m [OVERRIDES]       sweep (comma-separated values, or +sweeps=NAME)
       python -m gvc list                 the config groups and their options (below)
       python -m gvc --cfg job [OVERRIDES]  print the composed config, every key
       python -m gvc.sample RUN_DIR       sample images from a trained run
       python -m gvc.evaluate RUN_DIR     re-evaluate a trained run
       python -m analysis [RUNS ...]      compare runs in a report
       python -m gvc --hydra-help         Hydra's own options

Overrides are key=value (optimizer.lr=3e-4) or group=option (model=conv_vae); see README.md.
"""


def group_options(group: str) -> list[str]:
    """The options of a config group, without the schemas: YAML files under conf/GROUP/ (nested ones as
    short/dcgan) or sweeps/, and for hydra/launcher also what Hydra's plugins bring."""
    folder = ROOT / "sweeps" if group == "sweeps" else CONF / group
    options = {p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.yaml")}
    if group == "hydra/launcher":
        options |= set(PLUGIN_LAUNCHERS)
    return sorted(o for o in options if not o.endswith("_schema"))


def config_groups() -> list[str]:
    """Every config group: the folders of conf/ (so a new group appears by itself), the sweeps, the launchers."""
    found = sorted({p.parent.relative_to(CONF).parts[0] for p in CONF.rglob("*.yaml") if p.parent != CONF})
    return [g for g in found if g != "hydra"] + ["sweeps", "hydra/launcher"]


def describe(group: str, option: str) -> str:
    """What an option is: the first sentence of its YAML file's opening comment (after `# @package`), whole."""
    path = (ROOT / "sweeps" if group == "sweeps" else CONF / group) / f"{option}.yaml"
    if not path.is_file():
        return PLUGIN_LAUNCHERS.get(option, "") if group == "hydra/launcher" else ""
    words = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            words.append(line.lstrip("# ").strip())
    text = " ".join(words)
    return re.split(r"(?<! al)\. (?=[A-Z`(])", text)[0].rstrip(".") + "." if text else ""


def listing(columns: int | None = None) -> str:
    """Every config group with its options; a description longer than the line continues under itself."""
    columns = columns or shutil.get_terminal_size((WRAP_FALLBACK, 24)).columns
    groups = config_groups()
    ordered = [(title, g) for title, g in SECTIONS if g in groups]
    ordered += [(g, g) for g in groups if g not in {g for _, g in SECTIONS}]
    lines = []
    for title, group in ordered:
        selector = "" if group in ("sweeps", "hydra/launcher") else f" ({group}=NAME)"
        lines.append(f"{title}{selector}:")
        options = group_options(group)
        width = max((len(o) for o in options), default=0)
        indent = " " * (width + 4)
        for option in options:
            text = describe(group, option)
            wrapped = textwrap.wrap(text, max(columns - len(indent), 30)) or [""]
            lines.append(f"  {option:<{width}}  {wrapped[0]}".rstrip())
            lines += [indent + more for more in wrapped[1:]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> bool:
    """`list` or `--help`/`-h` anywhere: print and return True; anything else is not ours (False)."""
    if argv[:1] == ["list"]:
        print(listing(), end="")
        return True
    if any(a in ("--help", "-h") for a in argv):
        print(USAGE + "\n" + listing(), end="")
        return True
    return False
