"""Reports: one workbook per sales region, with a bonus statement per rep."""
