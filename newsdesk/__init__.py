"""The ``newsdesk`` command line; the library lives in :mod:`qa` (``from qa import Assistant``)."""
