"""The file-format floor: the least any tool must spend on a master workbook's recalculation.

Reads every input table of ``INPUT`` with python-calamine (Rust) and writes ``--cells``
output cells (one sheet per output table, rows of text codes and numbers like the real output
tables) with XlsxWriter in constant-memory mode, or with ``--writer fast`` with
rustpy-xlsxwriter (Rust's rust_xlsxwriter behind a Python API, the fastest writer we found
on PyPI: the same cells, the first row of each sheet being its header). No calculation, no styles, no
validation: only reading the inputs and writing the outputs, the two things a recalculation
cannot avoid. Run it in a fresh process (``benchmarks/run.py`` does) so interpreter start-up
counts as it does for ``xl-addin recalc``.

    python benchmarks/io_floor.py MASTER.xlsx -o OUT.xlsx --cells 40000x11,40000x10,... [--writer fast]

Prints one JSON line: input cells read, output cells written, seconds.
"""
from __future__ import annotations

import argparse
import json
import time

INPUT_TABLES = ("tblPlan", "tblQuarterSplit", "tblRegionSplit", "tblProductSplit", "tblCubePrior",
                "tblRegions", "tblTeam", "tblBudget", "tblKpiScheme", "tblActuals", "tblImprovement")
TEXT_COLUMNS = 3   # leading text columns of an output row (rep_id, region, quarter)


def read_inputs(path: str) -> int:
    """Every input table's cells as Python values; returns the number of cells read."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path, load_tables=True)
    n = 0
    names = set(wb.table_names)
    for name in INPUT_TABLES:
        if name in names:
            rows = wb.get_table_by_name(name).to_python()
            n += sum(len(r) for r in rows)
    return n


def write_outputs(path: str, shapes: list[tuple[int, int]]) -> int:
    """``rows x cols`` cells per output table, streamed; returns the number of cells."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    n = 0
    for t, (rows, cols) in enumerate(shapes):
        ws = wb.add_worksheet(f"out{t + 1}")
        text = min(TEXT_COLUMNS, cols)
        for r in range(rows):
            ws.write_row(r, 0, [f"S{r:06d}"] * text + [r * 1.25 + c for c in range(cols - text)])
        n += rows * cols
    wb.close()
    return n


def write_outputs_fast(path: str, shapes: list[tuple[int, int]]) -> int:
    """The same cells as :func:`write_outputs`, written by rustpy-xlsxwriter: it takes rows
    as dicts (a generator, streamed) and writes their keys as a header row, so each sheet has
    a header row and ``rows - 1`` data rows: ``rows x cols`` cells, as before."""
    import rustpy_xlsxwriter

    def rows_of(rows: int, cols: int):
        keys = [f"c{c + 1}" for c in range(cols)]
        text = min(TEXT_COLUMNS, cols)
        for r in range(rows - 1):
            yield dict(zip(keys, [f"S{r:06d}"] * text + [r * 1.25 + c for c in range(cols - text)]))

    sheets = [(f"out{t + 1}", rows_of(rows, cols)) for t, (rows, cols) in enumerate(shapes)]
    rustpy_xlsxwriter.write_worksheets(sheets, path)
    return sum(rows * cols for rows, cols in shapes)


def parse_shapes(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        if part.strip():
            rows, cols = part.lower().split("x")
            out.append((int(rows), int(cols)))
    return out


def main(argv: list[str] | None = None) -> None:
    t0 = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--cells", required=True, help="output table shapes, ROWSxCOLS,ROWSxCOLS,...")
    ap.add_argument("--writer", choices=("xlsxwriter", "fast"), default="xlsxwriter",
                    help="XlsxWriter (default) or rustpy-xlsxwriter (fast)")
    a = ap.parse_args(argv)
    read = read_inputs(a.input)
    write = write_outputs_fast if a.writer == "fast" else write_outputs
    written = write(a.output, parse_shapes(a.cells))
    print(json.dumps({"cells_read": read, "cells_written": written,
                      "seconds": round(time.perf_counter() - t0, 3)}))


if __name__ == "__main__":
    main()
