"""The ``xl-addin`` command line (:mod:`.app` holds the group and the master commands,
:mod:`.commands` the regional, email, explain and demo commands)."""
from .app import main

__all__ = ["main"]
