"""CloudLink: enterprise video conferencing with a native media engine.

The package stays light to import: the native engine (``cloudlink._native``)
and the media layer (``cloudlink.media``) load only when used.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
