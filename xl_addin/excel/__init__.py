"""The Excel side of xl_addin: building, installing and removing the xl_addin.xlam add-in."""
