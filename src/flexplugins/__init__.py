"""flexplugins: a self-hosted, wire-compatible Flex Plugins API (Plugin Service v1)."""

__version__ = "0.1.0"
