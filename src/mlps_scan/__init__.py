"""mlps-scan: evidence-first MLPS 2.0 (等级保护 2.0) technical pre-assessment."""
__version__ = "0.1.0"
