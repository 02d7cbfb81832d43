"""Official metrics and dataset readers."""
