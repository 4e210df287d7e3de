"""Recalculate this workbook with xlwings' standard add-in, without the xl_addin ribbon.

xlwings' "Run main" button runs ``main()`` of the Python module named like the workbook
(sales_plan_2026.xlsx -> sales_plan_2026.py, in the same folder). It runs the same macro
as our ribbon's 重算奖金 (Recalculate bonuses) button.
"""
from xl_addin.excel.macros import recalc


def main(book=None):
    """Recalculate every output table of the calling workbook."""
    recalc(book)


if __name__ == "__main__":  # xlwings runs main() itself; this is for a quick manual test
    main()
