"""Namespaces, relationship types, content types and other constants of the .xlsx format.

Every other module of :mod:`xl_addin` that needs one of these strings imports it from here
(through :mod:`xl_addin.ooxml`)."""
from __future__ import annotations

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
NS = {"m": MAIN, "r": DOC_REL, "p": PKG_REL, "ct": CONTENT_TYPES_NS}

XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES_PART = "[Content_Types].xml"
ROOT_RELS_PART = "_rels/.rels"

# relationship types
REL_OFFICE_DOCUMENT = f"{DOC_REL}/officeDocument"
REL_WORKSHEET = f"{DOC_REL}/worksheet"
REL_STYLES = f"{DOC_REL}/styles"
REL_SHARED_STRINGS = f"{DOC_REL}/sharedStrings"
REL_TABLE = f"{DOC_REL}/table"
REL_THEME = f"{DOC_REL}/theme"
REL_APP = f"{DOC_REL}/extended-properties"
REL_CORE = f"{PKG_REL}/metadata/core-properties"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_RIBBON = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"

# content types
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
CT_XML = "application/xml"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_WORKBOOK_MACRO = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_ADDIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
CT_APP = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"

# Excel's error values, as a cell of type "e" holds them
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")

# Excel's sheet bounds and cell limit
MAX_ROWS = 1_048_576
MAX_COLS = 16_384
MAX_CELL_TEXT = 32_767
