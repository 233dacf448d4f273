"""Results: one JSON file per finished item (the source of truth), tidy tables and aggregation."""
