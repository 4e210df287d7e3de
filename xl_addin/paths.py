"""Where the package finds its shipped files (templates, plan data).

In a source checkout the templates live in the top-level ``templates/`` folder; an installed
wheel carries the same files as the ``xl_addin.templates`` package. Callers ask for a path
and never care which.
"""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The folder holding regional-workbook, email, ribbon and VBA templates."""
    checkout = _PKG.parent / "templates"
    if checkout.is_dir():
        return checkout
    installed = _PKG / "templates"
    if installed.is_dir():
        return installed
    raise FileNotFoundError("xl_addin templates folder not found")


def template_path(*parts: str) -> Path:
    """A file or folder inside the templates folder, e.g. ``template_path('email', 'body.zh.txt.j2')``."""
    return templates_dir().joinpath(*parts)


def data_path(*parts: str) -> Path:
    """A file shipped inside the package's ``data`` folder."""
    return _PKG.joinpath("data", *parts)
