"""Usage people can see: daily rollups per metric, metrics, charts and a CSV export."""
