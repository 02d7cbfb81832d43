"""Outputs: JSON Lines records, rich tables, self-contained HTML reports."""
