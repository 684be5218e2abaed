"""Unit tests of the database-free duplicate detection core (§5, §9)."""
