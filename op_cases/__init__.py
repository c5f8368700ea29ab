"""Op cases: one module per op family, pairing each mapping with its cases."""
