"""xl_addin: tested Python behind the sales plan workbook."""
__version__ = "0.1.0"
