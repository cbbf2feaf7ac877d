"""The report: every registered table and figure built from processed tables."""
