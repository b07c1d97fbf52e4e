"""Platform and business metrics from rollups kept by jobs (never by scanning every booking on a view)."""
