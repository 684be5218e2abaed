"""Predictive lead scoring: models trained on the organisation's own closed leads, and the scores,
grades, trends and reasons of its open ones."""
