"""Figures drawn from the sales data: the dashboard (later the pipeline board and the forecast)."""
