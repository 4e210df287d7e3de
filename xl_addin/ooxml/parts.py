"""The XML of a package's own small parts: ``[Content_Types].xml`` and relationships."""
from __future__ import annotations

from typing import Mapping, Sequence
from xml.sax.saxutils import escape

from .names import CONTENT_TYPES_NS, PKG_REL, XML_DECL

__all__ = ["content_types_xml", "rels_xml"]


def content_types_xml(defaults: Mapping[str, str], overrides: Mapping[str, str]) -> bytes:
    """``[Content_Types].xml``: ``defaults`` extension -> type, ``overrides`` part name
    (with or without the leading "/") -> type."""
    rows = [f'<Default Extension="{escape(ext)}" ContentType="{escape(ct)}"/>' for ext, ct in defaults.items()]
    rows += [f'<Override PartName="/{escape(p.lstrip("/"))}" ContentType="{escape(ct)}"/>'
             for p, ct in overrides.items()]
    return f'{XML_DECL}<Types xmlns="{CONTENT_TYPES_NS}">{"".join(rows)}</Types>'.encode("utf-8")


def rels_xml(rels: Sequence[tuple[str, str, str]]) -> bytes:
    """A relationships part: (Id, Type, Target) each."""
    body = "".join(f'<Relationship Id="{escape(i)}" Type="{escape(t)}" Target="{escape(g)}"/>'
                   for i, t, g in rels)
    return f'{XML_DECL}<Relationships xmlns="{PKG_REL}">{body}</Relationships>'.encode("utf-8")
