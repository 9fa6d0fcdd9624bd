"""Tokens, roles and (later) the audit chain."""
