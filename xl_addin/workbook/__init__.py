"""Workbook adapters: the master workbook's schema, reading and writing .xlsx files."""
