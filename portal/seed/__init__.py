"""Loading data in bulk: the demo data's large tables (``tables``)."""
