"""Checks: what is wrong with the figures, as Findings (see base.py for the four scopes)."""
