"""The .xlsx package layer: the one place that knows the file format.

An .xlsx file is a zip *package* of XML *parts* tied together by *relationships*
(``_rels/*.rels``) and typed by ``[Content_Types].xml``. Everything in :mod:`xl_addin`
that reads or writes package parts directly goes through this subpackage:

* :mod:`.names` - namespaces, relationship and content types, Excel's error codes and limits;
* :mod:`.package` - :class:`Package`, a package opened for reading under :class:`Limits`
  (entries, each part's inflated size and ratio, shared strings, text length) that hold
  against hostile files; parts, relationships, sheets and tables by name, shared strings;
* :mod:`.cells` - the cell-XML serialiser (inline strings, numbers, booleans, dates, error
  codes, formulas with a stored result; one column at once with a shared style index);
* :mod:`.sheet` - ranges (checked), the sheet's ``<dimension>``, a table's ``ref`` and
  autoFilter, the rows of ``<sheetData>``, stored formula results;
* :mod:`.writer` - :func:`rewrite`, the one primitive that rewrites a package once (changed
  parts written and compressed once, every other part copied byte for byte), and
  :func:`write_package` for a package written from scratch;
* :mod:`.workbook` - :func:`save_openpyxl`: an openpyxl workbook saved through the layer,
  compressed once, with formula results passed explicitly and optional replaced sheets.

Typical use (a changed sheet part written straight into a temporary file)::

    from xl_addin import ooxml
    with ooxml.Package(path) as pkg:
        place = pkg.table("tblActuals")
        sheet = pkg.read(place.sheet_part)
        ...
        ooxml.rewrite(pkg, tmp, {place.sheet_part: new_sheet, place.part: new_table})

The layer has no opinion about files on disk beyond reading one: replacing a workbook
safely (temporary file, backup, locks) is the caller's (``replace_atomic``).

This API is stable: other packages build on it; it changes only by additions.
"""
from __future__ import annotations

from . import cells, names, sheet
from .names import ERROR_CODES, MAX_CELL_TEXT, MAX_COLS, MAX_ROWS
from .package import (DEFAULT_LIMITS, ContentTypes, Limits, Package, PackageError,
                      PackageLimitError, Rel, TablePlace, check_package, rels_part_name,
                      resolve_target)
from .sheet import RangeError, parse_range, range_ref
from .writer import ZipWriter, content_types_xml, rels_xml, rewrite, write_package
from .workbook import openpyxl_package, save_openpyxl

__all__ = ["cells", "names", "sheet", "ERROR_CODES", "MAX_CELL_TEXT", "MAX_COLS", "MAX_ROWS",
           "DEFAULT_LIMITS", "ContentTypes", "Limits", "Package", "PackageError",
           "PackageLimitError", "Rel", "TablePlace", "check_package", "rels_part_name",
           "resolve_target", "RangeError", "parse_range", "range_ref", "ZipWriter",
           "content_types_xml", "rels_xml", "rewrite", "write_package", "openpyxl_package",
           "save_openpyxl"]
